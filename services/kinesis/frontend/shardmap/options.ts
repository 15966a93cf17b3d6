// What a front-end hands its shard-map. Every field maps to one env variable of the front-end
// (docs/internals.md, kinesis/frontend); main.ts parses them, the shard-map only validates ranges.
import type { Registry } from 'prom-client'
import type { Dispatcher } from 'undici'
import type { ThreadLimitEnforcement } from './types.js'

/** The few pino/fastify logger methods the shard-map uses (app.log fits). */
export interface ShardMapLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

export interface ShardMapOptions {
  /** METADATA_URL, e.g. "http://127.0.0.1:4100". */
  metadataUrl: string
  /** FLEET ("main"). */
  fleet: string
  /** CELL: when set, membership and config are read for this cell only (remediation 7). */
  cell?: string
  /** FRONTEND_ID: this member's id in the fleet. */
  selfId: string
  /**
   * ADVERTISE_URL: how peers reach this member. May be left out here and given to start()
   * once the server listens (PORT=0 is only known then).
   */
  selfUrl?: string
  /**
   * SHARD_MAP_CACHE_FLEET (remediation 5): read the shard-map from this dedicated fleet's members
   * (GET /peer/authoritative) instead of building it here. No peer is learned and no peer thread
   * is created, so this member's threads no longer grow with its own fleet.
   */
  cacheFleet?: string
  /** BOOTSTRAP: 'peers' (2020 behaviour: fetch every peer's whole map) or 'metadata' (remediation 4). */
  bootstrap: 'peers' | 'metadata'
  /** LEARN_DELAY_MS: upper bound of the seeded delay before a newly seen peer gets its thread. */
  learnDelayMs: number
  /** OUTAGE_LAB_SEED. */
  seed: number | string
  /** MEMBERSHIP_POLL_MS (500). */
  membershipPollMs: number
  /** PEER_HEARTBEAT_MS (1000): how often GET /peer/stream sends a heartbeat line. */
  peerHeartbeatMs: number
  /** SHARD_MAP_RETRY_MS (1000): how often a broken map retries construction. */
  retryMs: number
  /** THREAD_LIMIT: the limit reported (and, with enforcement 'process', enforced in-process). */
  threadLimit: number
  /** THREAD_LIMIT_ENFORCEMENT: what the launcher set up. 'cgroup'/'docker': the OS refuses threads. */
  enforcement: ThreadLimitEnforcement
  logger: ShardMapLogger
  /** The service's Prometheus registry (createService().metrics). */
  metrics: Registry
  /** Outbound HTTP for metadata calls on the main thread (createOutbound(service.outboundFaults)). */
  dispatcher?: Dispatcher
  /** OUTAGE_LAB_INTERNAL_TOKEN: sent on every call to metadata and to peers (internal routes), by each peer thread on its own connection. */
  internalToken?: string
  /**
   * Called when a membership read no longer lists this member (the fleet's health system removed
   * it). A process whose scheduler starts a replacement exits here (main.ts); without it the map
   * rejoins in-process with a fresh snapshot.
   */
  onRemovedFromFleet?: () => void
  /** Heartbeat period towards metadata (default: membershipPollMs * 2). */
  metadataHeartbeatMs?: number
}
