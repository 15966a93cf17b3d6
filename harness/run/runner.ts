// A run: validate -> boot topology -> seed -> start workload and observers -> steady state before
// (a failure skips the method: status `failed`) -> method -> rollbacks -> steady state after ->
// delivery (expect.delivered only) -> analyze -> write outputs -> tear down. Teardown always
// happens, also on Ctrl-C (status `interrupted`) and on any error (status `aborted`); the journal
// is written in every case once the experiment was valid. This module only orders the phases:
// each lives in a module named after it, and where the topology runs is the platform's business
// (harness/platform/).
import fs from 'node:fs'
import path from 'node:path'
import { loadExperiment, InvalidExperiment, type Experiment } from '../experiment/index.js'
import type { RunStatus, SteadyStateResult, Journal } from '../analyze/index.js'
import { DEFAULT_PLATFORM, loadPlatform, type PlatformName } from '../platform/registry.js'
import { newRunId } from '../platform/paths.js'
import type { StartedTopology, TopologyEvent } from '../platform/started.js'
import { BootAborted, CustomerFailed } from '../topology/errors.js'
import { ClientRecorder } from '../workload/recorder.js'
import { TimelineWriter } from '../observe/timeline.js'
import type { ActionContext } from '../faults/index.js'
import { fleetPeaks, topologyOf } from './topology-of.js'
import { writeOutputs, defaultOutDir, linkLatest } from './outputs.js'
import { type Progress, silentProgress } from './progress.js'
import { RunContext, RunInterrupted } from './context.js'
import { Wiring } from './wiring.js'
import { checkHypothesis, hypothesisWindowMs } from './hypothesis.js'
import { runMethod } from './method.js'
import { runRollbacks } from './rollbacks.js'
import { assembleJournal } from './journal.js'
import { checkDelivery, liveDeliveryDeps } from './delivery.js'

export const EXIT = { ok: 0, expectationFailed: 1, badInput: 2, interrupted: 130 } as const

export interface RunOptions {
  file: string
  platform?: PlatformName
  out?: string
  seed?: number
  sets?: string[]
  /** false: front-ends cap their own threads even where the platform could use the OS's limit. */
  osThreadLimit?: boolean
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
  // What the platform needs of each customer service (a command, an image) is known before anything starts.
  const platform = opts.platform ?? DEFAULT_PLATFORM
  const runsOn = await loadPlatform(platform)
  const issues = exp.topology.customers.flatMap((c, i) => runsOn.customerIssue(c, `topology.customers[${i}]`) ?? [])
  if (issues.length > 0) {
    progress.error(new InvalidExperiment(opts.file, issues).message)
    return { exitCode: EXIT.badInput }
  }
  const outDir = path.resolve(opts.out ?? defaultOutDir(exp, opts.runsRoot ?? process.cwd()))
  fs.mkdirSync(outDir, { recursive: true })
  if (!opts.out) linkLatest(outDir)
  return new Run(exp, outDir, platform, opts, progress).execute()
}

/** The last lines of a log file ('' when it cannot be read), for a customer's exit message. */
function logTail(file: string, lines = 12): string {
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const size = fs.fstatSync(fd).size
      const buf = Buffer.alloc(Math.min(size, 4096))
      fs.readSync(fd, buf, 0, buf.length, size - buf.length)
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n')
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return ''
  }
}

class Run {
  readonly run: RunContext
  readonly timeline: TimelineWriter
  readonly recorder: ClientRecorder
  readonly wiring: Wiring
  status: RunStatus = 'completed'
  steadyBefore: SteadyStateResult = { met: true, probes: [] }
  steadyAfter: SteadyStateResult = { met: true, probes: [] }
  topology?: StartedTopology
  startedAt = new Date()
  /** The platform's run id, chosen here so the journal names it even when the boot fails (every process of the run carries it). */
  readonly runId = newRunId()
  failure?: Error
  /** A customer service that exited while the run needed it: the run ends with it (status aborted). */
  customerFailure?: CustomerFailed
  private readonly customers: Set<string>
  /** Services an action killed on purpose: their exit is the method's doing. */
  private readonly killed = new Set<string>()

  constructor(
    readonly exp: Experiment,
    readonly outDir: string,
    readonly platform: PlatformName,
    readonly opts: RunOptions,
    readonly progress: Progress,
  ) {
    this.run = new RunContext(progress, opts.signal)
    this.timeline = new TimelineWriter(path.join(outDir, 'timeline.jsonl'), { keep: true })
    this.recorder = new ClientRecorder(() => this.run.clock())
    this.wiring = new Wiring(this.run, exp, this.recorder, this.timeline)
    this.customers = new Set(exp.topology.customers.map((c) => c.name))
  }

  async execute(): Promise<RunResult> {
    const { exp, run } = this
    this.progress.start(exp, this.outDir)
    try {
      run.phase('boot')
      this.topology = await this.boot()
      run.phase('seed')
      const window = hypothesisWindowMs(exp)
      await this.wiring.start(this.topology, window)
      run.phase('steady-state-before')
      await run.sleepUntil(0)
      this.steadyBefore = checkHypothesis(run, exp, this.timeline.kept!, 0, 'before')
      if (!this.steadyBefore.met) {
        this.status = 'failed'
        run.emit('log', { message: 'the steady state did not hold before the method: the method is not run' })
      } else {
        run.phase('method')
        await runMethod(run, exp, this.timeline.kept!, () => this.actionContext())
        run.phase('rollbacks')
        await runRollbacks(run, exp, () => this.actionContext())
        run.phase('steady-state-after')
        await run.sleepUntil(run.clock() + SETTLE_MS + window)
        this.steadyAfter = checkHypothesis(run, exp, this.timeline.kept!, run.clock(), 'after')
        if (exp.expect.delivered?.length) {
          run.phase('delivery')
          await this.checkDeliveries()
        }
      }
    } catch (err) {
      const customer = this.customerFailure ?? (err instanceof CustomerFailed ? err : undefined)
      if (customer) {
        // The user's service failed, not the harness: its message says all (name, exit code, log), no stack.
        this.status = 'aborted'
        this.failure = customer
        run.emit('log', { level: 'error', message: `run aborted: ${customer.message.split('\n')[0]}` })
        this.progress.error(`run aborted: ${customer.message}`)
      } else if (err instanceof RunInterrupted || err instanceof BootAborted || run.signal.aborted) {
        this.status = 'interrupted'
      } else {
        this.status = 'aborted'
        this.failure = err as Error
        run.emit('log', { level: 'error', message: `run aborted: ${(err as Error).message}` })
        this.progress.error(`run aborted: ${(err as Error).stack ?? err}`)
      }
    } finally {
      await this.teardown()
    }
    return this.finish()
  }

  async boot(): Promise<StartedTopology> {
    const topology = topologyOf(this.exp)
    const platform = await loadPlatform(this.platform)
    return platform.start(topology, {
      runId: this.runId,
      runDir: this.outDir,
      // The run measures a cascade: the platform keeps the customers and the observer ahead of its services.
      measured: true,
      fleetPeaks: fleetPeaks(this.exp, topology),
      ...(this.opts.osThreadLimit === false ? { osThreadLimit: false } : {}),
      // Ctrl-C belongs to the run, which tears down after writing its journal.
      signals: false,
      signal: this.run.signal,
      onEvent: (e) => {
        this.run.emit(e.kind, e.detail)
        this.watchCustomers(e)
      },
    })
  }

  /**
   * A customer service that exits once the run is under way (the boot reports its own failures)
   * ends the run: nothing could judge it any more. An exit an action caused (kill) is the method's.
   */
  watchCustomers(e: TopologyEvent): void {
    const name = String(e.detail.name ?? '')
    if (e.kind === 'member-killed') this.killed.add(name)
    if (e.kind !== 'service-exited' || !this.customers.has(name) || !this.topology || this.customerFailure || this.killed.has(name)) return
    const exit = { code: (e.detail.code as number | null) ?? null, signal: (e.detail.signal as string | null) ?? null }
    const at = this.run.hasOrigin ? ` (at ${(this.run.clock() / 1000).toFixed(1)}s of the method)` : ''
    const logFile = this.topology.logFileOf(name)
    this.customerFailure = new CustomerFailed(name, `exited while the run needed it${at}`, exit, logFile, logTail(logFile))
    this.run.abort.abort()
  }

  /** expect.delivered: each customer's acknowledged events looked for in its stream, one `delivery` event each. */
  async checkDeliveries(): Promise<void> {
    const e = this.topology!.endpoints()
    for (const x of this.exp.expect.delivered ?? []) {
      const deps = liveDeliveryDeps(
        x,
        { customerUrl: e.services[x.customer] ?? '', kinesis: e.kinesis ?? '', region: e.region, credentials: e.credentials },
        this.run.signal,
      )
      try {
        const report = await checkDelivery(x, deps)
        this.run.emit('delivery', { ...report })
      } finally {
        deps.close()
      }
      this.run.checkInterrupt()
    }
  }

  actionContext(): ActionContext {
    const postStatus = this.wiring.postStatus
    return { topology: this.topology!, signal: this.run.signal, ...(postStatus ? { postStatus } : {}) }
  }

  async teardown(): Promise<void> {
    this.progress.phase('teardown')
    // Nothing here may throw: every step is attempted whatever happened before.
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn()
      } catch (err) {
        this.run.record('log', { level: 'warn', message: `teardown: ${what}: ${(err as Error).message}` })
      }
    }
    await this.wiring.stop(step)
    await step('topology', () => this.topology?.stop())
    await step('timeline', () => this.timeline.close())
  }

  finish(): RunResult {
    this.run.settleOrigin()
    // Everything is stopped by now: a signal in these two phases only decides what gets written.
    this.progress.phase('analysis')
    const journal = assembleJournal({
      exp: this.exp,
      platform: this.platform,
      status: this.status,
      startedAt: this.startedAt,
      endedAt: new Date(),
      topology: this.topology,
      steadyBefore: this.steadyBefore,
      steadyAfter: this.steadyAfter,
      events: this.run.events,
      timeline: this.timeline.kept!,
      recorder: this.recorder,
      failure: this.failure,
      runId: this.runId,
    })
    this.progress.phase('report')
    writeOutputs(this.outDir, journal, this.timeline.kept)
    this.progress.done(journal, this.outDir)
    const met = journal.expectations.every((x) => x.met)
    const exitCode = this.status === 'interrupted' ? EXIT.interrupted : this.status === 'completed' && met ? EXIT.ok : EXIT.expectationFailed
    return { exitCode, outDir: this.outDir, journal }
  }
}
