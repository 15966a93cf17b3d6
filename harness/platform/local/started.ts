// The local backend: every service of a topology is a child process on 127.0.0.1, booted in
// dependency order, each front-end inside its own pids cgroup so its thread limit is the OS's.
// `new LocalBackend(topology, opts)` only records settings; `start()` does all the I/O and
// returns a StartedTopology. Nothing outlives the harness: services watch their parent, the
// harness stops them on SIGINT/SIGTERM, and a detached reaper cleans up after a SIGKILLed harness.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { bootWaves, fleetMember, memberCell, memberNumber, validateTopology, MAX_FLEET_SIZE, type EnvSpec, type FleetSpec, type ServiceSpec, type Topology } from '../../topology/model.js'
import { BootAborted, InvalidOperation, MissingProgram, ServiceNotReady } from '../../topology/errors.js'
import { detectPidsCgroups, cleanStaleCgroups, RunCgroups, type PidsCgroups } from './cgroups.js'
import { ServiceProcess } from './process.js'
import { waitForHealth, getHealth, type WaitOutcome } from '../readiness.js'
import { freePorts } from '../ports.js'
import { checkRestartOptions, runRestart } from '../../topology/restart-plan.js'
import { registerMember, deregisterMember } from '../membership.js'
import { writeRunState, RUN_ID_ENV } from './run-state.js'
import type {
  Endpoints, HealthProbe, RestartOptions, RestartResult, ScaleOptions, ScaleResult, ServiceState, ServiceStatus,
  StartedTopology, ThreadLimitEnforcement, TopologyEvent,
} from '../started.js'

/** A front-end removed from its fleet exits with EX_TEMPFAIL (services/kinesis/frontend/main.ts). */
const EXIT_REMOVED_FROM_FLEET = 75

export interface LocalBackendOptions {
  /** Where logs, data and the run's state go; default `.outage-lab/runs/<runId>`. */
  runDir?: string
  runId?: string
  /** The build output holding the services' entry files; default `<package>/dist`. */
  distDir?: string
  adminToken?: string
  /** false: never use cgroups (enforcement 'process'); default: detect. */
  cgroups?: boolean
  /** Stop the run on SIGINT/SIGTERM, then re-raise the signal (default true). */
  signals?: boolean
  /** Start the detached reaper (default true). */
  reaper?: boolean
  /** SIGTERM -> SIGKILL grace when stopping a service. */
  stopGraceMs?: number
  /** Extra env for every service (LOG_LEVEL...). */
  env?: Record<string, string>
  onEvent?: (event: TopologyEvent) => void
  /** Aborting it during start() stops what started and rejects with BootAborted. */
  signal?: AbortSignal
  /** Run every service at this niceness (the launcher keeps its own): see harness/run/runner.ts. */
  servicesNice?: number
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)))

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d
    if (path.dirname(d) === d) return process.cwd()
  }
}

/** "<time>-p<pid>-<hex>": sortable, and names its harness so stale cgroups can be told apart. */
export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  return `${t}-p${process.pid}-${randomBytes(2).toString('hex')}`.toLowerCase()
}

export class LocalBackend {
  readonly topology: Topology
  readonly options: LocalBackendOptions
  constructor(topology: Topology, options: LocalBackendOptions = {}) {
    validateTopology(topology)
    this.topology = topology
    this.options = options
  }

  async start(): Promise<StartedLocalTopology> {
    const run = new StartedLocalTopology(this.topology, this.options)
    await run.boot()
    return run
  }
}

interface Member {
  spec: ServiceSpec
  fleet?: FleetSpec
  port: number
  url: string
  proc?: ServiceProcess
  state: ServiceState
  restarts: number
  cgroupProcs?: string
}

export class StartedLocalTopology implements StartedTopology {
  readonly runId: string
  readonly runDir: string
  readonly adminToken: string
  readonly threadLimitEnforcement: ThreadLimitEnforcement
  readonly enforcementNote?: string
  readonly cgroupDir?: string
  readonly topology: Topology
  private readonly opts: LocalBackendOptions
  private readonly distDir: string
  private readonly cgroups?: RunCgroups
  private readonly members = new Map<string, Member>()
  private readonly fleets = new Map<string, { spec: FleetSpec; count: number; queue: Promise<unknown> }>()
  private readonly secrets = new Map<string, string>()
  private readonly partitions = new Map<string, string[]>()
  private readonly startedAt = Date.now()
  private readonly stateFile: string
  private reaperPid?: number
  private stopping?: Promise<void>
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = []
  private readonly onExit = () => this.killAllSync()

  constructor(topology: Topology, opts: LocalBackendOptions) {
    this.topology = topology
    this.opts = opts
    this.runId = opts.runId ?? newRunId()
    this.runDir = path.resolve(opts.runDir ?? path.join('.outage-lab', 'runs', this.runId))
    this.distDir = path.resolve(opts.distDir ?? path.join(PACKAGE_ROOT, 'dist'))
    this.adminToken = opts.adminToken ?? randomBytes(16).toString('hex')
    this.stateFile = path.join(this.runDir, 'supervisor.json')
    const support: PidsCgroups = opts.cgroups === false ? { kind: 'none', reason: 'cgroups disabled by the caller' } : detectPidsCgroups()
    if (support.kind === 'none') {
      this.threadLimitEnforcement = 'process'
      this.enforcementNote = `no pids cgroup: ${support.reason}; front-ends cap their own threads`
    } else {
      this.threadLimitEnforcement = 'cgroup'
      this.cgroups = new RunCgroups(support, this.runId)
      this.cgroupDir = this.cgroups.dir
      const stale = cleanStaleCgroups(support.root)
      if (stale.length) this.emit('cgroups', { removedStale: stale })
    }
  }

  // ---- boot ---------------------------------------------------------------------------------

  async boot(): Promise<void> {
    const waves = bootWaves(this.topology)
    for (const s of this.topology.services) this.program(s)
    for (const f of this.topology.fleets) this.program(fleetMember(f, 1))
    if (this.opts.reaper !== false && !fs.existsSync(this.reaperProgram())) throw new MissingProgram('reaper', this.reaperProgram())
    fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true })
    fs.mkdirSync(path.join(this.runDir, 'data'), { recursive: true })

    // Every address is known before anything starts: services name each other in their env.
    const initial: { spec: ServiceSpec; fleet?: FleetSpec }[] = [...this.topology.services.map((spec) => ({ spec }))]
    for (const f of this.topology.fleets) {
      this.fleets.set(f.name, { spec: f, count: f.count, queue: Promise.resolve() })
      for (let n = 1; n <= f.count; n++) initial.push({ spec: fleetMember(f, n), fleet: f })
    }
    const ports = await freePorts(initial.length)
    initial.forEach(({ spec, fleet }, i) => this.members.set(spec.name, this.member(spec, ports[i], fleet)))

    this.writeState()
    if (this.opts.reaper !== false) this.startReaper()
    this.installExitHandlers()
    const abort = () => void this.stop()
    this.opts.signal?.addEventListener('abort', abort, { once: true })
    try {
      for (const wave of waves) {
        if (this.opts.signal?.aborted) throw new BootAborted()
        const ready: Promise<void>[] = []
        for (const node of wave) {
          if ('service' in node) ready.push(this.startAndWait(this.members.get(node.service.name)!))
          else ready.push(this.bootFleet(node.fleet))
        }
        // The first failure ends the boot: the others' waits end as their processes are stopped.
        await Promise.all(ready)
        if (this.opts.signal?.aborted) throw new BootAborted()
      }
    } catch (err) {
      // Nothing half-started leaks: tear everything down, then tell why.
      await this.stop()
      throw this.opts.signal?.aborted ? new BootAborted() : err
    } finally {
      this.opts.signal?.removeEventListener('abort', abort)
    }
  }

  private async bootFleet(fleet: FleetSpec): Promise<void> {
    const members = this.fleetMembers(fleet.name)
    // Registered before they start: each member's first snapshot holds the whole fleet, so a
    // fresh topology does not spend its learn delay discovering itself.
    const membership = this.members.get(fleet.membership)!
    for (const m of members) await registerMember(membership.url, fleet.name, m.spec.name, { url: m.url, ...cellOf(fleet, m.spec.name) })
    await Promise.all(members.map((m) => this.startAndWait(m)))
  }

  private program(spec: ServiceSpec): string {
    const file = path.isAbsolute(spec.entry) ? spec.entry : path.join(this.distDir, spec.entry)
    if (!fs.existsSync(file)) throw new MissingProgram(spec.name, file)
    return file
  }

  private member(spec: ServiceSpec, port: number, fleet?: FleetSpec): Member {
    return { spec, fleet, port, url: `http://127.0.0.1:${port}`, state: 'stopped', restarts: 0 }
  }

  private resolveEnv(env: EnvSpec): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) {
      if (typeof v === 'string') out[k] = v
      else if ('urlOf' in v) out[k] = this.members.get(v.urlOf)!.url
      else {
        if (!this.secrets.has(v.secret)) this.secrets.set(v.secret, randomBytes(24).toString('hex'))
        out[k] = this.secrets.get(v.secret)!
      }
    }
    return out
  }

  private spawnMember(m: Member): ServiceProcess {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      LOG_LEVEL: 'info',
      ...this.opts.env,
      ...this.resolveEnv(m.spec.env),
      PORT: String(m.port),
      HOST: '127.0.0.1',
      ADVERTISE_URL: m.url,
      OUTAGE_LAB_ADMIN_TOKEN: this.adminToken,
      OUTAGE_LAB_DATA_DIR: path.join(this.runDir, 'data'),
      OUTAGE_LAB_WATCH_PARENT: '1',
      [RUN_ID_ENV]: this.runId,
    }
    if (m.fleet) env.THREAD_LIMIT_ENFORCEMENT = this.threadLimitEnforcement
    if (this.cgroups && !m.cgroupProcs) {
      // Members get the fleet's limit; other services a cgroup without one, so the reaper can
      // find (and the harness remove) anything they start.
      this.cgroups.create(m.spec.name, m.fleet ? m.fleet.threadLimit : 'max')
      m.cgroupProcs = this.cgroups.procsFile(m.spec.name)
    }
    const proc = new ServiceProcess({
      name: m.spec.name,
      argv: [process.execPath, this.program(m.spec)],
      env,
      cwd: this.runDir,
      logFile: path.join(this.runDir, 'logs', `${m.spec.name}.log`),
      cgroupProcs: m.cgroupProcs,
      ...(this.opts.servicesNice ? { nice: this.opts.servicesNice } : {}),
    })
    m.proc = proc
    m.state = 'starting'
    this.emit('service-started', { name: m.spec.name, pid: proc.pid, url: m.url })
    void proc.exited.then((exit) => {
      if (m.proc !== proc) return
      if (m.state !== 'stopping' && m.state !== 'stopped') {
        m.state = 'exited'
        this.emit('service-exited', { name: m.spec.name, pid: proc.pid, ...exit })
        if (m.fleet && exit.code === EXIT_REMOVED_FROM_FLEET && !this.stopping) {
          // The fleet's scheduler puts a new server in the place of one its health system removed.
          m.restarts++
          this.emit('member-replaced', { name: m.spec.name, pid: proc.pid, reason: 'removed from the fleet' })
          void this.waitReady(m, this.spawnMember(m))
          return
        }
      }
      this.writeState()
    })
    this.writeState()
    return proc
  }

  private async waitReady(m: Member, proc: ServiceProcess): Promise<WaitOutcome> {
    const r = m.spec.readiness
    const outcome = await waitForHealth({ url: m.url, path: r.path, timeoutMs: r.timeoutMs, atLeast: r.atLeast, exited: proc.exited })
    if (outcome.ready && m.proc === proc && m.state === 'starting') {
      m.state = 'running'
      this.emit('service-ready', { name: m.spec.name, pid: proc.pid })
    }
    return outcome
  }

  private async startAndWait(m: Member): Promise<void> {
    this.assertRunning()
    const proc = this.spawnMember(m)
    const outcome = await this.waitReady(m, proc)
    if (!outcome.ready) {
      // Let a crashing process finish writing before its stderr is quoted.
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 100))])
      throw new ServiceNotReady(m.spec.name, outcome.reason, proc.stderrTail())
    }
  }

  // ---- the reaper and signals -------------------------------------------------------------

  private writeState(): void {
    if (this.stopping && !fs.existsSync(this.stateFile)) return
    const pids = [...this.members.values()].filter((m) => m.proc?.running).map((m) => ({ name: m.spec.name, pid: m.proc!.pid! }))
    try {
      writeRunState(this.stateFile, { runId: this.runId, harnessPid: process.pid, cgroupDir: this.cgroupDir, pids, updatedAtMs: Date.now() })
    } catch {}
  }

  private reaperProgram(): string {
    return path.join(this.distDir, 'harness', 'platform', 'local', 'reaper.js')
  }

  private startReaper(): void {
    const reaper = this.reaperProgram()
    const log = fs.openSync(path.join(this.runDir, 'logs', 'reaper.log'), 'a')
    const args = [reaper, '--harness-pid', String(process.pid), '--run-id', this.runId, '--state', this.stateFile]
    if (this.cgroupDir) args.push('--cgroup-dir', this.cgroupDir)
    // Detached: its own session, so neither a Ctrl-C nor the harness's death takes it along.
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '' } })
    fs.closeSync(log)
    child.unref()
    this.reaperPid = child.pid
  }

  private installExitHandlers(): void {
    process.on('exit', this.onExit)
    if (this.opts.signals === false) return
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => {
        void this.stop().finally(() => {
          // Re-raise so the process ends as the signal meant (listeners like signal-exit's then
          // see the signal alone and re-raise it themselves). If it stays ignored, exit with the
          // shell's code for it. A caller with its own plans passes signals: false.
          process.kill(process.pid, signal)
          setTimeout(() => process.exit(128 + os.constants.signals[signal]), 100).unref()
        })
      }
      process.once(signal, handler)
      this.signalHandlers.push([signal, handler])
    }
  }

  /** Last resort when the process exits without stop(): nothing async is possible here. */
  private killAllSync(): void {
    for (const m of this.members.values()) {
      if (m.proc?.running && m.proc.pid) {
        try {
          process.kill(-m.proc.pid, 'SIGKILL')
        } catch {}
      }
    }
  }

  // ---- StartedTopology --------------------------------------------------------------------

  private emit(kind: TopologyEvent['kind'], detail: Record<string, unknown>): void {
    try {
      this.opts.onEvent?.({ atMs: Date.now() - this.startedAt, kind, detail })
    } catch {}
  }

  private assertRunning(): void {
    if (this.stopping) throw new InvalidOperation('STOPPED', `run ${this.runId} is stopped`)
  }

  private fleet(name: string) {
    const f = this.fleets.get(name)
    if (!f) throw new InvalidOperation('UNKNOWN_FLEET', `no fleet named ${JSON.stringify(name)}; fleets: ${[...this.fleets.keys()].join(', ')}`)
    return f
  }

  private service(name: string): Member {
    const m = this.members.get(name)
    if (!m) throw new InvalidOperation('UNKNOWN_SERVICE', `no service named ${JSON.stringify(name)}`)
    return m
  }

  private fleetMembers(fleet: string): Member[] {
    const spec = this.fleet(fleet).spec
    return [...this.members.values()]
      .filter((m) => m.fleet?.name === fleet)
      .sort((a, b) => memberNumber(spec, a.spec.name)! - memberNumber(spec, b.spec.name)!)
  }

  /** Operations on one fleet run one after another: a restart never races a scale. */
  private serialize<T>(fleet: string, op: () => Promise<T>): Promise<T> {
    const f = this.fleet(fleet)
    const result = f.queue.then(op)
    f.queue = result.catch(() => {})
    return result
  }

  secret(name: string): string | undefined {
    return this.secrets.get(name)
  }

  endpoints(): Endpoints {
    const services: Record<string, string> = {}
    for (const [name, m] of this.members) services[name] = m.url
    const fleets: Endpoints['fleets'] = {}
    for (const [name, f] of this.fleets) {
      const members = this.fleetMembers(name)
      fleets[name] = {
        members: members.map((m) => m.spec.name),
        memberUrls: members.map((m) => m.url),
        ...(f.spec.endpoint ? { endpoint: services[f.spec.endpoint] } : {}),
      }
    }
    const t = this.topology
    return {
      runId: this.runId,
      region: t.region,
      credentials: { ...t.credentials },
      ...(t.kinesisEndpoint ? { kinesis: services[t.kinesisEndpoint] } : {}),
      services,
      fleets,
    }
  }

  services(): ServiceStatus[] {
    return [...this.members.values()].map((m) => ({
      name: m.spec.name,
      kind: m.spec.kind,
      ...(m.fleet ? { fleet: m.fleet.name } : {}),
      url: m.url,
      ...(m.proc?.pid !== undefined ? { pid: m.proc.pid } : {}),
      state: m.proc?.paused && m.state === 'running' ? 'paused' : m.state,
      ...(m.proc?.exit ? { exit: { code: m.proc.exit.code, signal: m.proc.exit.signal } } : {}),
      restarts: m.restarts,
    }))
  }

  /** The pids cgroup directory of a service, when the run uses cgroups. */
  cgroupOf(name: string): string | undefined {
    const m = this.service(name)
    return m.cgroupProcs ? path.dirname(m.cgroupProcs) : undefined
  }

  async health(): Promise<HealthProbe[]> {
    return Promise.all(
      [...this.members.values()].map(async (m) => {
        const probe = await getHealth(`${m.url}${m.spec.readiness.path}`, 1_000)
        return { name: m.spec.name, ...probe }
      }),
    )
  }

  fleetSize(fleet: string): number {
    return this.fleet(fleet).count
  }

  async setThreadLimit(fleet: string, to: number): Promise<{ fleet: string; from: number; to: number; live: string[] }> {
    const f = this.fleet(fleet)
    if (!Number.isInteger(to) || to < 1) throw new InvalidOperation('INVALID_ARGUMENT', `a thread limit must be a positive integer, got ${to}`)
    const from = f.spec.threadLimit
    f.spec = { ...f.spec, threadLimit: to }
    const live: string[] = []
    if (this.cgroups) {
      for (const m of this.fleetMembers(fleet)) {
        this.cgroups.create(m.spec.name, to)
        live.push(m.spec.name)
      }
    }
    return { fleet, from, to, live }
  }

  async scaleFleet(fleet: string, to: number, opts: ScaleOptions = {}): Promise<ScaleResult> {
    const f = this.fleet(fleet)
    if (!Number.isInteger(to) || to < 0 || to > MAX_FLEET_SIZE) {
      throw new InvalidOperation('INVALID_ARGUMENT', `fleet size: expected an integer in [0, ${MAX_FLEET_SIZE}], got ${JSON.stringify(to)}`)
    }
    return this.serialize(fleet, async () => {
      this.assertRunning()
      const from = f.count
      const result: ScaleResult = { fleet, from, to, added: [], removed: [], notReady: [] }
      const membership = this.members.get(f.spec.membership)!
      if (to > from) {
        const used = new Set([...this.members.values()].map((m) => m.port))
        const ports = await freePorts(to - from, '127.0.0.1', used)
        const added: Member[] = []
        for (let n = from + 1; n <= to; n++) {
          const m = this.member(fleetMember(f.spec, n), ports[n - from - 1], f.spec)
          this.members.set(m.spec.name, m)
          added.push(m)
        }
        f.count = to
        const waits: Promise<WaitOutcome>[] = []
        for (const [i, m] of added.entries()) {
          // A paced addition launches a server every stepEveryMs, ready or not, as operators do.
          if (i > 0 && opts.stepEveryMs) await new Promise((r) => setTimeout(r, opts.stepEveryMs))
          await registerMember(membership.url, fleet, m.spec.name, { url: m.url, ...cellOf(f.spec, m.spec.name) })
          if (opts.stepEveryMs) waits.push(this.waitReady(m, this.spawnMember(m)))
        }
        const outcomes = opts.stepEveryMs ? await Promise.all(waits) : await Promise.all(added.map((m) => this.waitReady(m, this.spawnMember(m))))
        added.forEach((m, i) => {
          result.added.push(m.spec.name)
          const o = outcomes[i]
          if (!o.ready) result.notReady.push({ name: m.spec.name, reason: o.reason })
        })
      } else if (to < from) {
        // The highest-numbered members leave first, each out of membership before it stops, so
        // its peers and the endpoint see a removal rather than a crash.
        const leaving = this.fleetMembers(fleet).slice(to).reverse()
        // Leaving from now on: a member that sees itself out of membership and exits is not replaced.
        for (const m of leaving) m.state = 'stopping'
        for (const m of leaving) await deregisterMember(membership.url, fleet, m.spec.name)
        f.count = to
        await Promise.all(leaving.map((m) => this.stopMember(m)))
        for (const m of leaving) {
          if (this.cgroups) await this.cgroups.remove(m.spec.name)
          this.members.delete(m.spec.name)
          result.removed.push(m.spec.name)
        }
        this.writeState()
      }
      this.emit('fleet-scaled', { ...result })
      return result
    })
  }

  async restartFleet(fleet: string, opts: RestartOptions): Promise<RestartResult> {
    this.fleet(fleet)
    const { paced } = checkRestartOptions(opts)
    return this.serialize(fleet, async () => {
      this.assertRunning()
      const began = Date.now()
      const members = this.fleetMembers(fleet)
      const outcomes = await runRestart(opts, {
        members,
        restart: (m) => this.restartMember(m),
        settled: (m) => waitForHealth({ url: m.url, path: '/health', timeoutMs: m.spec.readiness.timeoutMs, mapSettled: true, exited: m.proc?.exited }),
        stopping: () => !!this.stopping,
      })
      const result: RestartResult = { fleet, restarted: members.map((m) => m.spec.name), notReady: [], durationMs: Date.now() - began }
      outcomes.forEach((o, i) => {
        if (!o.ready) result.notReady.push({ name: members[i].spec.name, reason: o.reason })
      })
      this.emit('fleet-restarted', { ...result, ...(paced ? { ratePerSec: opts.ratePerSec, ...(opts.waitReady ? { waitReady: true } : {}) } : { all: true }) })
      return result
    })
  }

  private async stopMember(m: Member): Promise<void> {
    if (!m.proc) return
    m.state = 'stopping'
    const proc = m.proc
    const exit = await proc.stop(this.opts.stopGraceMs ?? 5_000)
    if (m.proc === proc) m.state = 'stopped'
    this.emit('service-stopped', { name: m.spec.name, pid: proc.pid, ...exit })
  }

  private async restartMember(m: Member): Promise<WaitOutcome> {
    await this.stopMember(m)
    if (this.stopping) return { ready: false, reason: 'the run stopped' }
    m.restarts++
    return this.waitReady(m, this.spawnMember(m))
  }

  async kill(name: string): Promise<void> {
    const m = this.service(name)
    if (!m.proc?.running) return
    this.emit('member-killed', { name, pid: m.proc.pid })
    await m.proc.kill()
  }

  async pause(name: string): Promise<void> {
    const m = this.service(name)
    if (!m.proc?.running) throw new InvalidOperation('INVALID_ARGUMENT', `${name} is not running`)
    m.proc.pause()
    this.emit('member-paused', { name, pid: m.proc.pid })
  }

  async resume(name: string): Promise<void> {
    const m = this.service(name)
    if (!m.proc?.running) throw new InvalidOperation('INVALID_ARGUMENT', `${name} is not running`)
    m.proc.resume()
    this.emit('member-resumed', { name, pid: m.proc.pid })
  }

  /**
   * On one machine without network namespaces per process, a partition is the service's own
   * fault rules: every API call to it is reset, and so is every call it makes through the kit's
   * outbound agent (its AWS SDK clients are not covered). /health, /metrics and /admin still
   * answer, so the harness keeps observing it.
   */
  async partition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    const rules: string[] = []
    for (const direction of ['inbound', 'outbound'] as const) {
      const res = await request(`${m.url}/admin/faults/${direction}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'reset', probability: 1 }),
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      })
      const body: any = await res.body.json().catch(() => ({}))
      if (res.statusCode >= 300) throw new InvalidOperation('INVALID_ARGUMENT', `${name} refused the partition rule (${direction}): ${res.statusCode} ${JSON.stringify(body)}`)
      rules.push(`${direction}:${body.id}`)
    }
    this.partitions.set(name, rules)
    return { how: `reset rules ${rules.join(', ')}` }
  }

  async healPartition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    const rules = this.partitions.get(name) ?? []
    for (const r of rules) {
      const [direction, id] = r.split(':')
      const res = await request(`${m.url}/admin/faults/${direction}/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${this.adminToken}` }, headersTimeout: 5_000, bodyTimeout: 5_000 })
      await res.body.dump()
    }
    this.partitions.delete(name)
    return { how: rules.length ? `removed ${rules.join(', ')}` : 'was not partitioned' }
  }

  async restart(name: string): Promise<void> {
    const m = this.service(name)
    const op = async () => {
      this.assertRunning()
      const outcome = await this.restartMember(m)
      if (!outcome.ready) throw new ServiceNotReady(name, outcome.reason, m.proc?.stderrTail() ?? '')
    }
    await (m.fleet ? this.serialize(m.fleet.name, op) : op())
  }

  stop(): Promise<void> {
    this.stopping ??= this.teardown()
    return this.stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  private async teardown(): Promise<void> {
    for (const [signal, handler] of this.signalHandlers) process.removeListener(signal, handler)
    // Dependents first: the endpoint, then the fleets, then back-ends, then metadata.
    let waves: string[][]
    try {
      waves = bootWaves(this.topology).map((w) => w.flatMap((n) => ('service' in n ? [n.service.name] : this.fleetMembers(n.fleet.name).map((m) => m.spec.name))))
    } catch {
      waves = [[...this.members.keys()]]
    }
    const listed = new Set(waves.flat())
    waves.push([...this.members.keys()].filter((n) => !listed.has(n)))
    for (const wave of waves.reverse()) {
      await Promise.all(wave.map((name) => this.members.get(name)).filter((m): m is Member => !!m).map((m) => this.stopMember(m)))
    }
    if (this.cgroups) {
      const removed = await this.cgroups.removeAll()
      this.emit('cgroups', { removed, dir: this.cgroupDir })
    }
    // The run ended normally: the reaper sees its state file gone (and gets told directly).
    fs.rmSync(this.stateFile, { force: true })
    if (this.reaperPid) {
      try {
        process.kill(this.reaperPid, 'SIGTERM')
      } catch {}
    }
    process.removeListener('exit', this.onExit)
  }
}

/** The `cell` a member registers with, from its number in the fleet. */
function cellOf(fleet: FleetSpec, member: string): { cell?: string } {
  const cell = memberCell(fleet, memberNumber(fleet, member) ?? 1)
  return cell === undefined ? {} : { cell }
}
