// A Kinesis front-end: the Kinesis API in JSON 1.1 and CBOR 1.1 (h1 and h2c on one port) doing the fleet's three
// jobs (docs/fidelity.md, section 1): authenticate (SigV4, in the kit's protocol plugin), throttle per shard, and
// route each record to the back-end owning its shard, as told by the shard-map.
import type { FastifyInstance } from 'fastify'
import type { Dispatcher } from 'undici'
import { createService, createOutbound, internalCredential, awsApi, type Service } from '../../kit/index.js'
import type { ShardMap } from './shardmap/types.js'
import { ShardThrottle, type Clock } from './throttle.js'
import { createUpstream } from './upstream.js'
import { createFrontendMetrics } from './metrics.js'
import type { DataPlane } from './api/context.js'
import { streamOperations } from './api/streams.js'
import { writeOperations } from './api/writes.js'
import { readOperations } from './api/reads.js'
import { KINESIS_SHAPES } from './shapes.js'

/** How long a back-end or metadata may take before the call fails with InternalFailure. */
const UPSTREAM_TIMEOUT_MS = 10_000
/** Per-record failure causes are logged at most this often per message (an outage repeats them). */
const FAILURE_LOG_INTERVAL_MS = 1_000

export interface FrontendDeps {
  /** The shard-map, or a factory given the service (its metrics registry, logger, outbound faults). */
  shardMap: ShardMap | ((service: Service) => ShardMap)
  /** Accepted SigV4 credentials: access key id -> secret. */
  keys: Map<string, string>
  metadataUrl: string
  /** THROTTLE=on|off, or a ready throttle (tests inject one with a fake clock). */
  throttle?: boolean | ShardThrottle
  /** Outbound HTTP to back-ends and metadata; default: the kit's Agent with this service's fault rules. */
  outbound?: Dispatcher
  /** Header/body timeout of the default outbound Agent (10 s). */
  upstreamTimeoutMs?: number
  /** FRONTEND_ID */
  instance?: string
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logLevel?: string
  logger?: boolean
  /** Wall clock (ms) for AT_TIMESTAMP checks and token expiry. */
  now?: Clock
  /** Registers more routes (the shard-map's peer routes) before the app is ready. */
  register?: (app: FastifyInstance, service: Service, shardMap: ShardMap) => void
}

export interface FrontendParts {
  service: Service
  shardMap: ShardMap
  throttle: ShardThrottle
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The front-end's parts, for main.ts and tests. */
    frontend: FrontendParts
  }
}

export function buildApp(deps: FrontendDeps): FastifyInstance {
  const service = createService({
    name: 'kinesis-frontend',
    instance: deps.instance,
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    h2c: true,
    logLevel: deps.logLevel,
    logger: deps.logger,
  })
  const { app } = service
  const shardMap = typeof deps.shardMap === 'function' ? deps.shardMap(service) : deps.shardMap
  const throttle = deps.throttle instanceof ShardThrottle ? deps.throttle : new ShardThrottle({ enabled: deps.throttle ?? true })
  const metrics = createFrontendMetrics(service.metrics)
  // Back-ends and metadata only, both internal: every call carries the credential.
  const outbound = (deps.outbound ?? createOutbound(service.outboundFaults, { timeoutMs: deps.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS })).compose(
    internalCredential(deps.internalToken),
  )
  const call = createUpstream(outbound, (dependency, outcome) => metrics.upstream(dependency, outcome))

  const dp: DataPlane = {
    shardMap,
    throttle,
    call,
    metadataUrl: deps.metadataUrl.replace(/\/+$/, ''),
    metrics,
    now: deps.now ?? Date.now,
    logFailure: rateLimitedWarn((detail, msg) => app.log.warn(detail, msg)),
  }

  app.register(awsApi, {
    targetPrefix: 'Kinesis_20131202',
    jsonVersion: '1.1',
    // CBOR 1.1: the Java SDKs' and the KCL's default (Data as byte strings, timestamps as tag 1).
    protocols: ['awsCbor'],
    shapes: KINESIS_SHAPES,
    namespace: 'com.amazonaws.kinesis',
    signingName: 'kinesis',
    keys: deps.keys,
    operations: { ...streamOperations(dp), ...writeOperations(dp), ...readOperations(dp) },
    onCall: metrics.call,
  })

  // The process answers as long as it serves; whether it serves *well* is for the endpoint's
  // health checks (a slow answer counts as failed) and for the shard-map fields to tell.
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
      thread_create_failures: s.threadCreateFailures,
      ...(s.members !== undefined ? { members: s.members } : {}),
      ...(s.stalePeers !== undefined ? { stale_peers: s.stalePeers } : {}),
      ...(s.connectedPeers !== undefined ? { connected_peers: s.connectedPeers } : {}),
      ...(s.baseThreads !== undefined ? { base_threads: s.baseThreads } : {}),
      throttle: throttle.enabled ? 'on' : 'off',
      ...(s.lastError ? { last_error: s.lastError } : {}),
    }
  })

  // Each peer thread is an isolate with a heap of its own, outside the process's heap figures.
  const peerThreadMemory = shardMap.peerThreadMemory?.bind(shardMap)
  if (peerThreadMemory) service.addMemoryPart('peerThreads', peerThreadMemory)

  app.decorate('frontend', { service, shardMap, throttle })
  deps.register?.(app, service, shardMap)
  app.addHook('onClose', async () => {
    await shardMap.close()
    if (!deps.outbound) await outbound.close()
  })
  return app
}

/** Logs the first of each message per interval, with how many were left out since the last one. */
function rateLimitedWarn(warn: (detail: object, msg: string) => void): (detail: object, msg: string) => void {
  const last = new Map<string, { atMs: number; suppressed: number }>()
  return (detail, msg) => {
    const now = Date.now()
    const seen = last.get(msg)
    if (seen && now - seen.atMs < FAILURE_LOG_INTERVAL_MS) {
      seen.suppressed++
      return
    }
    warn(seen?.suppressed ? { ...detail, suppressed: seen.suppressed } : detail, msg)
    last.set(msg, { atMs: now, suppressed: 0 })
  }
}
