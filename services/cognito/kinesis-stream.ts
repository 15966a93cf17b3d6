// The Kinesis side of the access-pattern log: the stock Kinesis client (HTTP/1.1, explicit
// timeouts, one attempt per call: the buffer does the retrying), the stream created in the
// background until it works, and PutRecords for the buffer's batches.
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { FastifyBaseLogger } from 'fastify'
import type { AccessRecord } from './access-log.js'

export interface AccessStreamOptions {
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  streamName: string
  shardCount: number
  /** Per-call timeout of PutRecords and the set-up calls. */
  requestTimeoutMs: number
  retryMs?: number
  logger: FastifyBaseLogger
}

export interface StreamStatus {
  name: string
  ready: boolean
  lastError?: string
}

export class AccessStream {
  readonly name: string
  #client: KinesisClient
  #opts: AccessStreamOptions
  #ready = false
  #lastError: string | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(opts: AccessStreamOptions) {
    this.#opts = opts
    this.name = opts.streamName
    this.#client = new KinesisClient({
      endpoint: opts.endpoint,
      region: opts.region,
      credentials: opts.credentials,
      maxAttempts: 1,
      // throwOnRequestTimeout: without it this SDK only logs a warning when requestTimeout passes and
      // keeps waiting, and a PutRecords to a hung Kinesis would hold the shipper forever.
      requestHandler: new NodeHttpHandler({
        connectionTimeout: Math.min(2_000, opts.requestTimeoutMs),
        requestTimeout: opts.requestTimeoutMs,
        throwOnRequestTimeout: true,
      }),
    })
  }

  get ready(): boolean {
    return this.#ready
  }

  status(): StreamStatus {
    return { name: this.name, ready: this.#ready, ...(this.#lastError ? { lastError: this.#lastError } : {}) }
  }

  /** Creates the stream (or finds it) in the background, retrying until Kinesis says it is ACTIVE. */
  start(): void {
    let attempts = 0
    const attempt = async () => {
      if (this.#closed) return
      attempts++
      try {
        await this.#client.send(new CreateStreamCommand({ StreamName: this.name, ShardCount: this.#opts.shardCount })).catch((err) => {
          if ((err as Error).name !== 'ResourceInUseException') throw err
        })
        const { StreamDescriptionSummary: s } = await this.#client.send(new DescribeStreamSummaryCommand({ StreamName: this.name }))
        if (s?.StreamStatus !== 'ACTIVE') throw new Error(`stream ${this.name} is ${s?.StreamStatus}`)
        this.#ready = true
        this.#lastError = undefined
        this.#opts.logger.info({ stream: this.name, attempts }, 'access-pattern stream ready')
        return
      } catch (err) {
        this.#lastError = `${(err as Error).name}: ${(err as Error).message}`
        // The first failure and then every 30th: a Kinesis that is down for long says so once in a while.
        if (attempts % 30 === 1) this.#opts.logger.warn({ stream: this.name, attempts, err: this.#lastError }, 'access-pattern stream not ready yet')
      }
      this.#timer = setTimeout(() => void attempt(), this.#opts.retryMs ?? 1_000)
      this.#timer.unref()
    }
    void attempt()
  }

  /** PutRecords; resolves with the indexes Kinesis refused (partial failure), rejects when the call failed. */
  readonly ship = async (batch: AccessRecord[]): Promise<number[]> => {
    try {
      const out = await this.#client.send(
        new PutRecordsCommand({ StreamName: this.name, Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })) }),
      )
      this.#lastError = undefined
      if (!out.FailedRecordCount) return []
      const failed: number[] = []
      out.Records?.forEach((r, i) => r.ErrorCode && failed.push(i))
      return failed
    } catch (err) {
      this.#lastError = `${(err as Error).name}: ${(err as Error).message}`
      // The stream is gone (a Kinesis that lost its metadata): hold records and create it again.
      if ((err as Error).name === 'ResourceNotFoundException' && this.#ready) {
        this.#ready = false
        this.start()
      }
      throw err
    }
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#client.destroy()
  }
}
