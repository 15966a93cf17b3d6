// The few facts of the outage that the services themselves need (the harness's catalogue,
// harness/topology/catalogue.ts, re-exports them; services never import the harness).

/** How a front-end's thread limit is enforced: a pids cgroup, a container's pids_limit, or its own cap. */
export const THREAD_LIMIT_ENFORCEMENTS = ['cgroup', 'docker', 'process'] as const
export type ThreadLimitEnforcement = (typeof THREAD_LIMIT_ENFORCEMENTS)[number]

/**
 * A front-end its fleet's health system removed exits with EX_TEMPFAIL: its launcher (the local
 * platform, or Docker's restart policy) starts a new server in its place, as the fleet's scheduler
 * did in 2020.
 */
export const EXIT_REMOVED_FROM_FLEET = 75

/**
 * How long Kinesis keeps a stream's records by default (DescribeStream's RetentionPeriodHours): the
 * back-ends trim their shard logs to it, compressed by the run's time scale.
 */
export const KINESIS_RETENTION_HOURS = 24
