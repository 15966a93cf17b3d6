// A run (DESIGN.md "A run"): validate -> boot topology -> seed -> start workload and observers ->
// steady state before -> method -> rollbacks -> steady state after -> analyze -> write outputs ->
// tear down. Teardown always happens, also on Ctrl-C (status `interrupted`) and on any error
// (status `aborted`); the journal is written in every case once the experiment was valid.
import fs from 'node:fs'
import path from 'node:path'
import { loadExperiment, InvalidExperiment, type Experiment, type Action, type Probe, type ServiceName } from '../experiment/index.js'
import { analyzeRun, evaluateHypothesis, evaluateProbe, SeriesIndex, type Journal, type JournalEvent, type RunStatus, type SteadyStateResult } from '../analyze/index.js'
import type { StartedTopology } from '../platform/started.js'
import { LocalBackend } from '../platform/local/started.js'
import { BootAborted } from '../topology/errors.js'
import { seededRandom } from '../../services/kit/prng.js'
import { ClientRecorder } from '../workload/recorder.js'
import { customerClients, type CustomerClients } from '../workload/clients.js'
import { seedCustomers, startWorkload, type Workload } from '../workload/customers.js'
import { EventTarget } from '../workload/event-target.js'
import { Observer } from '../observe/observer.js'
import { TimelineWriter } from '../observe/timeline.js'
import { PROVIDERS, type ActionContext } from '../faults/actions.js'
import { fleetPeaks, topologyOf } from './topology-of.js'
import { ThreadAlarm } from './thread-alarm.js'
import { statusPoster } from './status-posting.js'
import { writeOutputs, defaultOutDir, linkLatest } from './outputs.js'
import { type Progress, silentProgress } from './progress.js'

export const EXIT = { ok: 0, expectationFailed: 1, badInput: 2, interrupted: 130 } as const

export interface RunOptions {
  file: string
  backend?: 'local' | 'compose'
  out?: string
  seed?: number
  sets?: string[]
  cgroups?: boolean
  progress?: Progress
  /** Aborting it interrupts the run (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal
  /** Where `runs/` lives (default: the working directory). */
  runsRoot?: string
}

export interface RunResult {
  exitCode: number
  outDir?: string
  journal?: Journal
}

class RunInterrupted extends Error {
  constructor() {
    super('interrupted')
    this.name = 'RunInterrupted'
  }
}

const SERVICES_NICE = 5
/**
 * Containers are weighted like host tasks at nice 0, not 5: their starts and their published
 * ports go through dockerd, containerd and docker-proxy, host tasks at nice 0 themselves. At the
 * nice-5 weight (335) the services fell behind that plumbing during the capacity addition
 * (Cognito and CloudWatch p99 up to 2.5 s before Kinesis broke: onset order failed, 1 of 2 runs);
 * at 1024, 2 of 2 held. Where the engine keeps its own placement, this is not applied.
 */
const COMPOSE_SERVICES_NICE = 0
/** Before the method: traffic runs this long before the hypothesis window starts. */
const WARMUP_MS = 3_000
/** After the method: time the system gets before the steady state is checked again. */
const SETTLE_MS = 2_000

export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const progress = opts.progress ?? silentProgress
  let exp: Experiment
  try {
    exp = await loadExperiment(opts.file, { sets: opts.sets ?? [], seed: opts.seed })
  } catch (err) {
    if (err instanceof InvalidExperiment) {
      progress.error(err.message)
      return { exitCode: EXIT.badInput }
    }
    throw err
  }
  const backendName = opts.backend ?? 'local'
  const outDir = path.resolve(opts.out ?? defaultOutDir(exp, opts.runsRoot ?? process.cwd()))
  fs.mkdirSync(outDir, { recursive: true })
  if (!opts.out) linkLatest(outDir)
  const run = new Run(exp, outDir, backendName, opts, progress)
  return run.execute()
}

class Run {
  readonly events: JournalEvent[] = []
  status: RunStatus = 'completed'
  steadyBefore: SteadyStateResult = { met: true, probes: [] }
  steadyAfter: SteadyStateResult = { met: true, probes: [] }
  topology?: StartedTopology
  clients?: CustomerClients
  workload?: Workload
  observer?: Observer
  eventTarget?: EventTarget
  timeline: TimelineWriter
  recorder: ClientRecorder
  /** Wall-clock ms of the method's start; the run's time origin. */
  t0 = Number.POSITIVE_INFINITY
  startedAt = new Date()
  abort = new AbortController()
  pending = new Set<Promise<unknown>>()
  failure?: Error

  constructor(
    readonly exp: Experiment,
    readonly outDir: string,
    readonly backendName: 'local' | 'compose',
    readonly opts: RunOptions,
    readonly progress: Progress,
  ) {
    this.timeline = new TimelineWriter(path.join(outDir, 'timeline.jsonl'), { keep: true })
    this.recorder = new ClientRecorder(() => this.clock())
    opts.signal?.addEventListener('abort', () => this.abort.abort(), { once: true })
  }

  clock(): number {
    return Number.isFinite(this.t0) ? Date.now() - this.t0 : -1e9
  }

  /** Events before the origin is known keep their wall time; finish() turns it into atMs. */
  readonly #wall = new WeakMap<JournalEvent, number>()

  emit(kind: string, detail: Record<string, unknown>): void {
    const e = { atMs: Number.isFinite(this.t0) ? Math.round(this.clock()) : 0, kind, detail }
    if (!Number.isFinite(this.t0)) this.#wall.set(e, Date.now())
    this.events.push(e)
    this.progress.event(e)
  }

  phase(name: string): void {
    this.checkInterrupt()
    this.emit('phase', { phase: name })
    this.progress.phase(name)
  }

  checkInterrupt(): void {
    if (this.abort.signal.aborted) throw new RunInterrupted()
  }

  async sleepUntil(atMs: number): Promise<void> {
    const wait = atMs - this.clock()
    if (wait <= 0) return this.checkInterrupt()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait)
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      }, { once: true })
    })
    this.checkInterrupt()
  }

  async execute(): Promise<RunResult> {
    const exp = this.exp
    this.progress.start(exp, this.outDir)
    try {
      this.phase('boot')
      this.topology = await this.boot()
      this.phase('seed')
      await this.seedAndStart()
      const hypothesisWindow = this.hypothesisWindow()
      this.phase('steady-state-before')
      await this.sleepUntil(0)
      this.steadyBefore = this.hypothesis(0, 'before')
      if (!this.steadyBefore.met) {
        this.status = 'failed'
        this.emit('log', { message: 'the steady state did not hold before the method: the method is not run' })
      } else {
        this.phase('method')
        await this.method()
        this.phase('rollbacks')
        await this.rollbacks()
        this.phase('steady-state-after')
        const settleUntil = this.clock() + SETTLE_MS + hypothesisWindow
        await this.sleepUntil(settleUntil)
        this.steadyAfter = this.hypothesis(this.clock(), 'after')
      }
    } catch (err) {
      if (err instanceof RunInterrupted || err instanceof BootAborted || this.abort.signal.aborted) {
        this.status = 'interrupted'
      } else {
        this.status = 'aborted'
        this.failure = err as Error
        this.emit('log', { level: 'error', message: `run aborted: ${(err as Error).message}` })
        this.progress.error(`run aborted: ${(err as Error).stack ?? err}`)
      }
    } finally {
      await this.teardown()
    }
    return this.finish()
  }

  async boot(): Promise<StartedTopology> {
    const topology = topologyOf(this.exp)
    if (this.backendName === 'compose') {
      const { ComposeBackend } = await import('../platform/compose/started.js')
      // signals: false — Ctrl-C belongs to the run, which tears down after writing its journal.
      return new ComposeBackend(topology, { runDir: this.outDir, fleetPeaks: fleetPeaks(this.exp, topology), servicesNice: COMPOSE_SERVICES_NICE, signals: false, signal: this.abort.signal, onEvent: (e: any) => this.emit(e.kind, e.detail) }).start()
    }
    return new LocalBackend(topology, {
      // The customers and the observer share two cores with twenty services. Running the services
      // one notch of niceness below the harness keeps the measurement from being distorted by the
      // very cold starts it measures (the customers of 2020 did not share AWS's CPUs).
      servicesNice: SERVICES_NICE,
      runDir: this.outDir,
      cgroups: this.opts.cgroups,
      signals: false,
      signal: this.abort.signal,
      onEvent: (e) => this.emit(e.kind, e.detail),
    }).start()
  }

  async seedAndStart(): Promise<void> {
    const exp = this.exp
    const topo = this.topology!
    const e = topo.endpoints()
    const has = (s: string) => (exp.topology.services as string[]).includes(s)
    const w = exp.workload
    this.clients = customerClients(
      {
        kinesis: e.kinesis,
        ...(has('cloudwatch') ? { cloudwatch: e.services.cloudwatch } : {}),
        ...(has('eventbridge') ? { eventbridge: e.services.eventbridge } : {}),
        ...(has('cognito') ? { cognito: e.services.cognito } : {}),
        ...(has('lambda') ? { lambda: e.services.lambda } : {}),
        ...(has('autoscaler') ? { autoscaler: e.services.autoscaler } : {}),
      },
      { region: e.region, credentials: e.credentials },
      { timeoutMs: w.clientTimeoutMs, maxAttempts: w.retries.maxAttempts, retryMode: w.retries.mode },
    )
    if (has('eventbridge')) this.eventTarget = await new EventTarget(() => this.clock()).start()
    const seeded = await seedCustomers(this.clients, { eventTarget: this.eventTarget, withOperator: has('status-page'), autoscalerUrl: has('autoscaler') ? e.services.autoscaler : undefined, streamShards: w.streamShards })
    this.emit('log', { message: 'customers seeded', shards: seeded.shards.length, userPool: seeded.userPool?.id })
    this.checkInterrupt()

    // The time origin: the method starts once traffic warmed up and filled the hypothesis window.
    // Observation starts with the workload, so that window has data (at negative times).
    this.t0 = Date.now() + WARMUP_MS + this.hypothesisWindow()
    for (const e of this.events) if (this.#wall.has(e)) e.atMs = this.#wall.get(e)! - this.t0
    const alarm = exp.topology.threadAlarm.enabled
      ? new ThreadAlarm({
          threshold: exp.topology.threadAlarm.threshold,
          read: (s, m) => this.observer?.lastValue(s, m),
          members: () => topo.services().filter((s) => s.kind === 'kinesis-frontend' && s.state === 'running').map((s) => s.name),
          emit: (detail) => this.emit('alarm', detail),
        })
      : undefined
    this.observer = new Observer({
      topology: topo,
      recorder: this.recorder,
      writer: this.timeline,
      clock: () => this.clock(),
      extra: () => {
        alarm?.evaluate()
        if (!this.eventTarget) return []
        return [
          { service: 'eventbridge', metric: 'client.delivery_delay_ms', value: this.eventTarget.takeDelay() },
          { service: 'eventbridge', metric: 'client.delivered', value: this.eventTarget.delivered },
        ]
      },
    })
    this.observer.start()
    this.progressTimer = setInterval(() => this.progress.services(this.recorder.window(), this.clock()), 1_000)
    const random = seededRandom(`${exp.seed}:workload`)
    const maxDurationMs = 60_000 + exp.durationMs * 3
    this.workload = startWorkload(this.clients, seeded, {
      rates: w.rates,
      random,
      recorder: this.recorder,
      maxDurationMs,
      timeoutMs: w.clientTimeoutMs,
      statusPageUrl: has('status-page') ? e.services['status-page'] : undefined,
      clock: () => this.clock(),
    })
    this.statusPoster = has('status-page')
      ? statusPoster({ statusPageUrl: e.services['status-page'], cognitoUrl: e.services.cognito, operator: seeded.operator, operatorKey: topo.secret('operator-key'), credentials: e.credentials, region: e.region })
      : undefined
  }

  statusPoster?: ReturnType<typeof statusPoster>
  progressTimer?: NodeJS.Timeout

  hypothesisWindow(): number {
    return Math.max(0, ...(this.exp.steadyStateHypothesis?.probes ?? []).map((p) => p.windowMs))
  }

  hypothesis(atMs: number, phase: 'before' | 'after'): SteadyStateResult {
    const result = evaluateHypothesis(this.exp.steadyStateHypothesis, new SeriesIndex(this.timeline.kept!), atMs)
    for (const p of result.probes) this.emit('probe', { name: p.name, phase, met: p.met, value: p.value, detail: p.detail })
    return result
  }

  actionContext(): ActionContext {
    return { topology: this.topology!, signal: this.abort.signal, ...(this.statusPoster ? { postStatus: this.statusPoster } : {}) }
  }

  async runAction(a: Action, phase: 'method' | 'rollbacks'): Promise<void> {
    const { provider: _provider, ...rawArgs } = a.args as Record<string, unknown> & { provider: string }
    const args: Record<string, unknown> = { ...rawArgs }
    if (a.provider === 'inject-fault' && typeof args.target === 'string') {
      // A fault on the calls to a service: match them by that service's origin.
      const e = this.topology!.endpoints()
      const url = args.target === 'kinesis' ? e.kinesis : e.services[args.target]
      args.match = { ...(args.match as object), origin: new URL(url!).origin }
      delete args.target
    }
    this.emit('action-start', { name: a.name, provider: a.provider, phase, args })
    try {
      const result = await PROVIDERS[a.provider](args, this.actionContext())
      this.emit('action-end', { name: a.name, provider: a.provider, phase, ok: true, result })
    } catch (err) {
      // ActionFailed is recorded, never thrown past the runner: the run goes on (Chaos Toolkit).
      this.emit('action-end', { name: a.name, provider: a.provider, phase, ok: false, error: (err as Error).message, ...((err as any).detail ? { result: (err as any).detail } : {}) })
    }
  }

  async method(): Promise<void> {
    const exp = this.exp
    const timers: NodeJS.Timeout[] = []
    for (const activity of exp.method) {
      const start = () => {
        if (this.abort.signal.aborted) return
        if (activity.type === 'probe') {
          const p = evaluateProbe(activity as Probe, new SeriesIndex(this.timeline.kept!), this.clock())
          this.emit('probe', { name: p.name, phase: 'method', met: p.met, value: p.value, detail: p.detail })
          return
        }
        const run = this.runAction(activity as Action, 'method')
        this.pending.add(run)
        void run.finally(() => this.pending.delete(run))
      }
      const delay = (activity.atMs ?? 0) - this.clock()
      timers.push(setTimeout(start, Math.max(0, delay)))
    }
    try {
      await this.sleepUntil(exp.durationMs)
      // Actions still running (a slow paced restart) finish before the rollbacks start.
      while (this.pending.size) {
        this.checkInterrupt()
        await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 250))])
      }
    } finally {
      for (const t of timers) clearTimeout(t)
    }
  }

  async rollbacks(): Promise<void> {
    for (const a of this.exp.rollbacks) {
      this.checkInterrupt()
      await this.runAction(a, 'rollbacks')
    }
  }

  async teardown(): Promise<void> {
    this.progress.phase('teardown')
    // Nothing here may throw: every step is attempted whatever happened before.
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn()
      } catch (err) {
        this.events.push({ atMs: Math.round(this.clock()), kind: 'log', detail: { level: 'warn', message: `teardown: ${what}: ${(err as Error).message}` } })
      }
    }
    await step('workload', () => this.workload?.stop())
    clearInterval(this.progressTimer)
    await step('observer', () => this.observer?.stop())
    await step('clients', () => this.clients?.destroy())
    await step('event target', () => this.eventTarget?.stop())
    await step('topology', () => this.topology?.stop())
    await step('timeline', () => this.timeline.close())
  }

  finish(): RunResult {
    const exp = this.exp
    // A run that never reached the origin (bad boot, Ctrl-C while seeding) counts from its end.
    if (!Number.isFinite(this.t0)) this.t0 = Date.now()
    for (const e of this.events) if (this.#wall.has(e)) e.atMs = this.#wall.get(e)! - this.t0
    const endedAt = new Date()
    const analysis = Number.isFinite(this.t0) && this.timeline.kept!.length
      ? analyzeRun({ experiment: exp, timeline: this.timeline.kept!, events: this.events, steadyStateAfter: this.status === 'completed' ? this.steadyAfter : undefined })
      : undefined
    const expectations = analysis?.expectations ?? []
    const journal: Journal = {
      title: exp.title,
      experiment: exp,
      backend: this.backendName,
      seed: exp.seed,
      status: this.status,
      deviated: this.status === 'completed' && !this.steadyAfter.met,
      startedAt: this.startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - this.startedAt.getTime(),
      threadLimitEnforcement: this.topology?.threadLimitEnforcement ?? 'unknown',
      ...(this.topology ? { runId: this.topology.runId } : {}),
      steadyState: { before: this.steadyBefore, after: this.steadyAfter },
      events: this.events,
      services: analysis?.services ?? {},
      cascade: analysis?.cascade ?? [],
      ...(analysis ? { blastRadius: analysis.blastRadius, recovery: analysis.recovery, probes: analysis.probes } : {}),
      expectations,
      fidelity: analysis?.fidelity ?? { score: null, checks: [] },
      ...(this.failure ? { error: this.failure.message } : {}),
      ...clientTotals(this.recorder, exp),
    } as Journal
    writeOutputs(this.outDir, journal)
    this.progress.done(journal, this.outDir)
    const exitCode =
      this.status === 'interrupted' ? EXIT.interrupted : this.status === 'completed' && expectations.every((x) => x.met) ? EXIT.ok : EXIT.expectationFailed
    return { exitCode, outDir: this.outDir, journal }
  }
}

/** Error types the customers saw, per service (the journal's services[].errorTypes). */
function clientTotals(recorder: ClientRecorder, exp: Experiment): { clientErrors: Record<string, Record<string, number>> } {
  const out: Record<string, Record<string, number>> = {}
  for (const [service, t] of recorder.totals()) {
    if (service === 'kinesis' || (exp.topology.services as ServiceName[]).includes(service as ServiceName)) out[service] = t.errors
  }
  return { clientErrors: out }
}
