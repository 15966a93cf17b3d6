// The one catalogue of the outage: its services, the dependency graph, fleets, limits, the
// thread-limit enforcement values and exit codes. Every module that needs one of these facts
// imports it from here (services get theirs from services/kit/outage-facts.ts, re-exported below).
// Everything else is derived: the topology's dependsOn (system.ts), the validator's "needs"
// (experiment/schema.ts) and the cascade's causes (analyze/cascade.ts) all read DEPENDENCIES.
export { THREAD_LIMIT_ENFORCEMENTS, EXIT_REMOVED_FROM_FLEET, KINESIS_RETENTION_HOURS, type ThreadLimitEnforcement } from '../../services/kit/outage-facts.js'

// --- services ---------------------------------------------------------------------------------

/** The services that run beside Kinesis, each optional in a topology, in the catalogue's order. */
export const DOWNSTREAM = ['cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'] as const
export type Downstream = (typeof DOWNSTREAM)[number]

/** Customer-facing services: each has a client-side probe and an SLO. Kinesis always runs. */
export const SERVICES = ['kinesis', ...DOWNSTREAM] as const
export type ServiceName = (typeof SERVICES)[number]

/**
 * The parts of Kinesis AWS keeps inside its own network: metadata, the back-ends and the front-end
 * fleets (their peer routes). No customer addresses them; only the lab's services and the harness
 * do, with the run's internal credential. The compose platform publishes no port of theirs.
 */
export const INTERNAL_KINDS: readonly string[] = ['kinesis-metadata', 'kinesis-backend', 'kinesis-frontend']

// --- the dependency graph ---------------------------------------------------------------------

/**
 * What each customer-facing service calls (docs/fidelity.md, "The cascade"): the one definition of
 * the graph. A downstream service cannot run without the downstream services it names.
 */
export const DEPENDENCIES: Readonly<Record<ServiceName, ServiceName[]>> = {
  kinesis: [],
  cloudwatch: ['kinesis'],
  eventbridge: ['kinesis'],
  cognito: ['kinesis'],
  lambda: ['cloudwatch'],
  autoscaler: ['cloudwatch', 'eventbridge'],
  'status-page': ['cognito'],
}

/** The downstream services `s` needs beside it in a topology (Kinesis always runs). */
export function needs(s: Downstream): Downstream[] {
  return DEPENDENCIES[s].filter((d): d is Downstream => d !== 'kinesis')
}

/** Downstream services that need other downstream services, and which (derived from DEPENDENCIES). */
export const NEEDS: Partial<Record<Downstream, Downstream[]>> = Object.fromEntries(
  (Object.keys(DEPENDENCIES) as ServiceName[]).flatMap((s) => (s !== 'kinesis' && needs(s).length > 0 ? [[s, needs(s)]] : [])),
)

// --- fleets and process names -----------------------------------------------------------------

/** The customer-facing front-end fleet every topology has. */
export const MAIN_FLEET = 'main'
/** Fleet names an experiment may declare: the main fleet, and CloudWatch's partitioned fleet (remediation 6). */
export const FLEETS = [MAIN_FLEET, 'cloudwatch'] as const
export type FleetName = (typeof FLEETS)[number]
/** Remediation 5: the dedicated fleet that builds the shard-map, and its size. */
export const SHARD_MAP_CACHE_FLEET = 'cache'
export const SHARD_MAP_CACHE_FRONTENDS = 3
export const MAX_SHARD_MAP_CACHE_FRONTENDS = 16

export const METADATA_SERVICE = 'kinesis-metadata'
export const backendName = (n: number): string => `kinesis-backend-${n}`
/** The load balancer in front of a fleet. */
export const endpointName = (fleet: string): string => `kinesis-endpoint-${fleet}`
/** Members of a fleet are `<prefix>-<n>`, n from 1. */
export const memberPrefix = (fleet: string): string => `kinesis-frontend-${fleet}`

/** Where a starting front-end gets its shard-map: from every peer (2020) or the store (remediation). */
export const BOOTSTRAPS = ['peers', 'metadata'] as const
export type Bootstrap = (typeof BOOTSTRAPS)[number]

// --- limits -----------------------------------------------------------------------------------

/** A sanity bound on a fleet: each member is a Node process (~50 MB); a typo must not fork-bomb. */
export const MAX_FLEET_SIZE = 256
/** The largest thread limit (pids.max, pids_limit, or the in-process cap) an experiment may set. */
export const MAX_THREAD_LIMIT = 100_000
export const MAX_BACKENDS = 64
export const MAX_CELLS = 64
/** A fleet restart's fastest pace, members per second. */
export const MAX_RESTART_RATE_PER_SEC = 1000
/**
 * `outage-lab restart` without --rate: one member a second, the pace of the flagship's paced
 * restart (AWS restarted its fleet gradually; all at once is the metastable loop, restart-all-at-once.yaml).
 */
export const DEFAULT_RESTART_RATE_PER_SEC = 1
