// The clickstream service: POST /events records a user's click. Two variants of the same routes:
//
// naive      sign the user in (Cognito, token cached), PutRecord to Kinesis, PutMetricData to
//            CloudWatch, then 200. Any failure is the caller's: 503. This is most code.
// resilient  sign in from the cache (a user Cognito cannot sign in now is recorded unverified),
//            append the event to the durable spool (fsync), then answer: 200 once the shipper has
//            it in Kinesis (within SHIP_WAIT_MS), 202 at once while Kinesis is failing (degraded:
//            the event waits on disk). The metric is aggregated and flushed in the background.
//
// Both list the event ids they acknowledged (answered 2xx) at GET /acknowledged, so a run can
// check that none is missing from the stream (expect.delivered).
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import type { Clients, SignIn, Session } from './aws.js'
import { ServedRequests, series } from './metrics.js'
import { CircuitBreaker } from './breaker.js'
import { Spool, type SpooledEvent } from './spool.js'
import { Shipper } from './shipper.js'
import { MetricAggregator } from './aggregator.js'

export type Variant = 'naive' | 'resilient'

export interface AppOptions {
  variant: Variant
  stream: string
  users: number
  namespace: string
  /** resilient: where the spool lives. */
  spoolDir?: string
  /** resilient: how long a request waits for its event to reach Kinesis before answering 202. */
  shipWaitMs?: number
  /** resilient: above this many unshipped bytes, refuse (503) rather than acknowledge what the disk may not hold. */
  spoolMaxBytes?: number
}

export interface App {
  server: http.Server
  /** Set once the stream and the users exist: /health answers 200 from then on. */
  ready: boolean
  start(signIn: SignIn): void
  close(): Promise<void>
}

type Answer = { status: number; body: unknown }

export function createApp(clients: Clients, o: AppOptions): App {
  const served = new ServedRequests()
  const events = { acknowledged: 0, shipped: 0, spooled: 0, failed: 0, unverified: 0 }
  const acked: string[] = []
  let signIn: SignIn | undefined
  let spool: Spool | undefined
  let shipper: Shipper | undefined
  let aggregator: MetricAggregator | undefined
  let flushTimer: NodeJS.Timeout | undefined
  const waiting = new Map<string, () => void>()

  const putMetric = (count: number) =>
    clients.cloudwatch
      .send(new PutMetricDataCommand({ Namespace: o.namespace, MetricData: [{ MetricName: 'Events', Value: count, Unit: 'Count' }] }))
      .then(() => undefined)

  const eventOf = (body: Record<string, unknown>, user: string, session: Session | undefined): SpooledEvent => ({
    id: randomUUID(),
    user,
    sub: session?.sub ?? null,
    auth: session ? 'verified' : 'unverified',
    page: typeof body.page === 'string' ? body.page : '/',
    at: Date.now(),
  })

  async function naive(body: Record<string, unknown>, user: string): Promise<Answer> {
    const session = await signIn!.session(user)
    const event = eventOf(body, user, session)
    await clients.kinesis.send(new PutRecordCommand({ StreamName: o.stream, PartitionKey: user, Data: Buffer.from(JSON.stringify(event)) }))
    await putMetric(1)
    acked.push(event.id)
    events.acknowledged++
    events.shipped++
    return { status: 200, body: { id: event.id } }
  }

  async function resilient(body: Record<string, unknown>, user: string): Promise<Answer> {
    let session = signIn!.cached(user)
    if (!session) {
      // Cognito's answer or its failure within the client's 1 s timeout; the click is kept either way.
      session = await signIn!.session(user).catch(() => undefined)
    }
    const event = eventOf(body, user, session)
    if (!session) events.unverified++
    if (spool!.backlogBytes > (o.spoolMaxBytes ?? 256 * 1024 * 1024)) return { status: 503, body: { error: 'SpoolFull' } }
    const degraded = shipper!.breaker.state() !== 'closed' || spool!.backlog > 500
    const shipped = degraded ? undefined : new Promise<boolean>((resolve) => waiting.set(event.id, () => resolve(true)))
    try {
      await spool!.append(event)
    } catch (err) {
      waiting.delete(event.id)
      throw err
    }
    acked.push(event.id)
    events.acknowledged++
    aggregator!.add(1)
    if (shipped) {
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), o.shipWaitMs ?? 500).unref())
      const inTime = await Promise.race([shipped, timer])
      waiting.delete(event.id)
      if (inTime) return { status: 200, body: { id: event.id } }
    }
    events.spooled++
    return { status: 202, body: { id: event.id, spooled: true } }
  }

  function metricsText(): string {
    const rows: [string, Record<string, string>, number][] = [
      ['clickstream_events_total', { outcome: 'acknowledged' }, events.acknowledged],
      ['clickstream_events_total', { outcome: 'answered_spooled' }, events.spooled],
      ['clickstream_events_total', { outcome: 'failed' }, events.failed],
      ['clickstream_events_total', { outcome: 'unverified' }, events.unverified],
      ['clickstream_sign_ins_total', {}, signIn?.calls ?? 0],
    ]
    if (spool && shipper && aggregator) {
      rows.push(['clickstream_spool_backlog', {}, spool.backlog])
      rows.push(['clickstream_spool_backlog_bytes', {}, spool.backlogBytes])
      rows.push(['clickstream_shipped_total', {}, shipper.shipped])
      rows.push(['clickstream_ship_failures_total', {}, shipper.failures])
      rows.push(['clickstream_metric_pending', {}, aggregator.pending])
      for (const b of [shipper.breaker, aggregator.breaker]) {
        for (const s of ['closed', 'open', 'half-open']) rows.push(['clickstream_breaker_state', { dependency: b.name, state: s }, b.state() === s ? 1 : 0])
        rows.push(['clickstream_breaker_opens_total', { dependency: b.name }, b.opens])
      }
    }
    return served.text() + series(rows)
  }

  const send = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  const app: App = {
    ready: false,
    server: http.createServer((req, res) => {
      served.track(req, res)
      const url = (req.url ?? '/').split('?')[0]
      if (req.method === 'GET' && url === '/health') {
        const state = { ready: app.ready, variant: o.variant, backlog: spool?.backlog ?? 0, kinesis: shipper?.breaker.state() }
        return send(res, app.ready ? 200 : 503, state)
      }
      if (req.method === 'GET' && url === '/metrics') return send(res, 200, metricsText(), 'text/plain; version=0.0.4')
      if (req.method === 'GET' && url === '/acknowledged') return send(res, 200, { count: acked.length, ids: acked })
      if (req.method !== 'POST' || url !== '/events') return send(res, 404, { error: 'NotFound' })
      if (!app.ready) return send(res, 503, { error: 'NotReady' })
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        let body: Record<string, unknown>
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
          if (typeof body !== 'object' || body === null) throw new Error('not an object')
        } catch {
          return send(res, 400, { error: 'BadRequest', message: 'a JSON object {"user": n, "page": "..."}' })
        }
        const user = `user-${Math.abs(Math.trunc(Number(body.user) || 0)) % o.users}`
        ;(o.variant === 'naive' ? naive : resilient)(body, user).then(
          (a) => send(res, a.status, a.body),
          (err: Error) => {
            events.failed++
            send(res, 503, { error: err.name, message: err.message })
          },
        )
      })
    }),
    start(s: SignIn) {
      signIn = s
      if (o.variant === 'resilient') {
        spool = Spool.open(o.spoolDir ?? 'spool')
        // Events a previous process acknowledged are still acknowledged: the ledger is the spool.
        acked.push(...spool.acknowledged())
        const kinesisBreaker = new CircuitBreaker('kinesis', { failureThreshold: 3, openMs: 2_000 })
        shipper = new Shipper(
          spool,
          async (batch) => {
            const out = await clients.kinesis.send(
              new PutRecordsCommand({
                StreamName: o.stream,
                Records: batch.map((e) => ({ PartitionKey: String(e.user), Data: Buffer.from(JSON.stringify(e)) })),
              }),
            )
            // Stored up to the first refused record (in order); the rest go again.
            const first = (out.Records ?? []).findIndex((r) => r.ErrorCode)
            return first === -1 ? batch.length : first
          },
          kinesisBreaker,
          {
            onShipped: (ids) => {
              for (const id of ids) waiting.get(id)?.()
            },
          },
        )
        shipper.start()
        aggregator = new MetricAggregator(putMetric, new CircuitBreaker('cloudwatch', { failureThreshold: 3, openMs: 5_000 }))
        flushTimer = setInterval(() => void aggregator!.flush(), 1_000)
      }
      app.ready = true
    },
    async close() {
      if (flushTimer) clearInterval(flushTimer)
      await shipper?.stop()
      spool?.close()
      await new Promise<void>((r) => app.server.close(() => r()))
    },
  }
  return app
}
