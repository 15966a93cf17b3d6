// kinesis/backend: shard storage behind a small HTTP API (docs/internals.md, "kinesis/backend").
import type { FastifyInstance } from 'fastify'
import { createService, createOutbound, internalCredential } from '../../kit/index.js'
import type { ShardStore } from './shard-store.js'
import { IteratorCodec } from './iterators.js'
import { ShardReader } from './reader.js'
import { backendMetrics } from './metrics.js'
import { registerWithMetadata, type Registration } from './registration.js'
import * as valid from './validate.js'

export interface BackendDeps {
  id: string
  store: ShardStore
  iteratorSecret: string
  /** Registers PUT /backends/:id there once listening; absent: a standalone back-end. */
  metadataUrl?: string
  /** The URL metadata hands to front-ends; default http://127.0.0.1:<listening port>. */
  advertiseUrl?: string
  now?: () => number
  iteratorTtlMs?: number
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logger?: boolean
  logLevel?: string
}

type Params = Record<string, string>

export function buildApp(deps: BackendDeps): FastifyInstance {
  const { store } = deps
  const now = deps.now ?? Date.now
  const svc = createService({
    name: 'kinesis-backend',
    instance: deps.id,
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logger: deps.logger,
    logLevel: deps.logLevel,
  })
  const { app } = svc
  const metrics = backendMetrics(svc.metrics, store)
  store.observeCommits(metrics.commit)
  store.observeTrims({
    trimmed: (r) => {
      metrics.trim(r)
      app.log.debug(r, 'shard log trimmed')
    },
    failed: (err) => app.log.error({ err }, 'shard log trim failed; the log is kept whole and tried again at the next trim'),
  })
  const reader = new ShardReader(store, new IteratorCodec(deps.iteratorSecret, { now, ttlMs: deps.iteratorTtlMs }), now)

  // Plain JSON.parse: the bodies are large batches from our own front-ends, and the prototype-
  // poisoning scan of the default parser costs throughput without protecting anything here
  // (no body is merged into an object).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, (text as string).length === 0 ? undefined : JSON.parse(text as string))
    } catch (err) {
      done(Object.assign(err as Error, { statusCode: 400 }), undefined)
    }
  })

  let registration: Registration | undefined
  svc.setHealth(() => ({
    status: !deps.metadataUrl || registration?.registered ? 'ok' : 'starting',
    backend: deps.id,
    registered: registration?.registered ?? false,
    shards: store.shardCount(),
    retentionMs: store.retentionMs,
  }))

  if (deps.metadataUrl) {
    const metadataUrl = deps.metadataUrl
    // Registering is metadata's internal PUT /backends/:id.
    const outbound = createOutbound(svc.outboundFaults, { connections: 2, timeoutMs: 2_000 }).compose(internalCredential(deps.internalToken))
    app.addHook('onListen', async () => {
      const address = app.server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      const url = deps.advertiseUrl ?? `http://127.0.0.1:${port}`
      registration = registerWithMetadata({ metadataUrl, id: deps.id, url, dispatcher: outbound, log: app.log })
    })
    app.addHook('onClose', async () => {
      registration?.stop()
      await outbound.close()
    })
  }

  app.post('/shards/:stream/:shardId/records', async (req, reply) => {
    const p = req.params as Params
    const stream = valid.streamName(p.stream)
    const shardId = valid.shardId(p.shardId)
    const records = valid.records(valid.body(req.body).records)
    const log = (await store.shard(stream, shardId, true))!
    const seqs = await log.append(records)
    // Hand-built: 56-digit strings need no escaping, and this is the hottest answer.
    let out = '{"records":['
    for (let i = 0; i < seqs.length; i++) out += (i === 0 ? '{"sequenceNumber":"' : ',{"sequenceNumber":"') + seqs[i] + '"}'
    reply.header('content-type', 'application/json; charset=utf-8')
    return out + ']}'
  })

  app.post('/iterators', async (req) => {
    const b = valid.body(req.body)
    const shardIterator = await reader.iterator({
      stream: valid.streamName(b.stream),
      shardId: valid.shardId(b.shardId),
      type: valid.iteratorType(b.type),
      startingSequenceNumber: b.startingSequenceNumber === undefined || b.startingSequenceNumber === null ? undefined : (b.startingSequenceNumber as string),
      timestampMs: b.timestampMs === undefined || b.timestampMs === null ? undefined : (b.timestampMs as number),
    })
    return { shardIterator }
  })

  app.post('/records/get', async (req) => {
    const b = valid.body(req.body)
    const page = await reader.getRecords(b.shardIterator, valid.limit(b.limit))
    metrics.read(page.records.length)
    return {
      records: page.records.map((r) => ({
        sequenceNumber: r.sequenceNumber,
        data: r.data.toString('base64'),
        partitionKey: r.partitionKey,
        approximateArrivalTimestampMs: r.approximateArrivalTimestampMs,
      })),
      nextShardIterator: page.nextShardIterator,
      millisBehindLatest: page.millisBehindLatest,
    }
  })

  // Metadata calls this when a stream is deleted, so the name can be reused for an empty stream.
  app.delete('/streams/:stream', async (req) => {
    const stream = valid.streamName((req.params as Params).stream)
    const shards = await store.dropStream(stream)
    req.log.info({ stream, shards }, 'stream dropped')
    return { stream, droppedShards: shards }
  })

  app.addHook('onClose', async () => {
    await store.close()
  })

  return app
}
