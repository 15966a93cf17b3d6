// The Kinesis side: the stock @aws-sdk/client-kinesis over HTTP/1.1 with explicit timeouts, and the
// events stream, created in the background until Kinesis lets us (it may be down when we start).
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { Agent } from 'node:http'

export interface KinesisOptions {
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  timeoutMs: number
}

export function createKinesisClient(opts: KinesisOptions): KinesisClient {
  return new KinesisClient({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: opts.credentials,
    // One attempt: PutEvents answers its caller (whose SDK retries), and the consumer runs its own
    // backoff loop, so SDK retries would only stack latency on top of both.
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(opts.timeoutMs, 3_000),
      requestTimeout: opts.timeoutMs,
      // Without it the handler only warns when requestTimeout passes, and the call hangs on.
      throwOnRequestTimeout: true,
      httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }),
    }),
  })
}

export interface StreamWaitOptions {
  stream: string
  shardCount: number
  retryMs: number
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  /** Stops the wait (the service is closing). */
  signal: AbortSignal
}

/** Creates the stream if it is missing, waits until it is ACTIVE, returns its shard ids. */
export async function ensureStream(kinesis: KinesisClient, opts: StreamWaitOptions): Promise<string[]> {
  let created = false
  let failures = 0
  while (!opts.signal.aborted) {
    try {
      if (!created) {
        try {
          await kinesis.send(new CreateStreamCommand({ StreamName: opts.stream, ShardCount: opts.shardCount }))
          opts.log.info({ stream: opts.stream, shardCount: opts.shardCount }, 'events stream created')
        } catch (err) {
          if ((err as { name?: string }).name !== 'ResourceInUseException') throw err
        }
        created = true
      }
      const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: opts.stream }))
      if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') {
        const shards: string[] = []
        let token: string | undefined
        do {
          const page = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: opts.stream }))
          for (const s of page.Shards ?? []) if (s.ShardId) shards.push(s.ShardId)
          token = page.NextToken
        } while (token)
        return shards
      }
    } catch (err) {
      // Every few failures only: while Kinesis is down this loop would otherwise flood the log.
      if (failures++ % 10 === 0) opts.log.warn({ stream: opts.stream, err: (err as Error).message, failures }, 'events stream not ready yet')
    }
    await sleep(opts.retryMs, opts.signal)
  }
  return []
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
