// The one catalogue of the outage: its services, the dependency graph, fleets, limits, the
// thread-limit enforcement values and exit codes. Every module that needs one of these facts
// imports it from here (services get theirs from services/kit/outage-facts.ts, re-exported below).
export { THREAD_LIMIT_ENFORCEMENTS, EXIT_REMOVED_FROM_FLEET, type ThreadLimitEnforcement } from '../../services/kit/outage-facts.js'

/** A sanity bound on a fleet: each member is a Node process (~50 MB); a typo must not fork-bomb. */
export const MAX_FLEET_SIZE = 256
