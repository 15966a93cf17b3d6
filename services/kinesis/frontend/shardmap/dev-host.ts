// DEV/TEST HOST, not the front-end: a minimal process that runs only the shard-map (createService
// + peerRoutes + createShardMap), so the shard-map's tests can start a real fleet of processes,
// each in its own pids cgroup, without the Kinesis API. The real front-end is ../main.ts.
// Env: the front-end's (docs/internals.md, kinesis/frontend).
//   GET /health                -> threads, thread_limit, thread_limit_enforcement, shard_map_state, ...
//   GET /dev/require-usable    -> 200 {usable: true} or the data plane's error (500 InternalFailure
//                                 while broken, 503 ServiceUnavailable while building)
import { createService } from '../../../kit/service.js'
import { serve } from '../../../kit/lifecycle.js'
import { createOutbound } from '../../../kit/outbound.js'
import { envString, envInt, envEnum, envBool } from '../../../kit/config.js'
import { THREAD_LIMIT_ENFORCEMENTS } from '../../../kit/outage-facts.js'
import { createShardMap } from './shard-map.js'
import { peerRoutes } from '../peer-routes.js'

const env = process.env
const selfId = envString(env, 'FRONTEND_ID')
const port = envInt(env, 'PORT', { min: 0, max: 65535 })
const host = envString(env, 'HOST', '127.0.0.1')

// The run's internal token: metadata and the peers demand it, as of the real front-end.
const internalToken = env.OUTAGE_LAB_INTERNAL_TOKEN || undefined
const service = createService({
  name: 'kinesis-frontend-devhost',
  instance: selfId,
  adminToken: env.OUTAGE_LAB_ADMIN_TOKEN,
  internalToken,
  logLevel: envString(env, 'LOG_LEVEL', 'info'),
})
const { app } = service
const shardMap = createShardMap({
  metadataUrl: envString(env, 'METADATA_URL'),
  fleet: envString(env, 'FLEET', 'main'),
  cell: env.CELL || undefined,
  selfId,
  bootstrap: envEnum(env, 'BOOTSTRAP', ['peers', 'metadata'] as const, 'peers'),
  learnDelayMs: envInt(env, 'LEARN_DELAY_MS', { fallback: 0, min: 0 }),
  seed: envString(env, 'OUTAGE_LAB_SEED', '1'),
  membershipPollMs: envInt(env, 'MEMBERSHIP_POLL_MS', { fallback: 500, min: 1 }),
  peerHeartbeatMs: envInt(env, 'PEER_HEARTBEAT_MS', { fallback: 1000, min: 1 }),
  retryMs: envInt(env, 'SHARD_MAP_RETRY_MS', { fallback: 1000, min: 1 }),
  threadLimit: envInt(env, 'THREAD_LIMIT', { fallback: 64, min: 1 }),
  enforcement: envEnum(env, 'THREAD_LIMIT_ENFORCEMENT', THREAD_LIMIT_ENFORCEMENTS, 'process'),
  logger: app.log,
  metrics: service.metrics,
  dispatcher: createOutbound(service.outboundFaults, { connections: 4, timeoutMs: 5_000 }),
  internalToken,
})

app.register(peerRoutes, { shardMap, metrics: service.metrics })
service.setHealth(() => {
  const s = shardMap.stats()
  return {
    status: 'ok',
    threads: s.threads,
    thread_limit: Number.isFinite(s.threadLimit) ? s.threadLimit : null,
    thread_limit_enforcement: s.enforcement,
    shard_map_state: s.state,
    shard_map_version: s.version,
    peers: s.peers,
    peer_threads: s.peerThreads,
    pending_peers: s.pendingPeers,
    members: s.members,
    stale_peers: s.stalePeers,
    bootstrapped_peers: s.bootstrappedPeers,
    connected_peers: s.connectedPeers,
    base_threads: s.baseThreads,
    thread_create_failures: s.threadCreateFailures,
    last_error: s.lastError ?? null,
    rss_bytes: process.memoryUsage.rss(),
  }
})
app.get('/dev/require-usable', async () => {
  shardMap.requireUsable()
  return { usable: true }
})

await serve(app, { port, host, watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false), onClose: () => shardMap.close() })
const address = app.server.address()
const boundPort = typeof address === 'object' && address ? address.port : port
shardMap.start(envString(env, 'ADVERTISE_URL', `http://127.0.0.1:${boundPort}`))
