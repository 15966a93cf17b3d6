// Where a topology runs. A platform is one folder under harness/platform/ exporting one Platform,
// and one line in registry.ts; the runner, the CLI, the journal and the suite know platforms only
// through that registry. `start()` does all the I/O and returns a StartedTopology (the only thing
// actions, the workload and the observer see); a start that fails tears down what it started,
// then rethrows.
import type { CustomerOptions, Topology } from '../topology/model.js'
import type { Issue } from '../experiment/errors.js'
import type { StartedTopology, TopologyEvent } from './started.js'

export interface PlatformContext {
  /** Where logs, data and the run's state go; default `.outage-lab/runs/<runId>`. */
  runDir?: string
  runId?: string
  /** Bearer token every service accepts on /admin/*; default: a fresh random one. */
  adminToken?: string
  /** What the lab's services demand of each other on internal routes; default: a fresh random one. Never given to customer services. */
  internalToken?: string
  /** Stop the topology on SIGINT/SIGTERM, then re-raise the signal (default true). A run passes false: Ctrl-C is its own. */
  signals?: boolean
  /** Start the detached watcher that cleans up after a SIGKILLed harness (default true). */
  reaper?: boolean
  /** SIGTERM -> SIGKILL grace when a service stops. */
  stopGraceMs?: number
  /** Extra env for every service (LOG_LEVEL...). */
  env?: Record<string, string>
  onEvent?: (event: TopologyEvent) => void
  /** Aborting it during start() stops what started and rejects with BootAborted. */
  signal?: AbortSignal
  /**
   * The topology is measured (an experiment run): the platform keeps the harness's customers and
   * observer ahead of its services in the CPU queue, in its own way, so a run measures the cascade
   * and not the CPU queue (the customers of 2020 did not share AWS's CPUs).
   */
  measured?: boolean
  /** The most members each fleet will have during the run (its largest scale-fleet target), for platforms that prepare members ahead. */
  fleetPeaks?: Record<string, number>
  /** false: do not use the OS's per-server thread limit even where the platform could (front-ends then cap their own threads). */
  osThreadLimit?: boolean
}

export interface Platform<S extends StartedTopology = StartedTopology, C extends PlatformContext = PlatformContext> {
  /** The name users give `--platform` (and `--backend`). */
  readonly name: string
  /** One line for `--help` and the docs. */
  readonly description: string
  /** Why this platform cannot run here (no engine, no image...), or undefined when it can. */
  unavailable(context?: C): Promise<string | undefined>
  /**
   * What this platform lacks to run a customer service as the experiment declares it (the local
   * platform needs a command, compose an image or a build), as an issue of the experiment at `path`
   * (`topology.customers[0]`): the runner refuses the file before anything starts.
   */
  customerIssue(customer: CustomerOptions, path: string): Issue | undefined
  start(topology: Topology, context?: C): Promise<S>
}
