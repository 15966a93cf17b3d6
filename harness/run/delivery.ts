// `expect.delivered`: no event a customer service acknowledged is lost. After the steady state
// after the method, the harness asks the customer which event ids it acknowledged (GET its
// `path`: a JSON list of ids, or `{ "ids": [...] }`), then reads the whole stream with the lab's
// own key (every shard, from TRIM_HORIZON) until every one of those ids is there or `within` has
// passed: a resilient service may still be shipping its spool. A record's data is the event as
// JSON with a string `id` (or a JSON list of such events); anything else is counted as unreadable.
// The result is a `delivery` event of the journal; harness/analyze/expect.ts judges it, so a
// re-analysis of an old run reads it like every other event.
import { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand, type Shard } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { request } from 'undici'
import type { DeliveryExpectation } from '../experiment/types.js'

/** The ids of the events it lists as lost in the journal (the count is always whole). */
export const LOST_IDS_SHOWN = 20
/** Between two reads of the stream while ids are still missing. */
export const DELIVERY_POLL_MS = 2_000

/** What the journal's `delivery` event says. */
export interface DeliveryReport {
  customer: string
  stream: string
  /** Ids the customer acknowledged (distinct). */
  acknowledged: number
  /** Of those, found in the stream. */
  delivered: number
  lost: number
  /** The first LOST_IDS_SHOWN lost ids. */
  lostIds: string[]
  /** Records read in the last pass, those whose data was no event with an id, ids found more than once. */
  records: number
  unreadable: number
  duplicates: number
  /** Passes over the stream, and how long the check took. */
  reads: number
  tookMs: number
  /** Why the check could not be made (the customer's list or the stream could not be read). */
  error?: string
}

export interface DeliveryDeps {
  /** The ids the customer lists at its `path`. */
  acknowledged(): Promise<string[]>
  /** The data of every record of the stream (every shard, TRIM_HORIZON to the tip). */
  readStream(stream: string): Promise<Uint8Array[]>
  now(): number
  sleep(ms: number): Promise<void>
  /** Checked between passes: an interrupted run stops waiting. */
  aborted?(): boolean
}

/** The event ids in records' data: a JSON event with a string `id`, or a JSON list of them. */
export function idsOfRecords(records: readonly Uint8Array[]): { ids: Map<string, number>; unreadable: number } {
  const ids = new Map<string, number>()
  let unreadable = 0
  const add = (v: unknown): boolean => {
    if (typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string') {
      const id = (v as { id: string }).id
      ids.set(id, (ids.get(id) ?? 0) + 1)
      return true
    }
    return false
  }
  for (const r of records) {
    let v: unknown
    try {
      v = JSON.parse(Buffer.from(r).toString('utf8'))
    } catch {
      unreadable++
      continue
    }
    const ok = Array.isArray(v) ? v.length > 0 && v.map(add).every(Boolean) : add(v)
    if (!ok) unreadable++
  }
  return { ids, unreadable }
}

/** What a customer's acknowledged list may look like: `["a", "b"]` or `{ "ids": ["a", "b"] }`. */
export function parseAcknowledged(body: unknown): string[] {
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null ? (body as { ids?: unknown }).ids : undefined
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new Error('expected a JSON list of event ids, or {"ids": [...]}')
  }
  return list
}

export async function checkDelivery(x: DeliveryExpectation, deps: DeliveryDeps): Promise<DeliveryReport> {
  const started = deps.now()
  const base = { customer: x.customer, stream: x.stream }
  const report = (r: Omit<DeliveryReport, 'customer' | 'stream' | 'tookMs'>): DeliveryReport => ({ ...base, ...r, tookMs: Math.round(deps.now() - started) })
  let acked: string[]
  try {
    acked = [...new Set(await deps.acknowledged())]
  } catch (err) {
    const error = `could not read the acknowledged ids at ${x.path}: ${(err as Error).message}`
    return report({ acknowledged: 0, delivered: 0, lost: 0, lostIds: [], records: 0, unreadable: 0, duplicates: 0, reads: 0, error })
  }
  let reads = 0
  let lastError: string | undefined
  for (;;) {
    let missing = acked
    let records = 0
    let unreadable = 0
    let duplicates = 0
    try {
      const data = await deps.readStream(x.stream)
      reads++
      lastError = undefined
      const found = idsOfRecords(data)
      records = data.length
      unreadable = found.unreadable
      for (const n of found.ids.values()) if (n > 1) duplicates++
      missing = acked.filter((id) => !found.ids.has(id))
    } catch (err) {
      lastError = `could not read stream ${x.stream}: ${(err as Error).name}: ${(err as Error).message}`
    }
    const done = !lastError && missing.length === 0
    if (done || deps.now() - started >= x.withinMs || deps.aborted?.()) {
      return report({
        acknowledged: acked.length,
        delivered: lastError ? 0 : acked.length - missing.length,
        lost: lastError ? 0 : missing.length,
        lostIds: lastError ? [] : missing.slice(0, LOST_IDS_SHOWN),
        records,
        unreadable,
        duplicates,
        reads,
        ...(lastError ? { error: lastError } : {}),
      })
    }
    await deps.sleep(Math.min(DELIVERY_POLL_MS, Math.max(0, x.withinMs - (deps.now() - started))))
  }
}

/** Every record's data of a stream, every shard from TRIM_HORIZON up to its tip. */
export async function readWholeStream(kinesis: KinesisClient, stream: string): Promise<Uint8Array[]> {
  const shards: Shard[] = []
  let next: string | undefined
  do {
    const page = await kinesis.send(next ? new ListShardsCommand({ NextToken: next }) : new ListShardsCommand({ StreamName: stream }))
    shards.push(...(page.Shards ?? []))
    next = page.NextToken
  } while (next)
  const out: Uint8Array[] = []
  for (const shard of shards) {
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator
    // At the tip, GetRecords answers no record and MillisBehindLatest 0 (a closed shard: no iterator).
    while (it) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }))
      for (const r of page.Records ?? []) if (r.Data) out.push(r.Data)
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break
      it = page.NextShardIterator
    }
  }
  return out
}

/** The real dependencies: the customer's URL over HTTP, the stream through the lab's Kinesis with the lab's own key. */
export function liveDeliveryDeps(
  x: DeliveryExpectation,
  at: { customerUrl: string; kinesis: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  signal: AbortSignal,
): DeliveryDeps & { close(): void } {
  const kinesis = new KinesisClient({
    endpoint: at.kinesis,
    region: at.region,
    credentials: at.credentials,
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 10_000, throwOnRequestTimeout: true }),
  })
  return {
    async acknowledged() {
      if (!at.customerUrl) throw new Error(`no URL for customer ${x.customer} in this run`)
      const res = await request(new URL(x.path, at.customerUrl), { method: 'GET', headersTimeout: 10_000, bodyTimeout: 30_000, signal })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw new Error(`HTTP ${res.statusCode}`)
      }
      return parseAcknowledged(await res.body.json())
    },
    readStream: (stream) => readWholeStream(kinesis, stream),
    now: () => Date.now(),
    sleep: (ms) =>
      new Promise((resolve) => {
        const t = setTimeout(resolve, ms)
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
      }),
    aborted: () => signal.aborted,
    close: () => kinesis.destroy(),
  }
}
