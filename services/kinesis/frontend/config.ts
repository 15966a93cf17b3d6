// The front-end's environment (docs/internals.md, "kinesis/frontend"), parsed and checked once at
// start-up so that a mis-wired fleet member fails before it serves.
import { envString, envInt, envBool, envEnum, envCredentials, DEFAULT_CREDENTIALS, InvalidConfig } from '../../kit/index.js'
import { THREAD_LIMIT_ENFORCEMENTS, type ThreadLimitEnforcement } from '../../kit/outage-facts.js'

type Env = Record<string, string | undefined>

export interface FrontendConfig {
  port: number
  host: string
  /** Undefined: http://127.0.0.1:<the port actually bound>. */
  advertiseUrl?: string
  adminToken?: string
  internalToken?: string
  keys: Map<string, string>
  seed: number
  watchParent: boolean
  logLevel: string
  frontendId: string
  fleet: string
  cell?: string
  metadataUrl: string
  threadLimit: number
  enforcement: ThreadLimitEnforcement
  learnDelayMs: number
  bootstrap: 'peers' | 'metadata'
  /** SHARD_MAP_CACHE_FLEET: read the shard-map from this fleet instead of building it (remediation 5). */
  cacheFleet?: string
  membershipPollMs: number
  peerHeartbeatMs: number
  shardMapRetryMs: number
  throttle: boolean
}

export function readConfig(env: Env): FrontendConfig {
  const metadataUrl = envString(env, 'METADATA_URL')
  if (!/^https?:\/\/[^/]+/.test(metadataUrl)) throw new InvalidConfig('METADATA_URL', 'an http:// URL', metadataUrl)
  const advertiseUrl = env.ADVERTISE_URL || undefined
  if (advertiseUrl !== undefined && !/^https?:\/\/[^/]+/.test(advertiseUrl)) throw new InvalidConfig('ADVERTISE_URL', 'an http:// URL', advertiseUrl)
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    advertiseUrl: advertiseUrl?.replace(/\/+$/, ''),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    keys: envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS),
    seed: envInt(env, 'OUTAGE_LAB_SEED', { fallback: 1 }),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    frontendId: envString(env, 'FRONTEND_ID', `frontend-${process.pid}`),
    fleet: envString(env, 'FLEET', 'main'),
    cell: env.CELL || undefined,
    metadataUrl: metadataUrl.replace(/\/+$/, ''),
    threadLimit: envInt(env, 'THREAD_LIMIT', { fallback: 10_000, min: 1 }),
    enforcement: envEnum(env, 'THREAD_LIMIT_ENFORCEMENT', THREAD_LIMIT_ENFORCEMENTS, 'process'),
    learnDelayMs: envInt(env, 'LEARN_DELAY_MS', { fallback: 0, min: 0 }),
    bootstrap: envEnum(env, 'BOOTSTRAP', ['peers', 'metadata'] as const, 'peers'),
    cacheFleet: cacheFleet(env),
    membershipPollMs: envInt(env, 'MEMBERSHIP_POLL_MS', { fallback: 500, min: 10 }),
    peerHeartbeatMs: envInt(env, 'PEER_HEARTBEAT_MS', { fallback: 1000, min: 10 }),
    shardMapRetryMs: envInt(env, 'SHARD_MAP_RETRY_MS', { fallback: 1000, min: 10 }),
    throttle: envEnum(env, 'THROTTLE', ['on', 'off'] as const, 'on') === 'on',
  }
}

function cacheFleet(env: Env): string | undefined {
  const v = env.SHARD_MAP_CACHE_FLEET || undefined
  if (v !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(v))
    throw new InvalidConfig('SHARD_MAP_CACHE_FLEET', 'a fleet name (lower-case letters, digits, dashes)', v)
  if (v !== undefined && v === (env.FLEET || 'main')) throw new InvalidConfig('SHARD_MAP_CACHE_FLEET', "a fleet other than this member's own", v)
  return v
}
