// A topology running on containers: the experiment's env, thread limits and secrets go into an
// override file (file.ts); every container is created by one compose call, then started wave by
// wave through the engine and waited on /health (an AWS-facing service through its published
// 127.0.0.1 port, an internal one at its container address: reach.ts) with the model's readiness
// rules, as on the local platform (neither compose's health-check interval nor
// its dependency conditions set the pace). A fleet's replicas up to its peak are created ahead;
// process faults are container faults, the partition a network disconnect. Teardown always:
// `down`, then whatever carries the project's label (also on signals, at exit, and by a detached
// watcher when the harness is SIGKILLed; Ryuk is off: its image cannot be pulled here).
import fs from 'node:fs'
import path from 'node:path'
import { memberCell, memberNumber, type FleetSpec, type Topology } from '../../topology/model.js'
import { MAX_FLEET_SIZE } from '../../topology/catalogue.js'
import { InvalidOperation, ServiceNotReady } from '../../topology/errors.js'
import { StartedTopologyBase, type FleetState, type MemberBase, type MemberProcess, type ThreadLimitChange } from '../base.js'
import { PACKAGE_ROOT } from '../paths.js'
import { freePorts } from '../ports.js'
import { deregisterGhosts } from '../membership.js'
import { waitForHealth, type WaitOutcome } from '../readiness.js'
import type { ThreadLimitEnforcement } from '../started.js'
import type { ComposeFlavour, EngineCgroups } from './engine.js'
import { ComposeProject, runtimeClient } from './project.js'
import { CONTAINER_PORT, fleetEnv, fleetService, isInternal, planCompose, readComposeFile, writeOverride, type ComposePlan } from './file.js'
import { internalReach, type InternalReach } from './reach.js'
import { cpuPlacement } from './cpu.js'
import { watchProjectEvents, type ContainerDied } from './events.js'
import { MissingImage, containerAddress, containerLog, disconnectAll, projectResources, publishedPort, reconnect } from './docker.js'
import { removeProject, removeProjectSync, removeRunImages, saveLogs, startProjectReaper, writePlacement } from './docker.js'
import type { ContainerSummary, DockerContainer, RuntimeClient } from './docker.js'
import { DEFAULT_IMAGE, type ComposeContext } from './index.js'

interface ComposeMember extends MemberBase {
  /** The compose service it is a container of. */
  service: string
  /** The port it listens on inside its container (CONTAINER_PORT, or a customer's own). */
  containerPort: number
  containerId?: string
  /** Metadata, a back-end, a front-end: not published unless the host cannot reach its address. */
  internal: boolean
  hostPort?: number
  /** Its address on the project's network (what the harness reaches an unpublished one at). */
  address?: string
  pid?: number
  paused: boolean
  exit?: { code: number | null; signal: string | null }
  /** Resolved when the container dies (a readiness wait fails at once then). */
  died?: Promise<void>
  markDied?: () => void
  /** Its placement (cell) is written into its container. */
  placed?: boolean
  /** Networks and aliases it had before a partition. */
  partitioned?: { network: string; aliases: string[] }[]
}

export class StartedComposeTopology extends StartedTopologyBase<ComposeMember> {
  readonly threadLimitEnforcement: ThreadLimitEnforcement = 'docker'
  readonly projectName: string
  readonly composeFile: string
  readonly overrideFile: string
  readonly image: string
  private readonly opts: ComposeContext
  /** Created, never started replicas of each fleet, lowest replica number first: not members yet. */
  private readonly spares = new Map<string, ComposeMember[]>()
  private plan!: ComposePlan
  private project!: ComposeProject
  private client?: RuntimeClient
  private events?: { destroy?: () => void }
  private reaperPid?: number
  private reach: InternalReach = { published: true, why: 'not decided yet' }

  constructor(
    topology: Topology,
    opts: ComposeContext,
    readonly compose: ComposeFlavour,
    private readonly engineCgroups: EngineCgroups = { driver: '', version: '' },
  ) {
    super(topology, opts)
    this.opts = opts
    this.projectName = (opts.projectName ?? `outage-lab-${this.runId}`).toLowerCase().replace(/[^a-z0-9_-]/g, '-')
    this.composeFile = path.resolve(opts.composeFile ?? path.join(PACKAGE_ROOT, 'docker-compose.yml'))
    this.overrideFile = path.join(this.runDir, 'docker-compose.override.yml')
    this.image = opts.image ?? DEFAULT_IMAGE
  }

  private get docker() {
    return this.client!.container.dockerode
  }

  // ---- boot ---------------------------------------------------------------------------------

  async boot(): Promise<void> {
    const file = readComposeFile(this.composeFile)
    this.client = await runtimeClient()
    this.reach = await internalReach(this.docker)
    this.emit('internal-ports', this.reach.published ? { published: true, why: this.reach.why } : { published: false, how: this.reach.how })
    const publishInternal = this.reach.published
    const published = this.topology.services.filter((s) => publishInternal || !isInternal(s))
    const ports = await freePorts(published.length)
    const hostPorts = Object.fromEntries(published.map((s, i) => [s.name, ports[i]]))
    this.plan = planCompose(this.topology, file, {
      runId: this.runId,
      adminToken: this.adminToken,
      internalToken: this.internalToken,
      secret: (name) => this.secretValue(name),
      hostPorts,
      publishInternal,
      env: { LOG_LEVEL: 'info', ...this.opts.env },
      ...this.cpu(),
    })
    this.project = new ComposeProject(this.projectName, this.composeFile, this.overrideFile, this.compose, this.image, () => this.plan)
    try {
      await this.docker.getImage(this.image).inspect()
    } catch {
      throw new MissingImage(this.image)
    }
    fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true })
    writeOverride(this.overrideFile, this.plan)
    for (const s of this.topology.services) {
      this.members.set(s.name, {
        name: s.name,
        kind: s.kind,
        service: s.name,
        containerPort: s.customer?.port ?? CONTAINER_PORT,
        internal: isInternal(s),
        ...(s.customer ? { customer: s.customer } : {}),
        readiness: s.readiness,
        hostPort: hostPorts[s.name],
        state: 'stopped',
        paused: false,
        restarts: 0,
      })
    }

    // From here on something may run: every exit path tears it down.
    this.installExitHandlers()
    if (this.opts.reaper !== false) this.reaperPid = startProjectReaper(this.projectName, this.runId, path.join(this.runDir, 'logs', 'reaper.log'))
    this.events = await watchProjectEvents(this.docker, this.projectName, {
      died: (e) => this.onDie(e),
      // A failure here (the container gone again, teardown under way) must not end the run.
      started: (id) => void this.onRestartedByDocker(id).catch(() => {}),
    })
    await this.bootGuarded(
      async () => {
        // Every container is created by one compose call, then started wave by wave through the
        // engine's API: one compose invocation per wave cost several seconds each (v1 is a Python
        // program that re-reads the project every time), more than the services' own start.
        const created = this.topology.fleets
          .map((f) => ({ f, replicas: Math.max(f.count, Math.min(MAX_FLEET_SIZE, this.opts.fleetPeaks?.[f.name] ?? 0)) }))
          .filter((x) => x.replicas > 0)
        await this.project.create(
          [...this.topology.services.map((s) => s.name), ...created.map((x) => fleetService(x.f))],
          created.flatMap((x) => ['--scale', `${fleetService(x.f)}=${x.replicas}`]),
        )
        this.setAside(await this.adoptContainers())
      },
      async (wave, i) => {
        const waiting = this.waveMembers(wave)
        // The first wave (the services nothing is started before) goes up through
        // DockerComposeEnvironment, which then owns the project's teardown (`down`); later waves
        // start their created containers through the engine.
        const byCompose = i === 0 ? waiting.filter((m) => !m.fleet) : []
        if (byCompose.length) await this.project.up(byCompose.map((m) => m.service))
        await Promise.all(waiting.map((m) => this.startContainer(m, byCompose.includes(m))))
        // The first failure ends the boot; teardown ends the other waits.
        await Promise.all(waiting.map((m) => this.waitReadyOrThrow(m)))
      },
    )
  }

  private cpu(): { cpu?: { cgroupParent: string; shares: number } } {
    if (this.opts.servicesNice === undefined) return {}
    const placement = cpuPlacement(this.opts.servicesNice, this.engineCgroups)
    this.emit('cgroups', { cpu: placement.note })
    return placement.cpu ? { cpu: placement.cpu } : {}
  }

  /**
   * Starts a created (or stopped) container, or adopts one compose or Docker itself just started;
   * its published port is known from then on.
   */
  private async startContainer(m: ComposeMember, startedElsewhere = false): Promise<void> {
    if (!m.containerId) throw new ServiceNotReady(m.name, 'compose created no container for it', '')
    if (!startedElsewhere) {
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
   * share one config): written into its created container before its first start. A restart
   * keeps the container, so the member keeps its cell.
   */
  private async place(m: ComposeMember): Promise<void> {
    if (m.fleet?.cellSize === undefined || m.placed) return
    await writePlacement(this.container(m), memberCell(m.fleet, memberNumber(m.fleet, m.name)!))
    m.placed = true
  }

  /** Maps the project's containers to members (new replicas become members), with their host ports. */
  private async adoptContainers(): Promise<ComposeMember[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.projectName}`] } })
    const fresh: ComposeMember[] = []
    const number = (c: ContainerSummary) => Number(c.Labels['com.docker.compose.container-number'])
    list.sort((a, b) => number(a) - number(b))
    for (const c of list) {
      const service = c.Labels['com.docker.compose.service']
      const fleet = [...this.fleets.values()].find((f) => fleetService(f.spec) === service)?.spec
      const name = fleet ? `${fleet.memberPrefix}-${number(c)}` : service
      let m = this.members.get(name) ?? (fleet ? this.spares.get(fleet.name)?.find((x) => x.name === name) : undefined)
      if (!m && fleet) {
        m = {
          name,
          kind: fleet.kind,
          service,
          containerPort: CONTAINER_PORT,
          internal: isInternal(fleet),
          fleet,
          readiness: fleet.readiness,
          state: 'stopped',
          paused: false,
          restarts: 0,
        }
        this.members.set(name, m)
      }
      if (!m) continue
      if (m.containerId !== c.Id) {
        m.containerId = c.Id
        // The id it registers with in metadata (docker/entry.mjs).
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
  private setAside(fresh: ComposeMember[]): void {
    for (const [name, f] of this.fleets) {
      const extra = this.fleetMembers(name)
        .slice(f.count)
        .filter((m) => fresh.includes(m) && m.state === 'stopped')
      for (const m of extra) this.members.delete(m.name)
      const spares = [...(this.spares.get(name) ?? []), ...extra]
      spares.sort((a, b) => memberNumber(f.spec, a.name)! - memberNumber(f.spec, b.name)!)
      this.spares.set(name, spares)
    }
  }

  private armDeath(m: ComposeMember): void {
    m.died = new Promise<void>((resolve) => (m.markDied = resolve))
  }

  /** Its published port and its address: either may change when a container starts again or rejoins its network. */
  private async refreshPort(m: ComposeMember): Promise<void> {
    if (!m.containerId) return
    const info = await this.docker.getContainer(m.containerId).inspect()
    m.pid = info.State?.Pid || undefined
    m.hostPort = publishedPort(info, m.containerPort) ?? m.hostPort
    m.address = containerAddress(info) ?? m.address
  }

  private async waitReady(m: ComposeMember): Promise<WaitOutcome> {
    if (!this.urlOf(m)) return { ready: false, reason: m.internal && !this.reach.published ? 'no address on the project network' : 'no published port' }
    const r = m.readiness
    const outcome = await waitForHealth({ url: this.urlOf(m), path: r.path, timeoutMs: r.timeoutMs, atLeast: r.atLeast, exited: m.died })
    if (outcome.ready && m.state === 'starting') {
      m.state = 'running'
      this.emit('service-ready', { name: m.name, container: m.containerId?.slice(0, 12) })
    }
    return outcome.ready ? outcome : { ready: false, reason: outcome.reason.replace('the process exited', 'the container exited') }
  }

  private async waitReadyOrThrow(m: ComposeMember): Promise<void> {
    const outcome = await this.waitReady(m)
    if (!outcome.ready && m.customer) throw this.customerNotReady(m, outcome, m.exit, await this.logTail(m))
    if (!outcome.ready) throw new ServiceNotReady(m.name, outcome.reason, await this.logTail(m))
  }

  // ---- engine events ------------------------------------------------------------------------

  private byContainer(id: string | undefined): ComposeMember | undefined {
    return [...this.members.values()].find((x) => x.containerId === id)
  }

  private onDie(e: ContainerDied): void {
    const m = this.byContainer(e.id)
    if (!m) return
    m.exit = { code: e.code, signal: e.code === 137 ? 'SIGKILL' : e.code === 143 ? 'SIGTERM' : null }
    m.markDied?.()
    if (m.state !== 'stopping' && m.state !== 'stopped') {
      m.state = 'exited'
      this.emit('service-exited', { name: m.name, container: m.containerId?.slice(0, 12), ...m.exit })
    }
  }

  /**
   * A front-end removed from its fleet exits 75 and its restart policy (`on-failure`, set when the
   * fleet's endpoint removes members) starts the same container again: the fleet's scheduler
   * replacing the server, as on the local platform. The harness did not start it: it learns the
   * new published port and waits for it like any member. Starts the harness made itself find the
   * member no longer `exited` and are left alone.
   */
  private async onRestartedByDocker(id: string): Promise<void> {
    const m = this.byContainer(id)
    if (!m?.fleet || m.state !== 'exited' || this.stopping) return
    m.restarts++
    this.emit('member-replaced', { name: m.name, container: m.containerId?.slice(0, 12), reason: `restart policy after exit ${m.exit?.code}` })
    await this.startContainer(m, true)
    await this.waitReady(m)
  }

  // ---- what the base asks of a platform -----------------------------------------------------

  protected urlOf(m: ComposeMember): string {
    if (m.internal && !this.reach.published) return m.address ? `http://${m.address}:${m.containerPort}` : ''
    return m.hostPort ? `http://127.0.0.1:${m.hostPort}` : ''
  }

  protected processOf(m: ComposeMember): MemberProcess {
    return { ...(m.pid !== undefined ? { pid: m.pid } : {}), paused: m.paused, ...(m.exit ? { exit: m.exit } : {}) }
  }

  protected diedOf(m: ComposeMember): Promise<unknown> | undefined {
    return m.died
  }

  protected async logTail(m: ComposeMember): Promise<string> {
    return m.containerId && this.client ? (await containerLog(this.docker, m.containerId, 20)).trimEnd() : ''
  }

  /** The next n replicas of a fleet, created first (one compose call) when too few wait. */
  protected async newMembers(f: FleetState, n: number): Promise<ComposeMember[]> {
    const fleet = f.spec.name
    if ((this.spares.get(fleet) ?? []).length < n) {
      const service = fleetService(f.spec)
      await this.project.create([service], ['--no-recreate', '--scale', `${service}=${this.fleetMembers(fleet).length + n}`])
      this.setAside(await this.adoptContainers())
    }
    const taken = (this.spares.get(fleet) ?? []).splice(0, n)
    for (const m of taken) this.members.set(m.name, m)
    return taken
  }

  /** Replicas register themselves (docker/entry.mjs). */
  protected async admit(): Promise<void> {}

  protected launch(m: ComposeMember): Promise<WaitOutcome> {
    // Starting a created replica is an engine call (a fraction of a second), so a paced addition
    // keeps its pace.
    return this.startContainer(m).then(
      () => this.waitReady(m),
      (err: Error): WaitOutcome => ({ ready: false, reason: `the container did not start: ${err.message}` }),
    )
  }

  protected async retire(m: ComposeMember): Promise<void> {
    m.state = 'stopping'
    const c = this.container(m)
    if (m.paused) await c.unpause().catch(() => {})
    await c.stop({ t: this.graceSeconds() }).catch(() => {})
    await c.remove({ force: true, v: true }).catch(() => {})
    m.state = 'stopped'
    this.emit('service-stopped', { name: m.name, container: m.containerId?.slice(0, 12) })
  }

  /**
   * Members register themselves, and metadata keeps a member until it is deleted: any id listed
   * for the fleet that is not one of its containers now (a container removed behind the harness's
   * back, a failed deregistration) is deleted, so no peer keeps a thread for a ghost.
   */
  protected override async reconcile(fleet: FleetSpec): Promise<void> {
    const membership = this.members.get(fleet.membership)
    if (!membership || !this.urlOf(membership)) return
    await deregisterGhosts(this.urlOf(membership), fleet.name, new Set(this.fleetMembers(fleet.name).map((m) => m.memberId ?? m.name)), this.internalToken)
  }

  /** docker restart: SIGTERM, then SIGKILL after the grace; the same container starts again. */
  protected async restartMember(m: ComposeMember): Promise<WaitOutcome> {
    const c = this.container(m)
    m.state = 'stopping'
    await this.unpaused(m, c)
    await c.restart({ t: this.graceSeconds() })
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

  private graceSeconds(): number {
    return Math.ceil((this.opts.stopGraceMs ?? 1_000) / 1000)
  }

  private async unpaused(m: ComposeMember, c: DockerContainer): Promise<void> {
    if (!m.paused) return
    await c.unpause().catch(() => {})
    m.paused = false
  }

  private container(m: ComposeMember): DockerContainer {
    if (!m.containerId) throw new InvalidOperation('INVALID_ARGUMENT', `${m.name} has no container`)
    return this.docker.getContainer(m.containerId)
  }

  // ---- faults -------------------------------------------------------------------------------

  /** The container id of a service or member (for users who want `docker logs`/`exec`). */
  containerOf(name: string): string | undefined {
    return this.service(name).containerId
  }

  async setThreadLimit(fleet: string, to: number): Promise<ThreadLimitChange> {
    this.checkThreadLimit(fleet, to)
    return this.serialize(fleet, async () => {
      const { f, from } = this.changeThreadLimit(fleet, to)
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

  async kill(name: string): Promise<void> {
    const m = this.service(name)
    if (m.state === 'exited' || m.state === 'stopped' || !m.containerId) return
    this.emit('member-killed', { name, container: m.containerId.slice(0, 12) })
    const c = this.container(m)
    await this.unpaused(m, c)
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

  /**
   * A real partition: the container leaves every network, so it reaches nothing and nothing
   * reaches it (its published port included: the harness sees it as down, unlike the local
   * platform's fault rules that keep /health answering).
   */
  async partition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    if (m.partitioned) return { how: 'already partitioned' }
    m.partitioned = await disconnectAll(this.docker, m.containerId!)
    return { how: `docker network disconnect ${m.partitioned.map((n) => n.network).join(', ')}` }
  }

  async healPartition(name: string): Promise<{ how: string }> {
    const m = this.service(name)
    const nets = m.partitioned
    if (!nets) return { how: 'was not partitioned' }
    await reconnect(this.docker, m.containerId!, nets)
    m.partitioned = undefined
    await this.refreshPort(m)
    return { how: `docker network connect ${nets.map((n) => `${n.network} (aliases ${n.aliases.join(', ') || 'none'})`).join('; ')}` }
  }

  async leftovers(): Promise<string[]> {
    return this.client ? projectResources(this.docker, this.projectName) : []
  }

  protected killAllSync(): void {
    removeProjectSync(this.projectName, this.runId)
  }

  protected async teardown(): Promise<void> {
    for (const m of this.members.values()) if (m.state !== 'exited') m.state = 'stopping'
    if (this.client) {
      if (this.opts.keepLogs !== false) await saveLogs(this.docker, [...this.members.values()], path.join(this.runDir, 'logs'))
      try {
        if (this.project && fs.existsSync(this.overrideFile)) await this.project.down(this.opts.stopGraceMs ?? 1_000)
      } catch {}
      // Whatever compose did not remove (a failed down, a container it no longer knows).
      await removeProject(this.docker, this.projectName)
      await removeRunImages(this.docker, this.runId)
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
  }
}
