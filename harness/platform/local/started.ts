// A topology running as child processes: addresses are chosen before anything starts (services
// name each other in their env), front-ends get their pids cgroup before their first thread, and
// a front-end its fleet removes (exit 75) is replaced by a new process, as the fleet's scheduler
// did in 2020.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { bootWaves, fleetMember, memberCell, memberNumber, type EnvSpec, type FleetSpec, type ServiceSpec, type Topology } from '../../topology/model.js'
import { EXIT_REMOVED_FROM_FLEET } from '../../topology/catalogue.js'
import { InvalidOperation, InvalidTopology, MissingProgram, ServiceNotReady } from '../../topology/errors.js'
import { StartedTopologyBase, type FleetState, type MemberBase, type MemberProcess, type ThreadLimitChange } from '../base.js'
import { PACKAGE_ROOT, serviceNodeFlags } from '../paths.js'
import { freePorts } from '../ports.js'
import { registerMember } from '../membership.js'
import { waitForHealth, type WaitOutcome } from '../readiness.js'
import type { ThreadLimitEnforcement } from '../started.js'
import { detectPidsCgroups, cleanStaleCgroups, RunCgroups, type PidsCgroups } from './cgroups.js'
import { LogRetention } from './log-retention.js'
import { ServiceProcess } from './process.js'
import { writeRunState, RUN_ID_ENV } from './run-state.js'
import type { LocalContext } from './index.js'

interface LocalMember extends MemberBase {
  spec: ServiceSpec
  port: number
  url: string
  proc?: ServiceProcess
  cgroupProcs?: string
}

export class StartedLocalTopology extends StartedTopologyBase<LocalMember> {
  readonly threadLimitEnforcement: ThreadLimitEnforcement
  readonly cgroupDir?: string
  private readonly opts: LocalContext
  private readonly distDir: string
  private readonly cgroups?: RunCgroups
  private readonly partitions = new Map<string, string[]>()
  private readonly stateFile: string
  private reaperPid?: number
  private readonly logRetention: LogRetention

  constructor(topology: Topology, opts: LocalContext) {
    super(topology, opts)
    this.opts = opts
    this.logRetention = new LogRetention(path.join(this.runDir, 'logs'), opts.logMaxBytes !== undefined ? { maxBytes: opts.logMaxBytes } : {})
    this.distDir = path.resolve(opts.distDir ?? path.join(PACKAGE_ROOT, 'dist'))
    this.stateFile = path.join(this.runDir, 'supervisor.json')
    const support: PidsCgroups = opts.osThreadLimit === false ? { kind: 'none', reason: 'cgroups disabled by the caller' } : detectPidsCgroups()
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
    bootWaves(this.topology)
    this.topology.services.forEach((s, i) => {
      if (!s.customer) this.program(s)
      else if (!s.customer.command?.length)
        throw new InvalidTopology(`services[${i}].customer.command`, `a command to run customer ${s.name} on the local platform`, s.customer)
    })
    for (const f of this.topology.fleets) this.program(fleetMember(f, 1))
    if (this.opts.reaper !== false && !fs.existsSync(this.reaperProgram())) throw new MissingProgram('reaper', this.reaperProgram())
    fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true })
    fs.mkdirSync(path.join(this.runDir, 'data'), { recursive: true })
    this.logRetention.start()

    // Every address is known before anything starts: services name each other in their env.
    const initial: { spec: ServiceSpec; fleet?: FleetSpec }[] = [...this.topology.services.map((spec) => ({ spec }))]
    for (const f of this.topology.fleets) for (let n = 1; n <= f.count; n++) initial.push({ spec: fleetMember(f, n), fleet: f })
    const ports = await freePorts(initial.length)
    initial.forEach(({ spec, fleet }, i) => this.members.set(spec.name, this.member(spec, ports[i], fleet)))

    this.writeState()
    if (this.opts.reaper !== false) this.startReaper()
    this.installExitHandlers()
    await this.bootGuarded(
      async () => {},
      async (wave) => {
        const ready: Promise<void>[] = []
        for (const node of wave) {
          if ('service' in node) ready.push(this.startAndWait(this.members.get(node.service.name)!))
          else ready.push(this.bootFleet(node.fleet))
        }
        // The first failure ends the boot: the others' waits end as their processes are stopped.
        await Promise.all(ready)
      },
    )
  }

  private async bootFleet(fleet: FleetSpec): Promise<void> {
    const members = this.fleetMembers(fleet.name)
    // Registered before they start: each member's first snapshot holds the whole fleet, so a
    // fresh topology does not spend its learn delay discovering itself.
    for (const m of members) await this.admit(fleet, m)
    await Promise.all(members.map((m) => this.startAndWait(m)))
  }

  private program(spec: ServiceSpec): string {
    const file = path.isAbsolute(spec.entry) ? spec.entry : path.join(this.distDir, spec.entry)
    if (!fs.existsSync(file)) throw new MissingProgram(spec.name, file)
    return file
  }

  private member(spec: ServiceSpec, port: number, fleet?: FleetSpec): LocalMember {
    return {
      spec,
      name: spec.name,
      kind: spec.kind,
      readiness: spec.readiness,
      fleet,
      port,
      url: `http://127.0.0.1:${port}`,
      state: 'stopped',
      restarts: 0,
      ...(spec.customer ? { customer: spec.customer } : {}),
    }
  }

  private resolveEnv(env: EnvSpec): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) {
      if (typeof v === 'string') out[k] = v
      else if ('urlOf' in v) out[k] = this.members.get(v.urlOf)!.url
      else out[k] = this.secretValue(v.secret)
    }
    return out
  }

  /**
   * A customer service runs as the user would run it: the harness's environment (minus what would
   * point it elsewhere: AWS_*, the harness's own OUTAGE_LAB_* and NODE_OPTIONS), then its topology
   * env (the lab's AWS configuration and its own key, the experiment's `env`), its PORT and HOST,
   * and the run's marker (the reaper finds it, and anything it starts, by that).
   */
  private customerEnv(m: LocalMember): Record<string, string> {
    const inherited: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('AWS_') && !k.startsWith('OUTAGE_LAB_') && k !== 'NODE_OPTIONS') inherited[k] = v
    }
    return { ...inherited, ...this.resolveEnv(m.spec.env), PORT: String(m.port), HOST: '127.0.0.1', OUTAGE_LAB_CUSTOMER: m.name, [RUN_ID_ENV]: this.runId }
  }

  private spawnMember(m: LocalMember): ServiceProcess {
    const customer = m.spec.customer
    const env: Record<string, string> = customer
      ? this.customerEnv(m)
      : {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
          LOG_LEVEL: 'info',
          ...this.opts.env,
          ...this.resolveEnv(m.spec.env),
          PORT: String(m.port),
          HOST: '127.0.0.1',
          ADVERTISE_URL: m.url,
          OUTAGE_LAB_ADMIN_TOKEN: this.adminToken,
          OUTAGE_LAB_INTERNAL_TOKEN: this.internalToken,
          OUTAGE_LAB_DATA_DIR: path.join(this.runDir, 'data'),
          OUTAGE_LAB_WATCH_PARENT: '1',
          [RUN_ID_ENV]: this.runId,
        }
    if (m.fleet) env.THREAD_LIMIT_ENFORCEMENT = this.threadLimitEnforcement
    if (this.cgroups && !m.cgroupProcs) {
      // Members get the fleet's limit; other services a cgroup without one, so the reaper can
      // find (and the harness remove) anything they start.
      this.cgroups.create(m.name, m.fleet ? this.fleet(m.fleet.name).spec.threadLimit : 'max')
      m.cgroupProcs = this.cgroups.procsFile(m.name)
    }
    const proc = new ServiceProcess({
      name: m.name,
      argv: customer ? customer.command! : [process.execPath, ...serviceNodeFlags(m.spec.kind), this.program(m.spec)],
      env,
      cwd: customer ? customer.cwd : this.runDir,
      logFile: this.logFileOf(m.name),
      cgroupProcs: m.cgroupProcs,
      ...(this.opts.servicesNice ? { nice: this.opts.servicesNice } : {}),
    })
    m.proc = proc
    m.state = 'starting'
    this.emit('service-started', { name: m.name, pid: proc.pid, url: m.url })
    void proc.exited.then((exit) => {
      if (m.proc !== proc) return
      if (m.state !== 'stopping' && m.state !== 'stopped') {
        m.state = 'exited'
        this.emit('service-exited', { name: m.name, pid: proc.pid, ...exit })
        if (m.fleet && exit.code === EXIT_REMOVED_FROM_FLEET && !this.stopping) {
          // The fleet's scheduler puts a new server in the place of one its health system removed.
          m.restarts++
          this.emit('member-replaced', { name: m.name, pid: proc.pid, reason: 'removed from the fleet' })
          void this.waitReady(m, this.spawnMember(m))
          return
        }
      }
      this.writeState()
    })
    this.writeState()
    return proc
  }

  private async waitReady(m: LocalMember, proc: ServiceProcess): Promise<WaitOutcome> {
    const r = m.readiness
    const outcome = await waitForHealth({ url: m.url, path: r.path, timeoutMs: r.timeoutMs, atLeast: r.atLeast, exited: proc.exited })
    if (outcome.ready && m.proc === proc && m.state === 'starting') {
      m.state = 'running'
      this.emit('service-ready', { name: m.name, pid: proc.pid })
    }
    return outcome
  }

  private async startAndWait(m: LocalMember): Promise<void> {
    this.assertRunning()
    const proc = this.spawnMember(m)
    const outcome = await this.waitReady(m, proc)
    if (!outcome.ready) {
      // Let a crashing process finish writing before its stderr is quoted.
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 100))])
      if (m.customer) throw this.customerNotReady(m, outcome, proc.exit, proc.stderrTail())
      throw new ServiceNotReady(m.name, outcome.reason, proc.stderrTail())
    }
  }

  // ---- the reaper and the run state ---------------------------------------------------------

  private writeState(): void {
    if (this.stopping && !fs.existsSync(this.stateFile)) return
    const pids = [...this.members.values()].filter((m) => m.proc?.running).map((m) => ({ name: m.name, pid: m.proc!.pid! }))
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

  protected killAllSync(): void {
    for (const m of this.members.values()) {
      if (m.proc?.running && m.proc.pid) {
        try {
          process.kill(-m.proc.pid, 'SIGKILL')
        } catch {}
      }
    }
  }

  // ---- what the base asks of a platform -----------------------------------------------------

  protected urlOf(m: LocalMember): string {
    return m.url
  }

  protected processOf(m: LocalMember): MemberProcess {
    return { ...(m.proc?.pid !== undefined ? { pid: m.proc.pid } : {}), paused: !!m.proc?.paused, ...(m.proc?.exit ? { exit: m.proc.exit } : {}) }
  }

  protected diedOf(m: LocalMember): Promise<unknown> | undefined {
    return m.proc?.exited
  }

  protected async logTail(m: LocalMember): Promise<string> {
    return m.proc?.stderrTail() ?? ''
  }

  protected async newMembers(f: FleetState, n: number): Promise<LocalMember[]> {
    const used = new Set([...this.members.values()].map((m) => m.port))
    const ports = await freePorts(n, '127.0.0.1', used)
    const added: LocalMember[] = []
    for (let i = 1; i <= n; i++) {
      const m = this.member(fleetMember(f.spec, f.count + i), ports[i - 1], f.spec)
      this.members.set(m.name, m)
      added.push(m)
    }
    return added
  }

  protected async admit(fleet: FleetSpec, m: LocalMember): Promise<void> {
    const membership = this.members.get(fleet.membership)!
    await registerMember(membership.url, fleet.name, m.name, { url: m.url, ...cellOf(fleet, m.name) }, this.internalToken)
  }

  protected launch(m: LocalMember): Promise<WaitOutcome> {
    return this.waitReady(m, this.spawnMember(m))
  }

  protected async retire(m: LocalMember): Promise<void> {
    await this.stopMember(m)
    if (this.cgroups) await this.cgroups.remove(m.name)
  }

  protected override membersChanged(): void {
    this.writeState()
  }

  private async stopMember(m: LocalMember): Promise<void> {
    if (!m.proc) return
    m.state = 'stopping'
    const proc = m.proc
    const exit = await proc.stop(this.opts.stopGraceMs ?? 5_000)
    if (m.proc === proc) m.state = 'stopped'
    this.emit('service-stopped', { name: m.name, pid: proc.pid, ...exit })
  }

  protected async restartMember(m: LocalMember): Promise<WaitOutcome> {
    await this.stopMember(m)
    if (this.stopping) return { ready: false, reason: 'the run stopped' }
    m.restarts++
    return this.waitReady(m, this.spawnMember(m))
  }

  // ---- faults -------------------------------------------------------------------------------

  /** The pids cgroup directory of a service, when the run uses cgroups. */
  cgroupOf(name: string): string | undefined {
    const m = this.service(name)
    return m.cgroupProcs ? path.dirname(m.cgroupProcs) : undefined
  }

  async setThreadLimit(fleet: string, to: number): Promise<ThreadLimitChange> {
    const { from } = this.changeThreadLimit(fleet, to)
    const live: string[] = []
    if (this.cgroups) {
      for (const m of this.fleetMembers(fleet)) {
        this.cgroups.create(m.name, to)
        live.push(m.name)
      }
    }
    return { fleet, from, to, live }
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
      const body = (await res.body.json().catch(() => ({}))) as { id?: string }
      if (res.statusCode >= 300)
        throw new InvalidOperation('INVALID_ARGUMENT', `${name} refused the partition rule (${direction}): ${res.statusCode} ${JSON.stringify(body)}`)
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
      const res = await request(`${m.url}/admin/faults/${direction}/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${this.adminToken}` },
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      })
      await res.body.dump()
    }
    this.partitions.delete(name)
    return { how: rules.length ? `removed ${rules.join(', ')}` : 'was not partitioned' }
  }

  // ---- teardown -----------------------------------------------------------------------------

  async leftovers(): Promise<string[]> {
    const left: string[] = []
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    for (const m of this.members.values()) if (m.proc?.pid && alive(m.proc.pid)) left.push(`process ${m.proc.pid} (${m.name})`)
    if (this.cgroupDir && fs.existsSync(this.cgroupDir)) left.push(`cgroup ${this.cgroupDir}`)
    if (this.stopping && fs.existsSync(this.stateFile)) left.push(`run state ${this.stateFile}`)
    return left
  }

  protected async teardown(): Promise<void> {
    this.logRetention.stop()
    // Dependents first: the endpoint, then the fleets, then back-ends, then metadata.
    let waves: string[][]
    try {
      waves = bootWaves(this.topology).map((w) => w.flatMap((n) => ('service' in n ? [n.service.name] : this.fleetMembers(n.fleet.name).map((m) => m.name))))
    } catch {
      waves = [[...this.members.keys()]]
    }
    const listed = new Set(waves.flat())
    waves.push([...this.members.keys()].filter((n) => !listed.has(n)))
    for (const wave of waves.reverse()) {
      await Promise.all(
        wave
          .map((name) => this.members.get(name))
          .filter((m): m is LocalMember => !!m)
          .map((m) => this.stopMember(m)),
      )
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
  }
}

/** The `cell` a member registers with, from its number in the fleet. */
function cellOf(fleet: FleetSpec, member: string): { cell?: string } {
  const cell = memberCell(fleet, memberNumber(fleet, member) ?? 1)
  return cell === undefined ? {} : { cell }
}
