// The endpoint's configuration, read once from the environment (docs/internals.md
// "kinesis/endpoint"). A bad value names its variable, so a mis-wired topology fails at start.
import { envInt, envString, InvalidConfig } from '../../kit/index.js'

type Env = Record<string, string | undefined>

export interface EndpointConfig {
  fleet: string
  cell?: string
  /** Where membership comes from: a static list of member URLs, or the metadata service. */
  members: { kind: 'static'; urls: string[] } | { kind: 'metadata'; metadataUrl: string; pollMs: number }
  healthPath: string
  healthIntervalMs: number
  healthTimeoutMs: number
  unhealthyThreshold: number
  healthyThreshold: number
  /** A member that sends no response headers (or stalls its body) this long fails the request with 504. */
  upstreamTimeoutMs: number
  /** Keep-alive connections per member. */
  upstreamConnections: number
  /**
   * REMOVE_UNHEALTHY_AFTER_MS: a member out of rotation that has failed every check for this long
   * (since its first failure, or since it joined) is removed from fleet membership in metadata;
   * 0 keeps every member.
   * Only with membership from metadata.
   */
  removeUnhealthyAfterMs: number
}

export function loadConfig(env: Env): EndpointConfig {
  const fleet = envString(env, 'FLEET', 'main')
  const cell = env.CELL || undefined
  const staticList = env.ENDPOINT_MEMBERS
  let members: EndpointConfig['members']
  if (staticList) {
    members = {
      kind: 'static',
      urls: staticList
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((u) => memberUrl('ENDPOINT_MEMBERS', u, staticList)),
    }
  } else if (env.METADATA_URL) {
    members = {
      kind: 'metadata',
      metadataUrl: memberUrl('METADATA_URL', env.METADATA_URL, env.METADATA_URL),
      pollMs: envInt(env, 'MEMBERSHIP_POLL_MS', { fallback: 500, min: 10 }),
    }
  } else {
    throw new InvalidConfig('METADATA_URL', 'the metadata service URL (or ENDPOINT_MEMBERS, a comma list of member URLs)', undefined)
  }
  const healthPath = envString(env, 'HEALTH_PATH', '/health')
  if (!healthPath.startsWith('/')) throw new InvalidConfig('HEALTH_PATH', 'a path starting with /', healthPath)
  return {
    fleet,
    cell,
    members,
    healthPath,
    healthIntervalMs: envInt(env, 'HEALTH_INTERVAL_MS', { fallback: 1000, min: 10 }),
    healthTimeoutMs: envInt(env, 'HEALTH_TIMEOUT_MS', { fallback: 1000, min: 1 }),
    unhealthyThreshold: envInt(env, 'UNHEALTHY_THRESHOLD', { fallback: 3, min: 1, max: 100 }),
    healthyThreshold: envInt(env, 'HEALTHY_THRESHOLD', { fallback: 2, min: 1, max: 100 }),
    upstreamTimeoutMs: envInt(env, 'UPSTREAM_TIMEOUT_MS', { fallback: 30_000, min: 1 }),
    upstreamConnections: envInt(env, 'UPSTREAM_CONNECTIONS', { fallback: 64, min: 1, max: 10_000 }),
    removeUnhealthyAfterMs: envInt(env, 'REMOVE_UNHEALTHY_AFTER_MS', { fallback: 0, min: 0 }),
  }
}

/** An http:// origin without a trailing slash ("http://127.0.0.1:4100"). */
function memberUrl(variable: string, raw: string, whole: string): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw new InvalidConfig(variable, 'http:// URLs', whole)
  }
  if (u.protocol !== 'http:' || (u.pathname !== '/' && u.pathname !== '') || u.search)
    throw new InvalidConfig(variable, 'http:// URLs with no path or query', whole)
  return u.origin
}
