// Bounded load against any Kinesis-compatible endpoint through the stock AWS SDK client: the same
// client and the same records for outage-lab, kinesalite and kinesis-local, so figures compare.
import { KinesisClient, PutRecordsCommand, PutRecordCommand, CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { randomBytes } from 'node:crypto'

export interface Target {
  name: string
  endpoint: string
  /** 'h1' forces HTTP/1.1 (NodeHttpHandler); 'h2' is the SDK's default handler. */
  protocol: 'h1' | 'h2'
}

export interface LoadResult {
  target: string
  protocol: string
  api: 'PutRecords' | 'PutRecord'
  concurrency: number
  calls: number
  records: number
  failedRecords: number
  errors: number
  seconds: number
  recordsPerSec: number
  p50Ms: number
  p99Ms: number
  /** The first failed call's error name and message, when a call failed. */
  firstError?: string
}

export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }

export function clientFor(t: Target): KinesisClient {
  return new KinesisClient({
    endpoint: t.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...(t.protocol === 'h1' ? { requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: 64 } }) } : {}),
  })
}

export async function ensureStream(client: KinesisClient, stream: string, shards: number): Promise<void> {
  try {
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }))
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err
  }
  for (let i = 0; i < 200; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`stream ${stream} never became ACTIVE`)
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Runs `calls` calls in total, `concurrency` at a time, and stops by itself after maxSeconds. */
export async function runLoad(
  t: Target,
  client: KinesisClient,
  opts: {
    stream: string
    api: 'PutRecords' | 'PutRecord'
    calls: number
    concurrency: number
    batchSize?: number
    recordBytes?: number
    maxSeconds?: number
    latenciesMs?: number[]
    signal?: AbortSignal
  },
): Promise<LoadResult> {
  const batchSize = opts.api === 'PutRecords' ? (opts.batchSize ?? 500) : 1
  const payload = randomBytes(opts.recordBytes ?? 100)
  const latencies: number[] = []
  let records = 0
  let failedRecords = 0
  let errors = 0
  let firstError: string | undefined
  let issued = 0
  let seq = 0
  const deadline = Date.now() + (opts.maxSeconds ?? 60) * 1000
  const started = performance.now()
  const worker = async () => {
    while (issued < opts.calls && Date.now() < deadline && !opts.signal?.aborted) {
      issued++
      const t0 = performance.now()
      try {
        if (opts.api === 'PutRecords') {
          const entries = Array.from({ length: batchSize }, () => ({ Data: payload, PartitionKey: `pk-${seq++}` }))
          const out = await client.send(new PutRecordsCommand({ StreamName: opts.stream, Records: entries }))
          records += batchSize - (out.FailedRecordCount ?? 0)
          failedRecords += out.FailedRecordCount ?? 0
        } else {
          await client.send(new PutRecordCommand({ StreamName: opts.stream, Data: payload, PartitionKey: `pk-${seq++}` }))
          records += 1
        }
      } catch (err) {
        errors++
        const e = err as { name?: string; message?: string } | undefined
        firstError ??= `${e?.name ?? 'Error'}: ${e?.message ?? err}`
      }
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  // A caller combining several runs (alternating targets) gets every call's latency.
  if (opts.latenciesMs) for (const l of latencies) opts.latenciesMs.push(l)
  latencies.sort((a, b) => a - b)
  return {
    target: t.name,
    protocol: t.protocol,
    api: opts.api,
    concurrency: opts.concurrency,
    calls: latencies.length,
    records,
    failedRecords,
    errors,
    seconds: +seconds.toFixed(2),
    recordsPerSec: Math.round(records / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    ...(firstError ? { firstError } : {}),
  }
}
