// What a platform returns once a topology runs. Local processes and docker compose sit behind this
// one interface, so faults, workload and the CLI never know which platform they drive.

export type { ThreadLimitEnforcement } from '../topology/catalogue.js'
import type { ThreadLimitEnforcement } from '../topology/catalogue.js'
export type ServiceState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'exited'

export interface ServiceStatus {
  name: string
  kind: string
  fleet?: string
  url: string
  pid?: number
  state: ServiceState
  /** How the service's last process ended, when it did. */
  exit?: { code: number | null; signal: string | null }
  restarts: number
  /** A customer service (the user's own): the access key it calls the lab with, its metrics path if it has one. */
  customer?: { accessKeyId: string; metricsPath?: string }
}

export interface HealthProbe {
  name: string
  /** HTTP status of GET /health; absent when the service did not answer. */
  status?: number
  body?: Record<string, unknown>
  error?: string
}

export interface Endpoints {
  runId: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** The URL to give the AWS SDK's Kinesis client as `endpoint`. */
  kinesis?: string
  services: Record<string, string>
  fleets: Record<string, { members: string[]; memberUrls: string[]; endpoint?: string }>
}

export interface ScaleOptions {
  stepEveryMs?: number
}

export interface ScaleResult {
  fleet: string
  from: number
  to: number
  added: string[]
  removed: string[]
  /** Members that were started but did not become ready (they are left running). */
  notReady: { name: string; reason: string }[]
}

export interface RestartOptions {
  /** Members restarted per second; a member's restart begins every 1000/ratePerSec ms. */
  ratePerSec?: number
  /** Restart every member at once. */
  all?: boolean
  /** With a rate: a member's restart also waits until the previous member's shard-map settled. */
  waitReady?: boolean
}

export interface RestartResult {
  fleet: string
  restarted: string[]
  notReady: { name: string; reason: string }[]
  durationMs: number
}

export interface TopologyEvent {
  atMs: number
  kind:
    | 'service-started'
    | 'service-ready'
    | 'service-exited'
    | 'service-stopped'
    | 'fleet-scaled'
    | 'fleet-restarted'
    | 'member-killed'
    | 'member-paused'
    | 'member-resumed'
    | 'member-replaced'
    | 'cgroups'
    | 'internal-ports'
  detail: Record<string, unknown>
}

export interface StartedTopology extends AsyncDisposable {
  readonly runId: string
  /** The run folder: logs/ (compose copies container logs there at teardown), data, state. */
  readonly runDir: string
  /** Bearer token every service accepts on /admin/*. */
  readonly adminToken: string
  /**
   * The run's internal credential: the lab's services demand it on internal routes (metadata,
   * back-ends, peer routes, hooks, /metrics) in the x-outage-lab-internal header. Only the lab's
   * services and the harness hold it; customer services never get it.
   */
  readonly internalToken: string
  readonly threadLimitEnforcement: ThreadLimitEnforcement
  /** Why enforcement is weaker than the OS gives, when it is. */
  readonly enforcementNote?: string
  endpoints(): Endpoints
  /** Where a service's log is kept (the run folder's logs/<name>.log; compose copies container logs there at teardown). */
  logFileOf(name: string): string
  /** A per-run secret the topology's env names ({ secret: name }), once a service using it started. */
  secret(name: string): string | undefined
  services(): ServiceStatus[]
  health(): Promise<HealthProbe[]>
  fleetSize(fleet: string): number
  /** stepEveryMs: add members one at a time, this far apart (backends that cannot pace add them at once). */
  scaleFleet(fleet: string, to: number, opts?: ScaleOptions): Promise<ScaleResult>
  /**
   * Changes a fleet's OS thread limit: at once for running members where the OS enforces it
   * (pids.max), for members started from now on everywhere. Returns the members changed live.
   */
  setThreadLimit(fleet: string, to: number): Promise<{ fleet: string; from: number; to: number; live: string[] }>
  restartFleet(fleet: string, opts: RestartOptions): Promise<RestartResult>
  /** SIGKILL one service; it stays down until restart(). */
  kill(name: string): Promise<void>
  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  pause(name: string): Promise<void>
  resume(name: string): Promise<void>
  /** Stop and start one service on the same address; resolves when it is ready again. */
  restart(name: string): Promise<void>
  /**
   * Cuts one service off the network: it can neither be reached nor reach anything (local: reset
   * rules on both directions through its admin API; compose: network disconnect).
   */
  partition(name: string): Promise<{ how: string }>
  healPartition(name: string): Promise<{ how: string }>
  stop(): Promise<void>
  /**
   * What of this run still exists on the machine (processes, containers, networks, cgroups), one
   * line each: empty once stop() has resolved. The contract test of every platform asserts it.
   */
  leftovers(): Promise<string[]>
}
