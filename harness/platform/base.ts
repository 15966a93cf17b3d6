// The bookkeeping every platform shares: the run's names, its members and fleets, one queue of
// operations per fleet, the skeletons of scaling and restarting a fleet, the guarded boot, the
// signal and exit handlers, and the StartedTopology views (endpoints, services, health). A
// platform extends it with what only it knows: how a member is launched, stopped, restarted and
// faulted, and how everything is torn down.
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { bootWaves, memberNumber, type BootNode, type CustomerProgram, type FleetSpec, type ReadinessSpec, type Topology } from '../topology/model.js'
import { MAX_FLEET_SIZE } from '../topology/catalogue.js'
import { BootAborted, CustomerFailed, InvalidOperation, ServiceNotReady } from '../topology/errors.js'
import { checkRestartOptions, runRestart } from '../topology/restart-plan.js'
import { deregisterMember } from './membership.js'
import { getHealth, portOpen, waitForHealth, type WaitOutcome } from './readiness.js'
import { defaultRunDir, newRunId } from './paths.js'
import type { PlatformContext } from './platform.js'
import type {
  Endpoints,
  HealthProbe,
  RestartOptions,
  RestartResult,
  ScaleOptions,
  ScaleResult,
  ServiceState,
  ServiceStatus,
  StartedTopology,
  ThreadLimitEnforcement,
  TopologyEvent,
} from './started.js'

/** What the base knows of a service or fleet member; a platform's member type extends it. */
export interface MemberBase {
  /** Topology name: the service's, or `<prefix>-<n>` for the n-th member of a fleet. */
  name: string
  kind: string
  fleet?: FleetSpec
  readiness: ReadinessSpec
  state: ServiceState
  restarts: number
  /** The id it is registered with in the fleet's membership, when that is not its name. */
  memberId?: string
  /** A customer service (the user's own program): how it runs, its metrics path. */
  customer?: CustomerProgram
}

/** What a platform reports of a member's process or container. */
export interface MemberProcess {
  pid?: number
  paused: boolean
  exit?: { code: number | null; signal: string | null }
}

export interface FleetState {
  spec: FleetSpec
  count: number
  /** Operations on one fleet run one after another: a restart never races a scale. */
  queue: Promise<unknown>
}

export interface ThreadLimitChange {
  fleet: string
  from: number
  to: number
  live: string[]
}

export abstract class StartedTopologyBase<M extends MemberBase> implements StartedTopology {
  readonly runId: string
  readonly runDir: string
  readonly adminToken: string
  readonly internalToken: string
  readonly topology: Topology
  abstract readonly threadLimitEnforcement: ThreadLimitEnforcement
  enforcementNote?: string
  protected readonly members = new Map<string, M>()
  protected readonly fleets = new Map<string, FleetState>()
  protected readonly secrets = new Map<string, string>()
  protected readonly startedAt = Date.now()
  protected stopping?: Promise<void>
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = []
  private readonly onExit = () => this.killAllSync()

  constructor(
    topology: Topology,
    protected readonly context: PlatformContext,
  ) {
    this.topology = topology
    this.runId = context.runId ?? newRunId()
    this.runDir = path.resolve(context.runDir ?? defaultRunDir(this.runId))
    this.adminToken = context.adminToken ?? randomBytes(16).toString('hex')
    this.internalToken = context.internalToken ?? randomBytes(24).toString('hex')
    for (const f of topology.fleets) this.fleets.set(f.name, { spec: f, count: f.count, queue: Promise.resolve() })
  }

  // ---- what each platform provides ----------------------------------------------------------

  /** The member's URL on 127.0.0.1 ('' while it has none). */
  protected abstract urlOf(m: M): string
  protected abstract processOf(m: M): MemberProcess
  /** Resolves when the member's current process or container ends. */
  protected abstract diedOf(m: M): Promise<unknown> | undefined
  /** The last lines a member wrote, for a readiness failure's message. */
  protected abstract logTail(m: M): Promise<string>
  /** `n` more members of a fleet, numbered after its current ones and already in `members`, not launched. */
  protected abstract newMembers(fleet: FleetState, n: number): Promise<M[]>
  /** Before a new member launches (the local platform registers it in the fleet's membership). */
  protected abstract admit(fleet: FleetSpec, m: M): Promise<void>
  /** Starts a new member and waits for its readiness; never rejects. */
  protected abstract launch(m: M): Promise<WaitOutcome>
  /** Stops a member that left its fleet and frees what it held. */
  protected abstract retire(m: M): Promise<void>
  /** Stops and starts a member on its address; resolves with its readiness. */
  protected abstract restartMember(m: M): Promise<WaitOutcome>
  /** Stops everything the run started; must not throw. */
  protected abstract teardown(): Promise<void>
  /** Last resort when the process exits without stop(): only synchronous calls work here. */
  protected abstract killAllSync(): void
  /** After a fleet changed: where members register themselves, drop the ids of members gone. */
  protected async reconcile(_fleet: FleetSpec): Promise<void> {}
  /** After members were added or removed (the local platform rewrites its run state). */
  protected membersChanged(): void {}

  // ---- boot, signals and teardown -----------------------------------------------------------

  /**
   * Starts the topology wave by wave in dependency order. An abort or a failure tears down
   * whatever started, then rethrows (BootAborted when the signal ended it): nothing half-started
   * leaks.
   */
  protected async bootGuarded(prepare: () => Promise<void>, startWave: (wave: BootNode[], index: number) => Promise<void>): Promise<void> {
    const signal = this.context.signal
    const waves = bootWaves(this.topology)
    const abort = () => void this.stop()
    signal?.addEventListener('abort', abort, { once: true })
    const checkAborted = () => {
      if (signal?.aborted) throw new BootAborted()
    }
    try {
      await prepare()
      for (const [i, wave] of waves.entries()) {
        checkAborted()
        await startWave(wave, i)
        checkAborted()
      }
    } catch (err) {
      await this.stop()
      throw signal?.aborted ? new BootAborted() : err
    } finally {
      signal?.removeEventListener('abort', abort)
    }
  }

  /** Members of a boot wave: its services, and every current member of its fleets. */
  protected waveMembers(wave: BootNode[]): M[] {
    return wave.flatMap((n) => ('service' in n ? [this.members.get(n.service.name)!] : this.fleetMembers(n.fleet.name)))
  }

  protected installExitHandlers(): void {
    process.on('exit', this.onExit)
    if (this.context.signals === false) return
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

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const [signal, handler] of this.signalHandlers) process.removeListener(signal, handler)
      await this.teardown()
      process.removeListener('exit', this.onExit)
    })()
    return this.stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  protected emit(kind: TopologyEvent['kind'], detail: Record<string, unknown>): void {
    try {
      this.context.onEvent?.({ atMs: Date.now() - this.startedAt, kind, detail })
    } catch {}
  }

  protected assertRunning(): void {
    if (this.stopping) throw new InvalidOperation('STOPPED', `run ${this.runId} is stopped`)
  }

  protected fleet(name: string): FleetState {
    const f = this.fleets.get(name)
    if (!f) throw new InvalidOperation('UNKNOWN_FLEET', `no fleet named ${JSON.stringify(name)}; fleets: ${[...this.fleets.keys()].join(', ')}`)
    return f
  }

  protected service(name: string): M {
    const m = this.members.get(name)
    if (!m) throw new InvalidOperation('UNKNOWN_SERVICE', `no service named ${JSON.stringify(name)}`)
    return m
  }

  protected fleetMembers(fleet: string): M[] {
    const spec = this.fleet(fleet).spec
    return [...this.members.values()].filter((m) => m.fleet?.name === fleet).sort((a, b) => memberNumber(spec, a.name)! - memberNumber(spec, b.name)!)
  }

  protected serialize<T>(fleet: string, op: () => Promise<T>): Promise<T> {
    const f = this.fleet(fleet)
    const result = f.queue.then(op)
    f.queue = result.catch(() => {})
    return result
  }

  /** Where a service's log is kept: the run folder's logs/, on every platform (at most two generations of SERVICE_LOG_MAX_BYTES). */
  logFileOf(name: string): string {
    return path.join(this.runDir, 'logs', `${name}.log`)
  }

  /** A customer's failed start as the run reports it: its name, what happened, its exit code, its log. */
  protected customerNotReady(m: M, outcome: { reason: string }, exit: MemberProcess['exit'], tail: string): CustomerFailed {
    const spawnFailed = /spawn failed: (.*)/.exec(tail)?.[1]
    const what = spawnFailed
      ? `could not start (${spawnFailed})`
      : outcome.reason.includes('exited before it was ready')
        ? 'exited before it was ready'
        : `never became ready (${outcome.reason})`
    return new CustomerFailed(m.name, what, exit, this.logFileOf(m.name), spawnFailed ? '' : tail)
  }

  /** A per-run secret the topology's env names: made on first use, the same for every service. */
  protected secretValue(name: string): string {
    if (!this.secrets.has(name)) this.secrets.set(name, randomBytes(24).toString('hex'))
    return this.secrets.get(name)!
  }

  protected checkThreadLimit(fleet: string, to: number): FleetState {
    const f = this.fleet(fleet)
    if (!Number.isInteger(to) || to < 1) throw new InvalidOperation('INVALID_ARGUMENT', `a thread limit must be a positive integer, got ${to}`)
    return f
  }

  /** Validates a new thread limit and records it in the fleet's spec; the platform applies it. */
  protected changeThreadLimit(fleet: string, to: number): { f: FleetState; from: number } {
    const f = this.checkThreadLimit(fleet, to)
    const from = f.spec.threadLimit
    f.spec = { ...f.spec, threadLimit: to }
    return { f, from }
  }

  // ---- StartedTopology ----------------------------------------------------------------------

  secret(name: string): string | undefined {
    return this.secrets.get(name)
  }

  endpoints(): Endpoints {
    const services: Record<string, string> = {}
    for (const [name, m] of this.members) services[name] = this.urlOf(m)
    const fleets: Endpoints['fleets'] = {}
    for (const [name, f] of this.fleets) {
      const members = this.fleetMembers(name)
      fleets[name] = {
        members: members.map((m) => m.name),
        memberUrls: members.map((m) => this.urlOf(m)),
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
    return [...this.members.values()].map((m) => {
      const p = this.processOf(m)
      return {
        name: m.name,
        kind: m.kind,
        ...(m.fleet ? { fleet: m.fleet.name } : {}),
        url: this.urlOf(m),
        ...(p.pid !== undefined ? { pid: p.pid } : {}),
        state: p.paused && m.state === 'running' ? 'paused' : m.state,
        ...(p.exit ? { exit: { code: p.exit.code, signal: p.exit.signal } } : {}),
        restarts: m.restarts,
        ...(m.customer
          ? { customer: { accessKeyId: m.customer.accessKeyId, ...(m.customer.metricsPath ? { metricsPath: m.customer.metricsPath } : {}) } }
          : {}),
      }
    })
  }

  async health(): Promise<HealthProbe[]> {
    return Promise.all(
      [...this.members.values()].map(async (m) => {
        const url = this.urlOf(m)
        if (!url) return { name: m.name, error: 'no URL to reach it at (no published port or address)' }
        if (m.readiness.path === undefined) {
          // A customer without a health path: its port accepting connections is all there is to know.
          const open = await portOpen(url, 1_000)
          return open === true ? { name: m.name, body: { port: 'accepting connections' } } : { name: m.name, error: `port: ${open}` }
        }
        const probe = await getHealth(`${url}${m.readiness.path}`, 1_000)
        return { name: m.name, ...probe }
      }),
    )
  }

  fleetSize(fleet: string): number {
    return this.fleet(fleet).count
  }

  abstract setThreadLimit(fleet: string, to: number): Promise<ThreadLimitChange>

  async scaleFleet(fleet: string, to: number, opts: ScaleOptions = {}): Promise<ScaleResult> {
    const f = this.fleet(fleet)
    if (!Number.isInteger(to) || to < 0 || to > MAX_FLEET_SIZE) {
      throw new InvalidOperation('INVALID_ARGUMENT', `fleet size: expected an integer in [0, ${MAX_FLEET_SIZE}], got ${JSON.stringify(to)}`)
    }
    return this.serialize(fleet, async () => {
      this.assertRunning()
      const from = f.count
      const result: ScaleResult = { fleet, from, to, added: [], removed: [], notReady: [] }
      if (to > from) await this.addMembers(f, to, opts, result)
      else if (to < from) await this.removeMembers(f, to, result)
      await this.reconcile(f.spec)
      this.emit('fleet-scaled', { ...result })
      return result
    })
  }

  private async addMembers(f: FleetState, to: number, opts: ScaleOptions, result: ScaleResult): Promise<void> {
    const added = await this.newMembers(f, to - f.count)
    f.count = to
    const waits: Promise<WaitOutcome>[] = []
    for (const [i, m] of added.entries()) {
      // A paced addition launches a server every stepEveryMs, ready or not, as operators do: a
      // slow start does not hold up the next one.
      if (i > 0 && opts.stepEveryMs) await new Promise((r) => setTimeout(r, opts.stepEveryMs))
      this.assertRunning()
      await this.admit(f.spec, m)
      if (opts.stepEveryMs) waits.push(this.launch(m))
    }
    // Unpaced, every new member is admitted before the first one starts: each first snapshot holds them all.
    const outcomes = opts.stepEveryMs ? await Promise.all(waits) : await Promise.all(added.map((m) => this.launch(m)))
    added.forEach((m, i) => {
      result.added.push(m.name)
      const o = outcomes[i]
      if (!o.ready) result.notReady.push({ name: m.name, reason: o.reason })
    })
  }

  private async removeMembers(f: FleetState, to: number, result: ScaleResult): Promise<void> {
    // The highest-numbered members leave first, each out of membership before it stops, so its
    // peers and the endpoint see a removal rather than a crash. Metadata keeps members until they
    // are deleted: a member removed without this would stay listed.
    const leaving = this.fleetMembers(f.spec.name).slice(to).reverse()
    // Leaving from now on: a member that sees itself out of membership and exits is not replaced.
    for (const m of leaving) m.state = 'stopping'
    const membership = this.urlOf(this.members.get(f.spec.membership)!)
    for (const m of leaving) await deregisterMember(membership, f.spec.name, m.memberId ?? m.name, this.internalToken)
    f.count = to
    await Promise.all(leaving.map((m) => this.retire(m)))
    for (const m of leaving) {
      this.members.delete(m.name)
      result.removed.push(m.name)
    }
    this.membersChanged()
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
        settled: (m) => waitForHealth({ url: this.urlOf(m), path: '/health', timeoutMs: m.readiness.timeoutMs, mapSettled: true, exited: this.diedOf(m) }),
        stopping: () => !!this.stopping,
      })
      await this.reconcile(this.fleet(fleet).spec)
      const result: RestartResult = { fleet, restarted: members.map((m) => m.name), notReady: [], durationMs: Date.now() - began }
      outcomes.forEach((o, i) => {
        if (!o.ready) result.notReady.push({ name: members[i].name, reason: o.reason })
      })
      this.emit('fleet-restarted', { ...result, ...(paced ? { ratePerSec: opts.ratePerSec, ...(opts.waitReady ? { waitReady: true } : {}) } : { all: true }) })
      return result
    })
  }

  async restart(name: string): Promise<void> {
    const m = this.service(name)
    const op = async () => {
      this.assertRunning()
      const outcome = await this.restartMember(m)
      if (!outcome.ready) throw new ServiceNotReady(name, outcome.reason, await this.logTail(m))
    }
    await (m.fleet ? this.serialize(m.fleet.name, op) : op())
  }

  abstract leftovers(): Promise<string[]>
  abstract kill(name: string): Promise<void>
  abstract pause(name: string): Promise<void>
  abstract resume(name: string): Promise<void>
  abstract partition(name: string): Promise<{ how: string }>
  abstract healPartition(name: string): Promise<{ how: string }>
}
