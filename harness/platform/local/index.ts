// The local platform: every service of a topology is a child process on 127.0.0.1, booted in
// dependency order, each front-end inside its own pids cgroup so its thread limit is the OS's.
// Nothing outlives the harness: services watch their parent, the harness stops them on
// SIGINT/SIGTERM, and a detached reaper cleans up after a SIGKILLed harness.
import { validateTopology, type Topology } from '../../topology/model.js'
import type { Platform, PlatformContext } from '../platform.js'
import { StartedLocalTopology } from './started.js'

export interface LocalContext extends PlatformContext {
  /** The build output holding the services' entry files; default `<package>/dist`. */
  distDir?: string
  /** Run every service at this niceness (the launcher keeps its own); default: MEASURED_NICE when measured. */
  servicesNice?: number
  /** Each service log's bound before it is rotated (two generations kept); default SERVICE_LOG_MAX_BYTES. */
  logMaxBytes?: number
}

/**
 * The customers and the observer share two cores with twenty services. Running the services one
 * notch of niceness below the harness keeps the measurement from being distorted by the very cold
 * starts it measures.
 */
export const MEASURED_NICE = 5

export const localPlatform: Platform<StartedLocalTopology, LocalContext> = {
  name: 'local',
  description: 'child processes on 127.0.0.1, front-ends under a pids cgroup (no Docker needed)',
  async unavailable(): Promise<string | undefined> {
    return undefined
  },
  customerIssue(c, path) {
    if (c.command?.length) return undefined
    return { path: `${path}.command`, expected: 'the command that runs it on the local platform (a list [program, arguments...])', got: 'nothing' }
  },
  async start(topology: Topology, context: LocalContext = {}): Promise<StartedLocalTopology> {
    validateTopology(topology)
    const nice = context.servicesNice ?? (context.measured ? MEASURED_NICE : undefined)
    const run = new StartedLocalTopology(topology, { ...context, ...(nice !== undefined ? { servicesNice: nice } : {}) })
    await run.boot()
    return run
  },
}

export { StartedLocalTopology }
