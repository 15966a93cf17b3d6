// CloudWatch's link to Kinesis: one stock SDK client (HTTP/1.1, explicit timeouts, the endpoint from
// the environment, never the real AWS hostname), the metric stream created in the background, and
// PutRecords of datapoint batches.
import { randomUUID } from 'node:crypto'
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { DEFAULT_REGION } from '../kit/index.js'
import { encodeRecord, batchForRecords, type Datapoint } from './datapoints.js'

export interface KinesisOptions {
  endpoint: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Socket timeout of one attempt: while Kinesis hangs, PutMetricData waits this long per attempt. */
  timeoutMs: number
  /** SDK attempts per call (1 = no retry inside CloudWatch; the caller's own SDK retries). */
  maxAttempts: number
}

export function createKinesisClient(opts: KinesisOptions): KinesisClient {
  if (!opts.endpoint) throw new Error('a Kinesis endpoint is required: CloudWatch never calls the real AWS')
  return new KinesisClient({
    endpoint: opts.endpoint,
    region: DEFAULT_REGION,
    credentials: opts.credentials,
    maxAttempts: opts.maxAttempts,
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(opts.timeoutMs, 2_000), requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true }),
  })
}

/** Why a Kinesis call failed, in a word for metrics and logs. */
export function kinesisFailure(err: unknown): string {
  const e = err as { name?: string; code?: string }
  return e?.name && e.name !== 'Error' ? e.name : (e?.code ?? 'Error')
}

/**
 * Creates the stream (ResourceInUseException = it exists) and waits until it is ACTIVE, retrying
 * every retryMs until it works or the signal aborts. Resolves with the shard count.
 */
export async function ensureStream(
  client: KinesisClient,
  opts: { stream: string; shards: number; retryMs: number; signal: AbortSignal; onError?: (err: unknown) => void },
): Promise<number> {
  while (!opts.signal.aborted) {
    try {
      try {
        await client.send(new CreateStreamCommand({ StreamName: opts.stream, ShardCount: opts.shards }), { abortSignal: opts.signal })
      } catch (err) {
        if ((err as Error).name !== 'ResourceInUseException') throw err
      }
      const { StreamDescriptionSummary: s } = await client.send(new DescribeStreamSummaryCommand({ StreamName: opts.stream }), { abortSignal: opts.signal })
      if (s?.StreamStatus === 'ACTIVE' || s?.StreamStatus === 'UPDATING') return s.OpenShardCount ?? opts.shards
    } catch (err) {
      if (opts.signal.aborted) break
      opts.onError?.(err)
    }
    await sleep(opts.retryMs, opts.signal)
  }
  throw new Error('aborted')
}

export interface PutOutcome {
  /** Datapoints Kinesis acknowledged. */
  written: Datapoint[]
  /** Datapoints of records Kinesis refused (partial failure), with the first error code. */
  failed: Datapoint[]
  errorCode?: string
}

/** Writes datapoints as records (a few hundred per record); partition key random, so load spreads over shards. */
export async function putDatapoints(
  client: KinesisClient,
  stream: string,
  datapoints: Datapoint[],
  opts: { local: boolean; signal?: AbortSignal },
): Promise<PutOutcome> {
  const batches = batchForRecords(datapoints)
  const out: PutOutcome = { written: [], failed: [] }
  // PutRecords takes at most 500 records and 5 MiB; batches are 256 KiB, so 16 per call.
  for (let i = 0; i < batches.length; i += 16) {
    const group = batches.slice(i, i + 16)
    const res = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: group.map((b) => ({ PartitionKey: randomUUID(), Data: encodeRecord(b, opts.local) })) }),
      { abortSignal: opts.signal },
    )
    res.Records?.forEach((r, j) => {
      if (r.ErrorCode) {
        out.failed.push(...group[j])
        out.errorCode ??= r.ErrorCode
      } else out.written.push(...group[j])
    })
  }
  return out
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
