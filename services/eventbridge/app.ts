// EventBridge: the AWSEvents JSON 1.1 API (PutEvents, PutRule, PutTargets, ListRules and friends) in
// front of a Kinesis events stream, and the consumer that reads the stream back, matches rules and
// delivers to HTTP targets. Its whole data path depends on Kinesis, as it did on 2020-11-25.
import type { FastifyInstance } from 'fastify'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { Dispatcher } from 'undici'
import { createService, createOutbound, awsApi, seededRandom, internalCredential, sameOrigin } from '../kit/index.js'
import { createMetrics } from './metrics.js'
import { Unprocessed } from './backlog.js'
import { Deliverer } from './delivery.js'
import { Consumer } from './consumer.js'
import { ensureStream } from './stream.js'
import type { RuleStore } from './rules.js'
import type { Checkpoints } from './checkpoint.js'
import { DEFAULT_TUNING, type Tuning } from './config.js'
import type { EventsContext } from './api/context.js'
import { eventOperations } from './api/events.js'
import { ruleOperations } from './api/rules.js'
import { targetOperations } from './api/targets.js'

export interface EventBridgeDeps {
  kinesis: KinesisClient
  rules: RuleStore
  checkpoints: Checkpoints
  /** Accepted SigV4 credentials: access key id -> secret. */
  keys: Map<string, string>
  region: string
  tuning?: Partial<Tuning>
  seed?: number
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  /** AUTOSCALER_URL: deliveries to it (the workflow hook) carry the internal credential; no other target gets it. */
  autoscalerUrl?: string
  logLevel?: string
  logger?: boolean
  /** Outbound HTTP to targets; default: the kit's Agent with this service's fault rules. */
  outbound?: Dispatcher
  now?: () => number
}

export interface EventBridgeParts {
  /** Creates the stream (retrying while Kinesis fails), then starts the consumer. */
  start(): Promise<void>
  streamReady(): boolean
  unprocessed: Unprocessed
  deliverer: Deliverer
  consumer: Consumer
}

declare module 'fastify' {
  interface FastifyInstance {
    eventbridge: EventBridgeParts
  }
}

export function buildApp(deps: EventBridgeDeps): FastifyInstance {
  const tuning: Tuning = { ...DEFAULT_TUNING, ...deps.tuning }
  const now = deps.now ?? Date.now
  const service = createService({
    name: 'eventbridge',
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logLevel: deps.logLevel,
    logger: deps.logger,
  })
  const { app } = service
  const unprocessed = new Unprocessed(now)
  let ready = false
  let deliverer!: Deliverer
  let consumer!: Consumer
  const metrics = createMetrics(service.metrics, {
    unprocessed: () => unprocessed.size,
    pendingDeliveries: () => deliverer.pending,
    msBehindLatest: () => consumer.msBehindLatest,
    streamReady: () => ready,
    rules: () => deps.rules.size,
  })
  // Targets are any caller's URLs: only the autoscaler's origin gets the internal credential.
  const outbound = (
    deps.outbound ?? createOutbound(service.outboundFaults, { timeoutMs: tuning.deliveryTimeoutMs, connections: tuning.deliveryConcurrency })
  ).compose(internalCredential(deps.internalToken, sameOrigin(deps.autoscalerUrl)))
  deliverer = new Deliverer({
    dispatcher: outbound,
    metrics,
    random: seededRandom(deps.seed ?? 1),
    concurrency: tuning.deliveryConcurrency,
    timeoutMs: tuning.deliveryTimeoutMs,
    retryBaseMs: tuning.retryBaseMs,
    retryMaxMs: tuning.retryMaxMs,
    log: app.log,
    now,
  })
  consumer = new Consumer({
    kinesis: deps.kinesis,
    stream: tuning.stream,
    rules: deps.rules,
    checkpoints: deps.checkpoints,
    deliverer,
    unprocessed,
    metrics,
    pollMs: tuning.pollMs,
    batchSize: tuning.batchSize,
    maxPendingDeliveries: tuning.maxPendingDeliveries,
    maxBackoffMs: tuning.consumerMaxBackoffMs,
    log: app.log,
  })

  const ctx: EventsContext = {
    rules: deps.rules,
    kinesis: deps.kinesis,
    stream: tuning.stream,
    region: deps.region,
    metrics,
    unprocessed,
    maxTargetsPerRule: tuning.maxTargetsPerRule,
    targetHosts: tuning.targetHosts,
    now,
    log: app.log,
  }
  app.register(awsApi, {
    targetPrefix: 'AWSEvents',
    jsonVersion: '1.1',
    signingName: 'events',
    keys: deps.keys,
    operations: { ...eventOperations(ctx), ...ruleOperations(ctx), ...targetOperations(ctx) },
    onCall(operation, status, errorType, durationMs) {
      metrics.calls.inc({ operation, status: String(status), error: errorType ?? '' })
      metrics.callSeconds.observe({ operation }, durationMs / 1000)
    },
  })

  // 200 while the API serves: the harness judges impact from its clients, not from /health.
  service.setHealth(() => ({
    status: 'ok',
    stream: tuning.stream,
    stream_ready: ready,
    rules: deps.rules.size,
    backlog: unprocessed.size + deliverer.pending,
    unprocessed_events: unprocessed.size,
    pending_deliveries: deliverer.pending,
    ms_behind_latest: consumer.msBehindLatest,
  }))

  let started: Promise<void> | undefined
  app.decorate('eventbridge', {
    start() {
      started ??= (async () => {
        const shards = await ensureStream(deps.kinesis, {
          stream: tuning.stream,
          shardCount: tuning.shardCount,
          retryMs: tuning.streamRetryMs,
          log: app.log,
          signal: consumer.signal,
        })
        if (consumer.signal.aborted) return
        ready = true
        app.log.info({ stream: tuning.stream, shards: shards.length }, 'events stream ready')
        consumer.start(shards)
      })()
      return started
    },
    streamReady: () => ready,
    unprocessed,
    deliverer,
    consumer,
  })

  app.addHook('onClose', async () => {
    await consumer.close()
    deliverer.close()
    await started?.catch(() => {})
    await deps.checkpoints.close()
    await deps.rules.flush()
    if (!deps.outbound) await outbound.close()
  })
  return app
}
