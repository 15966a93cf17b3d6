// Test doubles for the front-end's unit tests, named as such: an in-memory shard-map
// (ShardMapDouble) and one small HTTP server (StorageDouble) standing in for metadata's
// POST /streams and for back-ends' record routes, so the front-end's own logic is tested through
// real HTTP without the real services. Integration tests (frontend-sdk*.test.ts) run the real ones.
import Fastify, { type FastifyInstance } from 'fastify'
import { createHash, createHmac } from 'node:crypto'
import { AwsErrors } from '../../services/kit/index.js'
import type { ShardMap, ShardMapState, ShardMapStats, StreamInfo } from '../../services/kinesis/frontend/shardmap/types.js'

export const KEYS = new Map([['AKIDOUTAGELAB', 'outage-lab-secret']])
const SPACE = 1n << 128n

export function streamInfo(name: string, shardCount: number, owners: string[], createdAtMs = 1_700_000_000_000): StreamInfo {
  const n = BigInt(shardCount)
  return {
    name,
    arn: `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`,
    status: 'ACTIVE',
    createdAtMs,
    retentionHours: 24,
    shards: Array.from({ length: shardCount }, (_, i) => ({
      shardId: `shardId-${String(i).padStart(12, '0')}`,
      startingHashKey: ((BigInt(i) * SPACE) / n).toString(),
      endingHashKey: (i === shardCount - 1 ? SPACE - 1n : ((BigInt(i) + 1n) * SPACE) / n - 1n).toString(),
      startingSequenceNumber: `49${String(i).padStart(12, '0')}${'0'.repeat(42)}`,
      owner: owners[i % owners.length],
    })),
  }
}

/** In-memory ShardMap double: state and contents are set by the test. */
export class ShardMapDouble implements ShardMap {
  state: ShardMapState = 'ready'
  streams = new Map<string, StreamInfo>()
  backends = new Map<string, string>()
  refreshes = 0
  closed = false
  /** Called by refresh(): tests point it at the storage double's streams. */
  source?: () => StreamInfo[]

  requireUsable(): void {
    if (this.state === 'broken') throw AwsErrors.InternalFailure('shard-map is broken: cannot route (test double)')
    if (this.state === 'building') throw AwsErrors.ServiceUnavailable('shard-map is still building (test double)')
  }
  async stream(name: string) {
    return this.streams.get(name)
  }
  listStreams() {
    return [...this.streams.keys()].sort()
  }
  backendUrl(owner: string) {
    const url = this.backends.get(owner)
    if (!url) throw AwsErrors.InternalFailure(`no back-end ${owner} in the shard-map (test double)`)
    return url
  }
  async refresh() {
    this.refreshes++
    for (const s of this.source?.() ?? []) this.streams.set(s.name, s)
  }
  stats(): ShardMapStats {
    return {
      state: this.state,
      version: this.refreshes,
      threads: 11,
      threadLimit: 64,
      enforcement: 'process',
      peers: 2,
      peerThreads: 2,
      pendingPeers: 0,
      threadCreateFailures: 0,
    }
  }
  async close() {
    this.closed = true
  }
}

interface StoredRecord {
  sequenceNumber: string
  data: string
  partitionKey: string
  approximateArrivalTimestampMs: number
}

/**
 * Storage double: metadata's POST /streams plus one back-end's record routes, in memory, with
 * the wire shapes of docs/internals.md. Iterators are unsigned here (the real back-end signs them).
 */
export class StorageDouble {
  readonly app: FastifyInstance = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 })
  readonly streams = new Map<string, StreamInfo>()
  readonly shards = new Map<string, StoredRecord[]>()
  readonly appends: Array<{ stream: string; shardId: string; count: number }> = []
  url = ''

  constructor(readonly owner = 'backend-double') {
    const app = this.app
    app.setErrorHandler((err, _req, reply) => {
      const e = err as { type?: string; statusCode?: number; message: string }
      reply.code(e.statusCode ?? 500).send({ __type: e.type ?? 'InternalFailure', message: e.message })
    })
    app.post('/streams', async (req, reply) => {
      const { name, shardCount } = req.body as { name: string; shardCount: number }
      if (this.streams.has(name)) throw AwsErrors.ResourceInUseException(`Stream ${name} under account 000000000000 already exists.`)
      const s = streamInfo(name, shardCount, [this.owner], Date.now())
      this.streams.set(name, s)
      reply.code(201)
      return s
    })
    app.post('/shards/:stream/:shardId/records', async (req) => {
      const { stream, shardId } = req.params as { stream: string; shardId: string }
      const { records } = req.body as { records: Array<{ data: string; partitionKey: string }> }
      const list = this.#shard(stream, shardId)
      this.appends.push({ stream, shardId, count: records.length })
      return {
        records: records.map((r) => {
          const sequenceNumber = `49${shardId.slice(-12)}${String(list.length + 1).padStart(42, '0')}`
          list.push({ sequenceNumber, data: r.data, partitionKey: r.partitionKey, approximateArrivalTimestampMs: Date.now() })
          return { sequenceNumber }
        }),
      }
    })
    app.post('/iterators', async (req) => {
      const b = req.body as { stream: string; shardId: string; type: string; startingSequenceNumber?: string; timestampMs?: number }
      const list = this.#shard(b.stream, b.shardId)
      let pos = 0
      if (b.type === 'LATEST') pos = list.length
      else if (b.type === 'AT_SEQUENCE_NUMBER' || b.type === 'AFTER_SEQUENCE_NUMBER') {
        pos = list.findIndex((r) => r.sequenceNumber >= b.startingSequenceNumber!)
        if (pos < 0) pos = list.length
        else if (b.type === 'AFTER_SEQUENCE_NUMBER' && list[pos].sequenceNumber === b.startingSequenceNumber) pos++
      } else if (b.type === 'AT_TIMESTAMP') {
        pos = list.findIndex((r) => r.approximateArrivalTimestampMs >= b.timestampMs!)
        if (pos < 0) pos = list.length
      }
      return { shardIterator: iterator(b.stream, b.shardId, pos) }
    })
    app.post('/records/get', async (req) => {
      const { shardIterator, limit } = req.body as { shardIterator: string; limit: number }
      const p = JSON.parse(Buffer.from(shardIterator.split('.')[0], 'base64url').toString())
      const list = this.#shard(p.stream, p.shardId)
      const records = list.slice(p.pos, p.pos + limit)
      const next = p.pos + records.length
      const last = list[list.length - 1]
      return {
        records,
        nextShardIterator: iterator(p.stream, p.shardId, next),
        millisBehindLatest:
          next >= list.length || !last ? 0 : Math.max(0, last.approximateArrivalTimestampMs - records[records.length - 1].approximateArrivalTimestampMs),
      }
    })
  }

  async start(): Promise<this> {
    await this.app.listen({ port: 0, host: '127.0.0.1' })
    this.url = `http://127.0.0.1:${(this.app.server.address() as { port: number }).port}`
    return this
  }

  close(): Promise<void> {
    return this.app.close()
  }

  #shard(stream: string, shardId: string): StoredRecord[] {
    const key = `${stream}/${shardId}`
    let list = this.shards.get(key)
    if (!list) this.shards.set(key, (list = []))
    return list
  }
}

function iterator(stream: string, shardId: string, pos: number): string {
  return `${Buffer.from(JSON.stringify({ stream, shardId, pos })).toString('base64url')}.double`
}

/** A raw Kinesis call signed with SigV4 as the SDK would sign it, for app.inject(). */
export function signedKinesisRequest(operation: string, body: unknown, opts: { accessKeyId?: string; secret?: string; date?: Date; host?: string } = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  const host = opts.host ?? 'localhost:80'
  const now = opts.date ?? new Date()
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const accessKeyId = opts.accessKeyId ?? 'AKIDOUTAGELAB'
  const secret = opts.secret ?? 'outage-lab-secret'
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host,
    'x-amz-date': amzDate,
    'x-amz-target': `Kinesis_20131202.${operation}`,
  }
  const names = Object.keys(headers).sort()
  const sha = (s: string) => createHash('sha256').update(s).digest('hex')
  const canonical = ['POST', '/', '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), sha(payload)].join('\n')
  const scope = `${day}/us-east-1/kinesis/aws4_request`
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha(canonical)}`
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest()
  for (const part of ['us-east-1', 'kinesis', 'aws4_request']) key = createHmac('sha256', key).update(part).digest()
  const signature = createHmac('sha256', key).update(toSign).digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  return { method: 'POST' as const, url: '/', headers, payload }
}
