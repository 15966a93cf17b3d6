// The compose platform: the same topology as the local platform, on containers of
// docker-compose.yml, driven through testcontainers' DockerComposeEnvironment (compose v2, or v1
// as a standalone executable). A front-end's thread limit is its container's pids_limit (the same
// pids controller as the local platform's cgroups), so /health reports thread_limit_enforcement
// `docker`.
import { execFile } from 'node:child_process'
import { validateTopology, type Topology } from '../../topology/model.js'
import type { Platform, PlatformContext } from '../platform.js'
import { detectDocker } from './engine.js'
import { MEASURED_NICE } from './cpu.js'
import { StartedComposeTopology } from './started.js'

/** The one image of every service, built by `make image`. */
export const DEFAULT_IMAGE = process.env.OUTAGE_LAB_IMAGE ?? 'outage-lab:latest'

export interface ComposeContext extends PlatformContext {
  /** default `<package>/docker-compose.yml` */
  composeFile?: string
  /** default `outage-lab:latest` (built by `make image`) */
  image?: string
  /** Compose project; default `outage-lab-<runId>`, so runs never touch a stack started by hand. */
  projectName?: string
  /** Copy each container's log to <runDir>/logs/<name>.log at teardown (default true). */
  keepLogs?: boolean
  /** Weight every container like a host process at this niceness (cpu.ts); default MEASURED_NICE when measured. */
  servicesNice?: number
}

/** No Docker engine or compose on this machine: the compose platform cannot run (reason says why). */
export class DockerUnavailable extends Error {
  readonly code = 'DOCKER_UNAVAILABLE'
  constructor(reason: string) {
    super(`the compose platform needs Docker: ${reason}`)
    this.name = 'DockerUnavailable'
  }
}

export const composePlatform: Platform<StartedComposeTopology, ComposeContext> = {
  name: 'compose',
  description: 'containers of docker-compose.yml (compose v2 or v1), front-ends under pids_limit',
  async unavailable(context: ComposeContext = {}): Promise<string | undefined> {
    const docker = await detectDocker()
    if (!docker.ok) return docker.reason
    const image = context.image ?? DEFAULT_IMAGE
    const built = await new Promise<boolean>((resolve) => execFile('docker', ['image', 'inspect', image], (err) => resolve(!err)))
    return built ? undefined : `image ${image} is not built (run make image)`
  },
  customerIssue(c, path) {
    if (c.image || c.build) return undefined
    return { path: `${path}.image`, expected: 'an image, or a build context (build), to run it on the compose platform', got: 'neither' }
  },
  async start(topology: Topology, context: ComposeContext = {}): Promise<StartedComposeTopology> {
    validateTopology(topology)
    const docker = await detectDocker()
    if (!docker.ok) throw new DockerUnavailable(docker.reason)
    const nice = context.servicesNice ?? (context.measured ? MEASURED_NICE : undefined)
    const run = new StartedComposeTopology(topology, { ...context, ...(nice !== undefined ? { servicesNice: nice } : {}) }, docker.compose, docker.cgroups)
    await run.boot()
    return run
  },
}

export { StartedComposeTopology }
