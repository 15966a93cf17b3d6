// CloudWatch: the GraniteServiceVersion20100801 API over a query store fed through Kinesis. Put ->
// PutRecords into the metric stream -> a consumer aggregates -> queries and alarms read. With the
// local store (LOCAL_STORE=true) a put is durable on local disk and readable at once, and a shipper
// forwards it to Kinesis whenever Kinesis takes it.
import type { FastifyInstance } from 'fastify'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { createService, createOutbound, awsApi, internalCredential, sameOrigin } from '../kit/index.js'
import { cloudWatchApi } from './protocol.js'
import { CloudWatchErrors } from './errors.js'
import { MetricStore, SeenIds } from './store.js'
import { evaluate, type Alarm } from './alarms.js'
import { createAlarmActions } from './alarm-actions.js'
import { createCloudWatchMetrics } from './metrics.js'
import { ensureStream, kinesisFailure, putDatapoints } from './kinesis.js'
import { MetricConsumer } from './consumer.js'
import { Shipper } from './shipper.js'
import type { LocalStore } from './local-store.js'
import type { Datapoint } from './datapoints.js'
import type { CloudWatchContext } from './api/context.js'
import { putMetricData } from './api/put-metric-data.js'
import { getMetricStatistics, getMetricData, listMetrics } from './api/queries.js'
import { putMetricAlarm, describeAlarms } from './api/alarms.js'

export interface CloudWatchDeps {
  /** Accepted SigV4 credentials (access key id -> secret). */
  keys: Map<string, string>
  /** The stock Kinesis client, pointed at KINESIS_ENDPOINT. */
  kinesis: KinesisClient
  stream: string
  streamShards: number
  /** Present when LOCAL_STORE=true (main opens it: opening replays the log). */
  localStore?: LocalStore
  /** How long the query store keeps datapoints (and where the consumer starts on boot). */
  retentionMs: number
  consumerPollMs: number
  alarmEvaluationIntervalMs: number
  streamRetryMs: number
  shipRetryMs: number
  shipBatch: number
  actionHosts: Set<string>
  actionTimeoutMs: number
  actionRetries: number
  maxAlarms?: number
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  /** AUTOSCALER_URL: alarm actions to it (scaling policies) carry the internal credential; no other receiver gets it. */
  autoscalerUrl?: string
  logLevel?: string
  logger?: boolean
  now?: () => number
}

export interface CloudWatchParts {
  store: MetricStore
  alarms: Map<string, Alarm>
  /** Evaluates every alarm once (the loop calls it each ALARM_EVALUATION_INTERVAL_MS). */
  evaluateAlarms(nowMs?: number): void
  /** Starts the background work: stream creation, consumer, alarm loop, shipper, retention. */
  start(): void
}

declare module 'fastify' {
  interface FastifyInstance {
    cloudwatch: CloudWatchParts
  }
}

export function buildApp(deps: CloudWatchDeps): FastifyInstance {
  const service = createService({
    name: 'cloudwatch',
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logLevel: deps.logLevel,
    logger: deps.logger,
    bodyLimit: 2 * 1024 * 1024,
  })
  const { app } = service
  const now = deps.now ?? Date.now
  const metrics = createCloudWatchMetrics(service.metrics)
  const store = new MetricStore({ retentionMs: deps.retentionMs, now })
  const seen = new SeenIds(deps.retentionMs, now)
  const alarms = new Map<string, Alarm>()
  const local = deps.localStore
  const lifetime = new AbortController()
  let streamReady = false
  let consumer: MetricConsumer | undefined
  let shipper: Shipper | undefined
  const timers: NodeJS.Timeout[] = []
  metrics.streamReady(false)

  // A restart serves what the local store still holds at once; the consumer skips these ids later.
  if (local) {
    const live = local.live()
    for (const p of live) {
      seen.remember(p.id)
      store.add(p)
    }
    metrics.ingested('local_store', live.length)
    metrics.pending(local.pendingCount)
  }

  const ingest = local
    ? async (datapoints: Datapoint[]) => {
        try {
          await local.append(datapoints)
        } catch (err) {
          throw Object.assign(CloudWatchErrors.InternalServiceError(`Internal service error: the local metric store failed (${(err as Error).message})`), {
            outcome: 'local_store_error',
          })
        }
        for (const p of datapoints) {
          seen.remember(p.id)
          store.add(p)
        }
        metrics.ingested('local_store', datapoints.length)
        metrics.pending(local.pendingCount)
        shipper?.notify()
      }
    : async (datapoints: Datapoint[]) => {
        let errorCode: string | undefined
        let detail: string
        try {
          const out = await putDatapoints(deps.kinesis, deps.stream, datapoints, { local: false })
          if (out.failed.length === 0) return
          errorCode = out.errorCode
          detail = `${out.failed.length} of ${datapoints.length} datapoints refused`
        } catch (err) {
          errorCode = kinesisFailure(err)
          detail = (err as Error).message
        }
        if (errorCode === 'ProvisionedThroughputExceededException') throw Object.assign(CloudWatchErrors.Throttling('Rate exceeded'), { outcome: 'throttled' })
        throw Object.assign(
          CloudWatchErrors.InternalServiceError(`Internal service error: metric ingestion through Kinesis failed (${errorCode}: ${detail})`),
          { outcome: 'kinesis_error' },
        )
      }

  // Alarm actions go through the kit's Agent, so /admin/faults/outbound can make the receiver sick.
  // Any caller may name an action URL: only the autoscaler's origin gets the internal credential.
  const actionDispatcher = createOutbound(service.outboundFaults, { timeoutMs: deps.actionTimeoutMs, connections: 8 }).compose(
    internalCredential(deps.internalToken, sameOrigin(deps.autoscalerUrl)),
  )
  const actions = createAlarmActions({
    dispatcher: actionDispatcher,
    timeoutMs: deps.actionTimeoutMs,
    retries: deps.actionRetries,
    retryDelayMs: 200,
    allowedHosts: deps.actionHosts,
    onOutcome: (o) => metrics.action(o),
    log: app.log,
    signal: lifetime.signal,
  })

  const ctx: CloudWatchContext = {
    store,
    alarms,
    ingest,
    metrics,
    now,
    actionHosts: deps.actionHosts,
    onAlarmState: (a) => metrics.alarmState(a.alarmName, a.state),
    maxAlarms: deps.maxAlarms ?? 5000,
  }

  app.register(
    awsApi,
    cloudWatchApi({
      keys: deps.keys,
      onCall: metrics.call,
      operations: {
        PutMetricData: putMetricData(ctx),
        GetMetricStatistics: getMetricStatistics(ctx),
        GetMetricData: getMetricData(ctx),
        ListMetrics: listMetrics(ctx),
        PutMetricAlarm: putMetricAlarm(ctx),
        DescribeAlarms: describeAlarms(ctx),
      },
    }),
  )

  // CloudWatch invokes Auto Scaling actions again every period while the alarm stays in ALARM
  // (other actions only on a transition); that is how a scaling policy keeps stepping until the
  // metric recovers. Here an Auto Scaling action is a scaling policy's invoke URL.
  const lastScalingInvokeMs = new Map<string, number>()
  const evaluateAlarms = (nowMs = now()) => {
    for (const alarm of alarms.values()) {
      const ev = evaluate(alarm, store, nowMs)
      if (ev && ev.state === alarm.state && alarm.state === 'ALARM') {
        const scaling = alarm.alarmActions.filter(isScalingAction)
        const last = lastScalingInvokeMs.get(alarm.alarmName) ?? alarm.stateUpdatedMs
        if (scaling.length && nowMs - last >= alarm.periodSec * 1000) {
          lastScalingInvokeMs.set(alarm.alarmName, nowMs)
          actions({ alarm: { ...alarm, alarmActions: scaling }, oldState: 'ALARM', newState: 'ALARM', reason: ev.reason, atMs: nowMs })
        }
      }
      if (!ev || ev.state === alarm.state) continue
      lastScalingInvokeMs.set(alarm.alarmName, nowMs)
      const oldState = alarm.state
      Object.assign(alarm, { state: ev.state, stateReason: ev.reason, stateReasonData: ev.reasonData, stateUpdatedMs: nowMs })
      metrics.alarmState(alarm.alarmName, ev.state)
      metrics.transition(ev.state)
      app.log.info({ alarm: alarm.alarmName, from: oldState, to: ev.state, reason: ev.reason }, 'alarm state changed')
      actions({ alarm, oldState, newState: ev.state, reason: ev.reason, atMs: nowMs })
    }
  }

  const onDatapoints = (datapoints: Datapoint[], fromLocalStore: boolean) => {
    let added = 0
    let dupes = 0
    const t = now()
    for (const p of datapoints) {
      // A datapoint shipped from a local store may arrive twice (its own host already has it, or a
      // retried PutRecords wrote it again): count it once.
      if (fromLocalStore && !seen.remember(p.id)) {
        dupes++
        continue
      }
      store.add(p)
      metrics.ingestDelay(t - p.acceptedAtMs)
      added++
    }
    metrics.ingested('kinesis', added)
    metrics.duplicates(dupes)
  }

  const start = () => {
    const { signal } = lifetime
    const logErrors = rateLimited(1_000)
    void ensureStream(deps.kinesis, {
      stream: deps.stream,
      shards: deps.streamShards,
      retryMs: deps.streamRetryMs,
      signal,
      onError: (err) => logErrors('stream', () => app.log.warn({ stream: deps.stream, err: (err as Error).message }, 'metric stream not ready yet')),
    })
      .then(() => {
        streamReady = true
        metrics.streamReady(true)
        app.log.info({ stream: deps.stream }, 'metric stream ready')
        consumer = new MetricConsumer({
          client: deps.kinesis,
          stream: deps.stream,
          pollMs: deps.consumerPollMs,
          startAtMs: () => now() - deps.retentionMs,
          onDatapoints,
          onError: (operation, err) => {
            metrics.consumerError(operation, kinesisFailure(err))
            logErrors(`consumer ${operation}`, () => app.log.warn({ operation, err: (err as Error).message }, 'consumer call failed'))
          },
          signal,
        })
        return consumer.run()
      })
      .catch(() => {})

    if (local) {
      shipper = new Shipper({
        store: local,
        put: (datapoints) => putDatapoints(deps.kinesis, deps.stream, datapoints, { local: true, signal }),
        batch: deps.shipBatch,
        retryMs: deps.shipRetryMs,
        onShipped: (n) => {
          metrics.shipped(n)
          metrics.pending(local.pendingCount)
        },
        onError: (err) => {
          metrics.shipError(kinesisFailure(err))
          logErrors('shipper', () => app.log.warn({ err: (err as Error).message, pending: local.pendingCount }, 'shipping from the local store failed'))
        },
        signal,
      })
      void shipper.run()
    }

    timers.push(
      setInterval(() => {
        evaluateAlarms()
        const c = consumer?.state()
        if (c) metrics.consumer(c.msBehindLatest, c.lastReadAgeMs)
      }, deps.alarmEvaluationIntervalMs),
    )
    timers.push(
      setInterval(
        () => {
          store.prune()
          seen.prune()
          if (local) {
            metrics.expired(local.expire())
            metrics.pending(local.pendingCount)
          }
        },
        Math.max(100, Math.min(10_000, Math.floor((local ? Math.min(deps.retentionMs, local.retentionMs) : deps.retentionMs) / 10))),
      ),
    )
    for (const t of timers) t.unref()
  }

  service.setHealth(() => ({
    status: 'ok',
    stream: deps.stream,
    stream_ready: streamReady,
    consumer_shards: consumer?.state().shards ?? 0,
    consumer_ms_behind_latest: consumer?.state().msBehindLatest ?? null,
    metrics: store.size,
    alarms: alarms.size,
    local_store: local ? { pending: local.pendingCount, stored: local.size, expired: local.expiredTotal } : false,
  }))

  app.decorate('cloudwatch', { store, alarms, evaluateAlarms, start })
  app.addHook('onClose', async () => {
    lifetime.abort()
    for (const t of timers) clearInterval(t)
    await actionDispatcher.close()
  })
  return app
}

/** Logs a recurring failure at most once per interval per kind (an outage repeats them). */
function rateLimited(intervalMs: number): (kind: string, log: () => void) => void {
  const last = new Map<string, number>()
  return (kind, log) => {
    const t = Date.now()
    if (t - (last.get(kind) ?? 0) < intervalMs) return
    last.set(kind, t)
    log()
  }
}

/** An Auto Scaling action: a scaling policy's invoke URL (http://host/policies/<name>/invoke). */
export function isScalingAction(action: string): boolean {
  try {
    return /^\/policies\/[^/]+\/invoke$/.test(new URL(action).pathname)
  } catch {
    return false
  }
}
