// The compose backend: the same topology as the local backend, on containers of docker-compose.yml,
// driven through testcontainers' DockerComposeEnvironment (compose v2, or v1 as a standalone
// executable). A front-end's thread limit is its container's pids_limit (the same pids controller
// as the local backend's cgroups), so /health reports thread_limit_enforcement `docker`.
//
// `new ComposeBackend(topology, opts)` only records settings; `start()` does the I/O and returns
// a StartedTopology:
//   - the experiment's env, thread limits and secrets go into an override file (compose-file.ts);
//   - services come up wave by wave in dependency order (`up --no-deps`), each wave waited on
//     /health through its published 127.0.0.1 port, with the model's readiness rules, exactly as
//     the local backend waits (so neither compose's health-check interval nor its dependency
//     conditions set the pace);
//   - fleet scaling is compose scaling; process faults are container faults (kill, pause/unpause,
//     restart), the partition a network disconnect;
//   - teardown always: `down` with a short timeout, then whatever still carries the project's
//     label is removed, also on SIGINT/SIGTERM, on process exit, and (by a detached watcher) when
//     the harness itself is SIGKILLed. Ryuk is off: its image cannot be pulled here.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { pack } from 'tar-stream'
import { bootWaves, memberCell, memberNumber, validateTopology, MAX_FLEET_SIZE, type FleetSpec, type ReadinessSpec, type Topology } from '../../topology/model.js'
import { BootAborted, InvalidOperation, ServiceNotReady } from '../../topology/errors.js'
import { waitForHealth, getHealth, type WaitOutcome } from '../readiness.js'
import { checkRestartOptions, runRestart } from '../../topology/restart-plan.js'
import { freePorts } from '../ports.js'
import { deregisterMember } from '../membership.js'
import { PACKAGE_ROOT, newRunId } from '../local/started.js'
import { detectDocker, composeCommand, composeExecutable, type ComposeFlavour, type EngineCgroups } from './engine.js'
import { CONTAINER_PORT, fleetEnv, fleetService, planCompose, readComposeFile, writeOverride, type ComposePlan } from './file.js'
import type {
  Endpoints, HealthProbe, RestartOptions, RestartResult, ScaleOptions, ScaleResult, ServiceState, ServiceStatus,
  StartedTopology, ThreadLimitEnforcement, TopologyEvent,
} from '../started.js'

// Ryuk (testcontainers' reaper) runs from an image no registry here can give us; this backend
// tears down itself. Set before testcontainers reads it (on first use, below).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'

export interface ComposeBackendOptions {
  /** Where the override file and container logs go; default `.outage-lab/runs/<runId>`. */
  runDir?: string
  runId?: string
  /** default `<package>/docker-compose.yml` */
  composeFile?: string
  /** default `outage-lab:latest` (built by `make image`) */
  image?: string
  /** Compose project; default `outage-lab-<runId>`, so runs never touch a stack started by hand. */
  projectName?: string
  adminToken?: string
  /** Stop the run on SIGINT/SIGTERM, then re-raise the signal (default true). */
  signals?: boolean
  /** Start the detached watcher that removes the containers if the harness is SIGKILLed (default true). */
  reaper?: boolean
  /** SIGTERM -> SIGKILL grace when a container stops (default 1000 ms; services close fast). */
  stopGraceMs?: number
  /** Extra env for every service (LOG_LEVEL...). */
  env?: Record<string, string>
  /** Copy each container's log to <runDir>/logs/<name>.log at teardown (default true). */
  keepLogs?: boolean
  onEvent?: (event: TopologyEvent) => void
  /**
   * The most members each fleet will have during the run (an experiment's largest scale-fleet
   * target). Boot has compose create that many replicas and starts only the fleet's size; a
   * scale-up then starts created replicas through the engine, a fraction of a second each,
   * instead of one compose invocation (seconds of CPU with v1) in the middle of the method.
   */
  fleetPeaks?: Record<string, number>
  /**
   * The local backend's `servicesNice` on containers: each container weighted against the
   * harness's own tasks as a process at this niceness would be (the kernel's CFS weight, e.g. 335
   * for nice 5 against the harness's 1024), so the customers and the observer measure the cascade,
   * not the CPU queue. Applied where it means that: cgroup v1 with the cgroupfs driver, by placing
   * every container's cgroup at the root (`cgroup_parent: /`) with that `cpu_shares`. Elsewhere
   * containers keep the engine's placement (an event says which).
   */
  servicesNice?: number
  /** Aborting it during start() tears down what started and rejects with BootAborted. */
  signal?: AbortSignal
}

/** No Docker engine or compose on this machine: the compose backend cannot run (reason says why). */
export class DockerUnavailable extends Error {
  readonly code = 'DOCKER_UNAVAILABLE'
  constructor(reason: string) {
    super(`the compose backend needs Docker: ${reason}`)
    this.name = 'DockerUnavailable'
  }
}

/** The service image is not built. */
export class MissingImage extends Error {
  readonly code = 'MISSING_IMAGE'
  constructor(image: string) {
    super(`image ${image} is not built; run \`make image\` (it builds the base image too when none can be pulled)`)
    this.name = 'MissingImage'
  }
}

export class ComposeBackend {
  readonly topology: Topology
  readonly options: ComposeBackendOptions
  constructor(topology: Topology, options: ComposeBackendOptions = {}) {
    validateTopology(topology)
    this.topology = topology
    this.options = options
  }

  async start(): Promise<StartedComposeTopology> {
    const docker = await detectDocker()
    if (!docker.ok) throw new DockerUnavailable(docker.reason)
    const run = new StartedComposeTopology(this.topology, this.options, docker.compose, docker.cgroups)
    await run.boot()
    return run
  }
}

interface Member {
  /** Topology name: the single service's, or `<prefix>-<replica number>`. */
  name: string
  kind: string
  service: string
  fleet?: FleetSpec
  readiness: ReadinessSpec
  containerId?: string
  /** The id it registers with in metadata: `<prefix>-<container id>` for a replica (docker/entry.mjs). */
  memberId?: string
  hostPort?: number
  pid?: number
  state: ServiceState
  paused: boolean
  restarts: number
  exit?: { code: number | null; signal: string | null }
  /** Resolved when the container dies (a readiness wait fails at once then). */
  died?: Promise<void>
  markDied?: () => void
  /** Its placement (cell) is written into its container. */
  placed?: boolean
  /** Networks and aliases it had before a partition. */
  partitioned?: { network: string; aliases: string[] }[]
}

/** Where a replica finds its placement (docker/entry.mjs): the image's data directory. */
const PLACEMENT_DIR = '/data'
const PLACEMENT_FILE = 'placement.json'

// Loaded on first use: the CLI's other commands need not pay for testcontainers.
type TC = typeof import('testcontainers')
let tcModule: Promise<TC> | undefined
const testcontainers = () => (tcModule ??= import('testcontainers'))

export class StartedComposeTopology implements StartedTopology {
  readonly runId: string
  readonly runDir: string
  readonly adminToken: string
  readonly threadLimitEnforcement: ThreadLimitEnforcement = 'docker'
  readonly enforcementNote?: string
  readonly topology: Topology
  readonly projectName: string
  readonly compose: ComposeFlavour
  readonly composeFile: string
  readonly overrideFile: string
  readonly image: string
  private readonly opts: ComposeBackendOptions
  private readonly members = new Map<string, Member>()
  private readonly fleets = new Map<string, { spec: FleetSpec; count: number; queue: Promise<unknown> }>()
  /** Created, never started replicas of each fleet, lowest replica number first: not members yet. */
  private readonly spares = new Map<string, Member[]>()
  private readonly secrets = new Map<string, string>()
  private readonly startedAt = Date.now()
  private plan!: ComposePlan
  private composeEnv!: StartedComposeEnvironment
  private client!: RuntimeClient
  private events?: NodeJS.ReadableStream & { destroy?: () => void }
  private reaperPid?: number
  private stopping?: Promise<void>
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = []
  private readonly onExit = () => this.removeAllSync()

  private readonly engineCgroups: EngineCgroups

  constructor(topology: Topology, opts: ComposeBackendOptions, compose: ComposeFlavour, engineCgroups: EngineCgroups = { driver: '', version: '' }) {
    this.engineCgroups = engineCgroups
    this.topology = topology
    this.opts = opts
    this.compose = compose
    this.runId = opts.runId ?? newRunId()
    this.runDir = path.resolve(opts.runDir ?? path.join('.outage-lab', 'runs', this.runId))
    this.adminToken = opts.adminToken ?? randomBytes(16).toString('hex')
    this.projectName = (opts.projectName ?? `outage-lab-${this.runId}`).toLowerCase().replace(/[^a-z0-9_-]/g, '-')
    this.composeFile = path.resolve(opts.composeFile ?? path.join(PACKAGE_ROOT, 'docker-compose.yml'))
    this.overrideFile = path.join(this.runDir, 'docker-compose.override.yml')
    this.image = opts.image ?? 'outage-lab:latest'
  }

  // ---- boot ---------------------------------------------------------------------------------

  async boot(): Promise<void> {
    const waves = bootWaves(this.topology)
    const file = readComposeFile(this.composeFile)
    const ports = await freePorts(this.topology.services.length)
    const hostPorts = Object.fromEntries(this.topology.services.map((s, i) => [s.name, ports[i]]))
    this.plan = planCompose(this.topology, file, {
      runId: this.runId,
      adminToken: this.adminToken,
      secret: (name) => this.secretValue(name),
      hostPorts,
      env: { LOG_LEVEL: 'info', ...this.opts.env },
      ...this.cpuPlacement(),
    })
    const tc = await testcontainers()
    this.client = (await tc.getContainerRuntimeClient()) as unknown as RuntimeClient
    try {
      await this.client.container.dockerode.getImage(this.image).inspect()
    } catch {
      throw new MissingImage(this.image)
    }
    fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true })
    writeOverride(this.overrideFile, this.plan)

    for (const s of this.topology.services) {
      this.members.set(s.name, { name: s.name, kind: s.kind, service: s.name, readiness: s.readiness, hostPort: hostPorts[s.name], state: 'stopped', paused: false, restarts: 0 })
    }
    for (const f of this.topology.fleets) this.fleets.set(f.name, { spec: f, count: f.count, queue: Promise.resolve() })

    // From here on something may run: every exit path tears it down.
    this.installExitHandlers()
    if (this.opts.reaper !== false) this.startReaper()
    await this.watchEvents()
    const abort = () => void this.stop()
    this.opts.signal?.addEventListener('abort', abort, { once: true })
    try {
      // Every container is created by one compose call, then started wave by wave through the
      // engine's API: one compose invocation per wave cost several seconds each (v1 is a Python
      // program that re-reads the project every time), more than the services' own start.
      const created = this.topology.fleets.map((f) => ({ f, replicas: Math.max(f.count, Math.min(MAX_FLEET_SIZE, this.opts.fleetPeaks?.[f.name] ?? 0)) })).filter((x) => x.replicas > 0)
      await this.create([...this.topology.services.map((s) => s.name), ...created.map((x) => fleetService(x.f))], created.flatMap((x) => ['--scale', `${fleetService(x.f)}=${x.replicas}`]))
      this.setAside(await this.adoptContainers())
      for (const [i, wave] of waves.entries()) {
        if (this.opts.signal?.aborted) throw new BootAborted()
        const waiting = wave.flatMap((n) => ('service' in n ? [this.members.get(n.service.name)!] : this.fleetMembers(n.fleet.name)))
        // The first wave (the services nothing is started before) goes up through
        // DockerComposeEnvironment, which then owns the project's teardown (`down`); later waves
        // start their created containers through the engine.
        const byCompose = i === 0 ? waiting.filter((m) => !m.fleet) : []
        if (byCompose.length) await this.up(byCompose.map((m) => m.service), [])
        await Promise.all(waiting.map((m) => this.startContainer(m, byCompose.includes(m))))
        // The first failure ends the boot; teardown below ends the other waits.
        await Promise.all(waiting.map((m) => this.waitReadyOrThrow(m)))
        if (this.opts.signal?.aborted) throw new BootAborted()
      }
    } catch (err) {
      await this.stop()
      throw this.opts.signal?.aborted ? new BootAborted() : err
    } finally {
      this.opts.signal?.removeEventListener('abort', abort)
    }
  }

  private cpuPlacement(): { cpu?: { cgroupParent: string; shares: number } } {
    const nice = this.opts.servicesNice
    if (nice === undefined) return {}
    const { driver, version } = this.engineCgroups
    if (driver !== 'cgroupfs' || version !== '1') {
      this.emit('cgroups', { cpu: `containers keep the engine's cgroup placement (${driver || 'unknown'} driver, cgroup v${version || '?'}): not weighted like services at nice ${nice}` })
      return {}
    }
    const shares = niceWeight(nice)
    this.emit('cgroups', { cpu: `every container at the cpu cgroup root with cpu_shares ${shares}, the weight of a process at nice ${nice} (the harness: 1024)` })
    return { cpu: { cgroupParent: '/', shares } }
  }

  private secretValue(name: string): string {
    if (!this.secrets.has(name)) this.secrets.set(name, randomBytes(24).toString('hex'))
    return this.secrets.get(name)!
  }

  private composeOptions() {
    return {
      filePath: path.dirname(this.composeFile),
      files: [this.composeFile, this.overrideFile],
      projectName: this.projectName,
      composeOptions: this.plan.profiles.flatMap((p) => ['--profile', p]),
      environment: { ...this.plan.variables, OUTAGE_LAB_IMAGE: this.image },
      ...composeExecutable(this.compose),
    }
  }

  /** `up --no-start`: every container of the run exists (created, not started) when it resolves. */
  private create(services: string[], commandOptions: string[]): Promise<void> {
    const o = this.composeOptions()
    const [file, ...pre] = composeCommand(this.compose)
    const args = [...pre, '-f', this.composeFile, '-f', this.overrideFile, '-p', this.projectName, ...o.composeOptions, 'up', '--no-start', '--no-deps', ...commandOptions, ...services]
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { cwd: o.filePath, env: { ...process.env, ...o.environment }, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
      child.on('error', reject)
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${[file, ...args].join(' ')} failed (exit ${code}): ${stderr.trim()}`))))
    })
  }

  /**
   * Starts a created (or stopped) container, or adopts one compose itself just started; its
   * published port is known from then on.
   */
  private async startContainer(m: Member, startedByCompose = false): Promise<void> {
    if (!m.containerId) throw new ServiceNotReady(m.name, 'compose created no container for it', '')
    if (!startedByCompose) {
      await this.place(m)
      await this.container(m).start()
    }
    m.state = 'starting'
    m.exit = undefined
    this.armDeath(m)
    await this.refreshPort(m)
    this.emit('service-started', { name: m.name, container: m.containerId.slice(0, 12), ...(m.memberId ? { member: m.memberId } : {}) })
  }

  /**
   * A replica's cell follows from its replica number, which the replica cannot learn (replicas
   * share one config): written into its created container, where docker/entry.mjs reads it, before
   * its first start. A restart keeps the container, so the member keeps its cell.
   */
  private async place(m: Member): Promise<void> {
    if (m.fleet?.cellSize === undefined || m.placed) return
    const cell = memberCell(m.fleet, memberNumber(m.fleet, m.name)!)
    const tar = pack()
    tar.entry({ name: PLACEMENT_FILE, mode: 0o644, uid: 1000, gid: 1000 }, `${JSON.stringify({ cell })}\n`)
    tar.finalize()
    const chunks: Buffer[] = []
    for await (const chunk of tar) chunks.push(chunk as Buffer)
    await this.container(m).putArchive(Buffer.concat(chunks), { path: PLACEMENT_DIR })
    m.placed = true
  }

  /**
   * `up -d --no-deps` of some services through DockerComposeEnvironment: dependencies were
   * started (and waited on) by earlier waves; its own wait is only for the "listening" log line.
   */
  private async up(services: string[], commandOptions: string[]): Promise<void> {
    const tc = await testcontainers()
    const o = this.composeOptions()
    const env = new tc.DockerComposeEnvironment(o.filePath, o.files)
      .withProjectName(this.projectName)
      .withEnvironment(o.environment)
      .withProfiles(...this.plan.profiles)
      .withClientOptions({ ...composeExecutable(this.compose), commandOptions: ['--no-deps', '--no-recreate', ...commandOptions] })
      .withDefaultWaitStrategy(tc.Wait.forLogMessage(/"msg":"listening"/).withStartupTimeout(120_000))
    this.composeEnv = (await env.up(services)) as unknown as StartedComposeEnvironment
  }

  /** Maps the project's containers to members (new replicas become members), with their host ports. */
  private async adoptContainers(): Promise<Member[]> {
    const list = await this.client.container.dockerode.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.projectName}`] } })
    const fresh: Member[] = []
    const number = (c: { Labels: Record<string, string> }) => Number(c.Labels['com.docker.compose.container-number'])
    list.sort((a: { Labels: Record<string, string> }, b: { Labels: Record<string, string> }) => number(a) - number(b))
    for (const c of list) {
      const service = c.Labels['com.docker.compose.service']
      const n = Number(c.Labels['com.docker.compose.container-number'])
      const fleet = [...this.fleets.values()].find((f) => fleetService(f.spec) === service)?.spec
      const name = fleet ? `${fleet.memberPrefix}-${n}` : service
      let m = this.members.get(name) ?? (fleet ? this.spares.get(fleet.name)?.find((x) => x.name === name) : undefined)
      if (!m && fleet) {
        m = { name, kind: fleet.kind, service, fleet, readiness: fleet.readiness, state: 'stopped', paused: false, restarts: 0 }
        this.members.set(name, m)
      }
      if (!m) continue
      if (m.containerId !== c.Id) {
        m.containerId = c.Id
        if (fleet) m.memberId = `${fleet.memberPrefix}-${c.Id.slice(0, 12)}`
        fresh.push(m)
      }
      if (c.State === 'running' && (m.state === 'stopped' || m.state === 'exited')) {
        m.state = 'starting'
        this.armDeath(m)
        this.emit('service-started', { name, container: c.Id.slice(0, 12), ...(m.memberId ? { member: m.memberId } : {}) })
      }
      await this.refreshPort(m)
    }
    return fresh
  }

  /**
   * Replicas created beyond their fleet's size wait, created and not started, outside the
   * members: not in the endpoints, the health probes or the fleet's membership until a scale-up.
   */
  private setAside(fresh: Member[]): void {
    for (const [name, f] of this.fleets) {
      const active = this.fleetMembers(name)
      const extra = active.slice(f.count).filter((m) => fresh.includes(m) && m.state === 'stopped')
      for (const m of extra) this.members.delete(m.name)
      const spares = [...(this.spares.get(name) ?? []), ...extra]
      spares.sort((a, b) => memberNumber(f.spec, a.name)! - memberNumber(f.spec, b.name)!)
      this.spares.set(name, spares)
    }
  }

  /** The next n replicas of a fleet, created first (one compose call) when too few wait. */
  private async takeSpares(fleet: string, n: number): Promise<Member[]> {
    const f = this.fleet(fleet)
    const waiting = this.spares.get(fleet) ?? []
    if (waiting.length < n) {
      const service = fleetService(f.spec)
      const replicas = this.fleetMembers(fleet).length + n
      await this.create([service], ['--no-recreate', '--scale', `${service}=${replicas}`])
      this.setAside(await this.adoptContainers())
    }
    const taken = (this.spares.get(fleet) ?? []).splice(0, n)
    for (const m of taken) this.members.set(m.name, m)
    return taken
  }

  private armDeath(m: Member): void {
    m.died = new Promise<void>((resolve) => (m.markDied = resolve))
  }

  private async refreshPort(m: Member): Promise<void> {
    if (!m.containerId) return
    const info = await this.client.container.dockerode.getContainer(m.containerId).inspect()
    m.pid = info.State?.Pid || undefined
    const binding = info.NetworkSettings?.Ports?.[`${CONTAINER_PORT}/tcp`]?.find((b: { HostIp: string }) => b.HostIp === '127.0.0.1') ?? info.NetworkSettings?.Ports?.[`${CONTAINER_PORT}/tcp`]?.[0]
    if (binding?.HostPort) m.hostPort = Number(binding.HostPort)
  }

  private urlOf(m: Member): string {
    return m.hostPort ? `http://127.0.0.1:${m.hostPort}` : ''
  }

  private async waitReady(m: Member): Promise<WaitOutcome> {
    if (!m.hostPort) return { ready: false, reason: 'no published port' }
    const r = m.readiness
    const outcome = await waitForHealth({ url: this.urlOf(m), path: r.path, timeoutMs: r.timeoutMs, atLeast: r.atLeast, exited: m.died })
    if (outcome.ready && m.state === 'starting') {
      m.state = 'running'
      this.emit('service-ready', { name: m.name, container: m.containerId?.slice(0, 12) })
    }
    return outcome.ready ? outcome : { ready: false, reason: outcome.reason.replace('the process exited', 'the container exited') }
  }

  private async waitReadyOrThrow(m: Member): Promise<void> {
    const outcome = await this.waitReady(m)
    if (!outcome.ready) throw new ServiceNotReady(m.name, outcome.reason, await this.logTail(m))
  }

  private async logTail(m: Member, lines = 20): Promise<string> {
    if (!m.containerId) return ''
    try {
      const buf = (await this.client.container.dockerode.getContainer(m.containerId).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer
      return demux(buf).trimEnd()
    } catch {
      return ''
    }
  }

  // ---- container events, signals, the watcher ------------------------------------------------

  private async watchEvents(): Promise<void> {
    const stream = (await this.client.container.dockerode.getEvents({
      filters: { type: ['container'], event: ['die', 'start'], label: [`com.docker.compose.project=${this.projectName}`] },
    })) as NodeJS.ReadableStream & { destroy?: () => void }
    this.events = stream
    let buffered = ''
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        try {
          const e = JSON.parse(line)
          if (e.Action === 'die' || e.status === 'die') this.onDie(e)
          // A failure here (the container gone again, teardown under way) must not end the run.
          else this.onRestartedByDocker(e).catch(() => {})
        } catch {}
      }
    })
    stream.on('error', () => {})
  }

  private onDie(e: { id?: string; Actor?: { Attributes?: Record<string, string> } }): void {
    const m = [...this.members.values()].find((x) => x.containerId === e.id)
    if (!m) return
    const code = Number(e.Actor?.Attributes?.exitCode)
    m.exit = { code: Number.isFinite(code) ? code : null, signal: code === 137 ? 'SIGKILL' : code === 143 ? 'SIGTERM' : null }
    m.markDied?.()
    if (m.state !== 'stopping' && m.state !== 'stopped') {
      m.state = 'exited'
      this.emit('service-exited', { name: m.name, container: m.containerId?.slice(0, 12), ...m.exit })
    }
  }

  /**
   * A front-end removed from its fleet exits 75 and its restart policy (`on-failure`, set when the
   * fleet's endpoint removes members) starts the same container again: the fleet's scheduler
   * replacing the server, as the local backend does. The harness did not start it: it learns the
   * new published port and waits for it like any member. Starts the harness made itself find the
   * member no longer `exited` and are left alone.
   */
  private async onRestartedByDocker(e: { id?: string }): Promise<void> {
    const m = [...this.members.values()].find((x) => x.containerId === e.id)
    if (!m?.fleet || m.state !== 'exited' || this.stopping) return
    m.restarts++
    this.emit('member-replaced', { name: m.name, container: m.containerId?.slice(0, 12), reason: `restart policy after exit ${m.exit?.code}` })
    await this.startContainer(m, true)
    await this.waitReady(m)
  }

  private installExitHandlers(): void {
    process.on('exit', this.onExit)
    if (this.opts.signals === false) return
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => {
        void this.stop().finally(() => {
          process.kill(process.pid, signal)
          setTimeout(() => process.exit(128 + os.constants.signals[signal]), 100).unref()
        })
      }
      process.once(signal, handler)
      this.signalHandlers.push([signal, handler])
    }
  }

  /**
   * A detached shell that outlives a SIGKILLed harness: once the harness pid is gone it removes
   * every container and network of this project. Told to go (SIGTERM) after a normal teardown.
   */
  private startReaper(): void {
    const label = `label=com.docker.compose.project=${this.projectName}`
    const script = [
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
      `ids=$(docker ps -aq --filter "${label}"); [ -n "$ids" ] && docker rm -f $ids`,
      `nets=$(docker network ls -q --filter "${label}"); [ -n "$nets" ] && docker network rm $nets`,
      'exit 0',
    ].join('\n')
    const log = fs.openSync(path.join(this.runDir, 'logs', 'reaper.log'), 'a')
    const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) } })
    fs.closeSync(log)
    child.unref()
    this.reaperPid = child.pid
  }

  /** Last resort when the process exits without stop(): only synchronous calls work here. */
  private removeAllSync(): void {
    const label = `label=com.docker.compose.project=${this.projectName}`
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', label], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []
    if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' })
    const nets = spawnSync('docker', ['network', 'ls', '-q', '--filter', label], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []
    if (nets.length) spawnSync('docker', ['network', 'rm', ...nets], { stdio: 'ignore' })
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

  private container(m: Member) {
    if (!m.containerId) throw new InvalidOperation('INVALID_ARGUMENT', `${m.name} has no container`)
    return this.client.container.dockerode.getContainer(m.containerId)
  }

  private fleetMembers(fleet: string): Member[] {
    const spec = this.fleet(fleet).spec
    return [...this.members.values()]
      .filter((m) => m.fleet?.name === fleet)
      .sort((a, b) => memberNumber(spec, a.name)! - memberNumber(spec, b.name)!)
  }

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
    return [...this.members.values()].map((m) => ({
      name: m.name,
      kind: m.kind,
      ...(m.fleet ? { fleet: m.fleet.name } : {}),
      url: this.urlOf(m),
      ...(m.pid !== undefined ? { pid: m.pid } : {}),
      state: m.paused && m.state === 'running' ? 'paused' : m.state,
      ...(m.exit ? { exit: m.exit } : {}),
      restarts: m.restarts,
    }))
  }

  /** The container id of a service or member (for users who want `docker logs`/`exec`). */
  containerOf(name: string): string | undefined {
    return this.service(name).containerId
  }

  async health(): Promise<HealthProbe[]> {
    return Promise.all(
      [...this.members.values()].map(async (m) => {
        if (!m.hostPort) return { name: m.name, error: 'no published port' }
        const probe = await getHealth(`${this.urlOf(m)}${m.readiness.path}`, 1_000)
        return { name: m.name, ...probe }
      }),
    )
  }

  fleetSize(fleet: string): number {
    return this.fleet(fleet).count
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
      if (to > from) {
        // Compose created these replicas (at boot, from the experiment's peak, or just now);
        // starting one is an engine call, so a paced addition keeps its pace.
        const added = await this.takeSpares(fleet, to - from)
        f.count = to
        const waits: Promise<WaitOutcome>[] = []
        for (const [i, m] of added.entries()) {
          // A paced addition starts a server every stepEveryMs, ready or not, as operators do; a
          // container's start (seconds on a busy engine) does not hold up the next one.
          if (i > 0 && opts.stepEveryMs) await new Promise((r) => setTimeout(r, opts.stepEveryMs))
          this.assertRunning()
          waits.push(
            this.startContainer(m).then(
              () => this.waitReady(m),
              (err: Error): WaitOutcome => ({ ready: false, reason: `the container did not start: ${err.message}` }),
            ),
          )
        }
        const outcomes = await Promise.all(waits)
        added.forEach((m, i) => {
          result.added.push(m.name)
          const o = outcomes[i]
          if (!o.ready) result.notReady.push({ name: m.name, reason: o.reason })
        })
      } else if (to < from) {
        // The highest-numbered replicas leave first (compose's own order), each out of membership
        // before its container stops, so peers and the endpoint see a removal, not a crash.
        // Metadata keeps members until deleted: a replica removed without this would stay listed.
        const membership = this.members.get(f.spec.membership)!
        const leaving = this.fleetMembers(fleet).slice(to).reverse()
        // Leaving from now on: a member that sees itself out of membership and exits is not a crash.
        for (const m of leaving) m.state = 'stopping'
        for (const m of leaving) await deregisterMember(this.urlOf(membership), fleet, m.memberId ?? m.name)
        f.count = to
        await Promise.all(leaving.map((m) => this.removeMember(m)))
        for (const m of leaving) {
          this.members.delete(m.name)
          result.removed.push(m.name)
        }
      }
      await this.reconcileMembership(f.spec)
      this.emit('fleet-scaled', { ...result })
      return result
    })
  }

  /**
   * Members register themselves, and metadata keeps a member until it is deleted: any id listed
   * for the fleet that is not one of its containers now (a container removed behind the harness's
   * back, a failed deregistration) is deleted, so no peer keeps a thread for a ghost.
   */
  private async reconcileMembership(fleet: FleetSpec): Promise<string[]> {
    const membership = this.members.get(fleet.membership)
    if (!membership?.hostPort) return []
    const current = new Set(this.fleetMembers(fleet.name).map((m) => m.memberId ?? m.name))
    try {
      const res = await request(`${this.urlOf(membership)}/fleets/${encodeURIComponent(fleet.name)}/members`, { headersTimeout: 5_000, bodyTimeout: 5_000 })
      const body = (await res.body.json()) as { members?: { id: string }[] }
      const ghosts = (body.members ?? []).map((x) => x.id).filter((id) => !current.has(id))
      for (const id of ghosts) await deregisterMember(this.urlOf(membership), fleet.name, id)
      return ghosts
    } catch {
      return []
    }
  }

  private async removeMember(m: Member): Promise<void> {
    m.state = 'stopping'
    const c = this.container(m)
    try {
      if (m.paused) await c.unpause()
    } catch {}
    try {
      await c.stop({ t: Math.ceil((this.opts.stopGraceMs ?? 1_000) / 1000) })
    } catch {}
    await c.remove({ force: true, v: true }).catch(() => {})
    m.state = 'stopped'
    this.emit('service-stopped', { name: m.name, container: m.containerId?.slice(0, 12) })
  }

  async setThreadLimit(fleet: string, to: number): Promise<{ fleet: string; from: number; to: number; live: string[] }> {
    const f = this.fleet(fleet)
    if (!Number.isInteger(to) || to < 1) throw new InvalidOperation('INVALID_ARGUMENT', `a thread limit must be a positive integer, got ${to}`)
    return this.serialize(fleet, async () => {
      const from = f.spec.threadLimit
      f.spec = { ...f.spec, threadLimit: to }
      // Members to come: the override's pids_limit and THREAD_LIMIT (up --no-recreate leaves the
      // running ones alone).
      const svc = this.plan.override.services[fleetService(f.spec)]
      svc.pids_limit = to
      svc.environment = { ...(svc.environment as Record<string, string>), ...fleetEnv(f.spec) }
      writeOverride(this.overrideFile, this.plan)
      // Running members: docker update rewrites their pids.max at once.
      const live: string[] = []
      for (const m of this.fleetMembers(fleet)) {
        if (!m.containerId || m.state === 'stopped') continue
        await this.container(m).update({ PidsLimit: to })
        live.push(m.name)
      }
      return { fleet, from, to, live }
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
        settled: (m) => waitForHealth({ url: this.urlOf(m), path: '/health', timeoutMs: m.readiness.timeoutMs, mapSettled: true, exited: m.died }),
        stopping: () => !!this.stopping,
      })
      await this.reconcileMembership(this.fleet(fleet).spec)
      const result: RestartResult = { fleet, restarted: members.map((m) => m.name), notReady: [], durationMs: Date.now() - began }
      outcomes.forEach((o, i) => {
        if (!o.ready) result.notReady.push({ name: members[i].name, reason: o.reason })
      })
      this.emit('fleet-restarted', { ...result, ...(paced ? { ratePerSec: opts.ratePerSec, ...(opts.waitReady ? { waitReady: true } : {}) } : { all: true }) })
      return result
    })
  }

  /** docker restart: SIGTERM, then SIGKILL after the grace; the same container starts again. */
  private async restartMember(m: Member): Promise<WaitOutcome> {
    const c = this.container(m)
    m.state = 'stopping'
    if (m.paused) {
      await c.unpause().catch(() => {})
      m.paused = false
    }
    await c.restart({ t: Math.ceil((this.opts.stopGraceMs ?? 1_000) / 1000) })
    this.emit('service-stopped', { name: m.name, container: m.containerId?.slice(0, 12), restart: true })
    m.restarts++
    m.exit = undefined
    m.state = 'starting'
    this.armDeath(m)
    // A published ephemeral port may change when a container starts again.
    await this.refreshPort(m)
    this.emit('service-started', { name: m.name, container: m.containerId?.slice(0, 12) })
    return this.waitReady(m)
  }

  async kill(name: string): Promise<void> {
    const m = this.service(name)
    if (m.state === 'exited' || m.state === 'stopped' || !m.containerId) return
    this.emit('member-killed', { name, container: m.containerId.slice(0, 12) })
    const c = this.container(m)
    if (m.paused) {
      await c.unpause().catch(() => {})
      m.paused = false
    }
    const died = m.died
    await c.kill({ signal: 'SIGKILL' })
    // The die event marks it exited; do not hang on a missed event.
    await Promise.race([died, new Promise((r) => setTimeout(r, 10_000).unref())])
  }

  async pause(name: string): Promise<void> {
    const m = this.service(name)
    if (m.state !== 'running' && m.state !== 'starting') throw new InvalidOperation('INVALID_ARGUMENT', `${name} is not running`)
    // The freezer cgroup: every task stops at once, sockets stay open (the local SIGSTOP).
    await this.container(m).pause()
    m.paused = true
    this.emit('member-paused', { name, container: m.containerId?.slice(0, 12) })
  }

  async resume(name: string): Promise<void> {
    const m = this.service(name)
    if (!m.paused) throw new InvalidOperation('INVALID_ARGUMENT', `${name} is not paused`)
    await this.container(m).unpause()
    m.paused = false
    this.emit('member-resumed', { name, container: m.containerId?.slice(0, 12) })
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

  /**
   * A real partition: the container leaves every network, so it reaches nothing and nothing
   * reaches it (its published port included: the harness sees it as down, unlike the local
   * backend's fault rules that keep /health answering).
   */
  async partition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    if (m.partitioned) return { how: 'already partitioned' }
    const info = await this.container(m).inspect()
    const nets = Object.entries<{ Aliases?: string[] | null }>(info.NetworkSettings?.Networks ?? {})
    m.partitioned = nets.map(([network, ep]) => ({ network, aliases: (ep.Aliases ?? []).filter((a) => !m.containerId!.startsWith(a)) }))
    for (const { network } of m.partitioned) {
      await this.client.container.dockerode.getNetwork(network).disconnect({ Container: m.containerId, Force: true })
    }
    return { how: `docker network disconnect ${m.partitioned.map((n) => n.network).join(', ')}` }
  }

  async healPartition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    const nets = m.partitioned
    if (!nets) return { how: 'was not partitioned' }
    for (const { network, aliases } of nets) {
      await this.client.container.dockerode.getNetwork(network).connect({ Container: m.containerId, EndpointConfig: { Aliases: aliases } })
    }
    m.partitioned = undefined
    await this.refreshPort(m)
    return { how: `docker network connect ${nets.map((n) => `${n.network} (aliases ${n.aliases.join(', ') || 'none'})`).join('; ')}` }
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
    for (const m of this.members.values()) if (m.state !== 'exited') m.state = 'stopping'
    if (this.client) {
      if (this.opts.keepLogs !== false) await this.saveLogs()
      try {
        const tc = await testcontainers()
        if (this.composeEnv) await this.composeEnv.down({ timeout: this.opts.stopGraceMs ?? 1_000, removeVolumes: true })
        else if (this.plan && fs.existsSync(this.overrideFile)) {
          // Failed before the first `up` returned: compose's own down, same files and project.
          const client = await tc.getContainerRuntimeClient()
          await client.compose.down(this.composeOptions() as never, { timeout: this.opts.stopGraceMs ?? 1_000, removeVolumes: true })
        }
      } catch {}
      // Whatever compose did not remove (a failed down, a container it no longer knows).
      await this.removeLeftovers()
    }
    this.events?.destroy?.()
    for (const m of this.members.values()) {
      if (m.state !== 'exited') m.state = 'stopped'
      m.markDied?.()
    }
    if (this.reaperPid) {
      try {
        process.kill(this.reaperPid, 'SIGTERM')
      } catch {}
    }
    process.removeListener('exit', this.onExit)
  }

  private async removeLeftovers(): Promise<void> {
    const d = this.client.container.dockerode
    const filters = { label: [`com.docker.compose.project=${this.projectName}`] }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const left = await d.listContainers({ all: true, filters })
        await Promise.all(left.map((c: { Id: string }) => d.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})))
        const nets = await d.listNetworks({ filters })
        await Promise.all(nets.map((n: { Id: string }) => d.getNetwork(n.Id).remove().catch(() => {})))
        if (left.length === 0 && nets.length === 0) return
      } catch {}
    }
  }

  private async saveLogs(): Promise<void> {
    await Promise.all(
      [...this.members.values()].map(async (m) => {
        if (!m.containerId) return
        try {
          const buf = (await this.client.container.dockerode.getContainer(m.containerId).logs({ stdout: true, stderr: true })) as unknown as Buffer
          fs.writeFileSync(path.join(this.runDir, 'logs', `${m.name}.log`), demux(buf))
        } catch {}
      }),
    )
  }
}

/** The kernel's CFS weight of a task at a niceness (kernel/sched/core.c, sched_prio_to_weight). */
export function niceWeight(nice: number): number {
  const table = [
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
    1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
  ]
  return table[Math.min(39, Math.max(0, Math.round(nice) + 20))]
}

/** docker logs of a container without a TTY: frames of [stream, 0, 0, 0, size (BE u32)] + payload. */
function demux(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf)
  const parts: Buffer[] = []
  let i = 0
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4)
    parts.push(buf.subarray(i + 8, i + 8 + size))
    i += 8 + size
  }
  return Buffer.concat(parts).toString('utf8')
}

// The few shapes of testcontainers and dockerode this module uses (dockerode's own types are a
// transitive dependency; not imported, so the build does not depend on their presence).
interface RuntimeClient {
  container: { dockerode: any }
  compose: { down(options: unknown, down: { timeout: number; removeVolumes: boolean }): Promise<void> }
}
interface StartedComposeEnvironment {
  down(options?: { timeout?: number; removeVolumes?: boolean }): Promise<unknown>
}
