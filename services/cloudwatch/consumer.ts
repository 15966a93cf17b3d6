// The aggregation side of ingestion: one polling loop per shard (GetShardIterator, then GetRecords
// every poll interval) hands every decoded datapoint to the query store. While Kinesis fails the
// loops keep retrying and nothing new arrives: the gaps of 2020-11-25.
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis'
import { decodeRecord, type Datapoint } from './datapoints.js'
import { kinesisFailure, sleep } from './kinesis.js'

export interface ConsumerOptions {
  client: KinesisClient
  stream: string
  pollMs: number
  /** Where a shard starts when this process has no position yet (the query store's retention). */
  startAtMs: () => number
  onDatapoints: (datapoints: Datapoint[], local: boolean) => void
  onError: (operation: string, err: unknown) => void
  signal: AbortSignal
}

export interface ConsumerState {
  shards: number
  /** Largest MillisBehindLatest among the shards' last GetRecords answers. */
  msBehindLatest: number
  lastRecordAtMs: number | undefined
  /** Time since the shard read longest ago last answered (grows while Kinesis fails). */
  lastReadAgeMs: number
}

export class MetricConsumer {
  readonly #opts: ConsumerOptions
  readonly #behind = new Map<string, number>()
  readonly #readAtMs = new Map<string, number>()
  #shards: string[] = []
  #lastRecordAtMs: number | undefined

  constructor(opts: ConsumerOptions) {
    this.#opts = opts
  }

  state(): ConsumerState {
    const now = Date.now()
    return {
      shards: this.#shards.length,
      msBehindLatest: Math.max(0, ...this.#behind.values()),
      lastRecordAtMs: this.#lastRecordAtMs,
      lastReadAgeMs: Math.max(0, ...[...this.#readAtMs.values()].map((t) => now - t)),
    }
  }

  /** Runs until the signal aborts. */
  async run(): Promise<void> {
    const { client, stream, signal } = this.#opts
    while (!signal.aborted && this.#shards.length === 0) {
      try {
        const res = await client.send(new ListShardsCommand({ StreamName: stream }), { abortSignal: signal })
        this.#shards = (res.Shards ?? []).map((s) => s.ShardId!).filter(Boolean)
      } catch (err) {
        if (!signal.aborted) this.#opts.onError('ListShards', err)
      }
      if (this.#shards.length === 0) await sleep(this.#errorBackoffMs(), signal)
    }
    await Promise.all(this.#shards.map((shardId) => this.#pollShard(shardId)))
  }

  #errorBackoffMs(): number {
    return Math.max(this.#opts.pollMs, 500)
  }

  async #pollShard(shardId: string): Promise<void> {
    const { client, stream, signal } = this.#opts
    let iterator: string | undefined
    let lastSequence: string | undefined
    while (!signal.aborted) {
      let operation = 'GetShardIterator'
      try {
        if (!iterator) {
          const res = await client.send(
            new GetShardIteratorCommand(
              lastSequence
                ? { StreamName: stream, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: lastSequence }
                : { StreamName: stream, ShardId: shardId, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(this.#opts.startAtMs()) },
            ),
            { abortSignal: signal },
          )
          iterator = res.ShardIterator
        }
        operation = 'GetRecords'
        const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }), { abortSignal: signal })
        iterator = res.NextShardIterator
        this.#behind.set(shardId, res.MillisBehindLatest ?? 0)
        this.#readAtMs.set(shardId, Date.now())
        for (const r of res.Records ?? []) {
          lastSequence = r.SequenceNumber
          this.#lastRecordAtMs = r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()
          const decoded = r.Data ? decodeRecord(r.Data) : undefined
          if (decoded) this.#opts.onDatapoints(decoded.datapoints, decoded.local)
        }
        // A full page means more is waiting: read on at once; otherwise wait a poll interval.
        if ((res.Records?.length ?? 0) < 1000 || !iterator) await sleep(this.#opts.pollMs, signal)
      } catch (err) {
        if (signal.aborted) break
        const name = kinesisFailure(err)
        // An iterator that expired (5 minutes of outage) or that Kinesis no longer accepts is
        // replaced from the last sequence number read, so nothing is skipped or read twice.
        if (name === 'ExpiredIteratorException' || name === 'InvalidArgumentException') iterator = undefined
        this.#opts.onError(operation, err)
        await sleep(this.#errorBackoffMs(), signal)
      }
    }
  }
}
