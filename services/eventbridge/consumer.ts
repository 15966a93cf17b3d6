// The consumer: one loop per shard of the events stream reads records back (GetShardIterator,
// GetRecords), matches each event against the enabled rules and hands a delivery per matching
// target to the deliverer. While Kinesis fails, the loops back off and keep their place; once it
// serves again they drain what piled up, which is the backlog the 2020 outage left behind.
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis'
import { matches } from './pattern.js'
import { decodeRecord } from './envelope.js'
import { sleep } from './stream.js'
import type { RuleStore } from './rules.js'
import type { Checkpoints } from './checkpoint.js'
import type { Deliverer } from './delivery.js'
import type { Unprocessed } from './backlog.js'
import type { EventsMetrics } from './metrics.js'

export interface ConsumerOptions {
  kinesis: KinesisClient
  stream: string
  rules: RuleStore
  checkpoints: Checkpoints
  deliverer: Deliverer
  unprocessed: Unprocessed
  metrics: EventsMetrics
  pollMs: number
  batchSize: number
  /** Reading pauses while this many deliveries are pending (backpressure on a slow target). */
  maxPendingDeliveries: number
  /** Longest wait between failed Kinesis calls. */
  maxBackoffMs: number
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

export class Consumer {
  private readonly abort = new AbortController()
  private readonly loops: Promise<void>[] = []
  private readonly behind = new Map<string, number>()

  constructor(private readonly opts: ConsumerOptions) {}

  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Largest MillisBehindLatest over the shards. */
  get msBehindLatest(): number {
    let max = 0
    for (const v of this.behind.values()) max = Math.max(max, v)
    return max
  }

  start(shards: string[]): void {
    for (const shard of shards) this.loops.push(this.run(shard))
    this.opts.log.info({ stream: this.opts.stream, shards }, 'consumer started')
  }

  async close(): Promise<void> {
    this.abort.abort()
    await Promise.all(this.loops)
  }

  private async run(shard: string): Promise<void> {
    const { kinesis, stream, checkpoints, deliverer, metrics, log } = this.opts
    const signal = this.abort.signal
    let iterator: string | undefined
    // The last record read (not necessarily finished): a new iterator starts after it, so a failed
    // GetRecords never makes us read a record twice within one process.
    let lastRead = checkpoints.committed(shard)
    let failures = 0
    while (!signal.aborted) {
      if (deliverer.pending >= this.opts.maxPendingDeliveries) {
        await sleep(this.opts.pollMs, signal)
        continue
      }
      let operation = 'GetShardIterator'
      try {
        if (!iterator) {
          const out = await kinesis.send(
            new GetShardIteratorCommand(
              lastRead
                ? { StreamName: stream, ShardId: shard, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: lastRead }
                : { StreamName: stream, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' },
            ),
            { abortSignal: signal },
          )
          iterator = out.ShardIterator
        }
        operation = 'GetRecords'
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.opts.batchSize }), { abortSignal: signal })
        iterator = out.NextShardIterator
        this.behind.set(shard, out.MillisBehindLatest ?? 0)
        for (const rec of out.Records ?? []) {
          this.handle(shard, rec)
          lastRead = rec.SequenceNumber
        }
        if (failures > 0) log.info({ shard, failures }, 'consumer reads again')
        failures = 0
        if (!iterator) {
          log.info({ shard }, 'shard closed')
          return
        }
        // Caught up: wait for more. Behind: read on at once, that is how a backlog drains.
        if ((out.Records ?? []).length === 0 || (out.MillisBehindLatest ?? 0) === 0) await sleep(this.opts.pollMs, signal)
      } catch (err) {
        if (signal.aborted) return
        metrics.consumerErrors.inc({ operation })
        // A fresh iterator after any failure: the old one may have expired while Kinesis was down.
        iterator = undefined
        if (failures++ % 20 === 0)
          log.warn({ shard, operation, err: (err as Error).name ?? (err as Error).message, failures }, 'consumer cannot read the events stream')
        await sleep(Math.min(this.opts.maxBackoffMs, this.opts.pollMs * 2 ** Math.min(failures, 10)), signal)
      }
    }
  }

  private handle(shard: string, rec: _Record): void {
    const { rules, checkpoints, deliverer, metrics, unprocessed, log } = this.opts
    const seq = rec.SequenceNumber!
    const decoded = rec.Data ? decodeRecord(rec.Data) : undefined
    if (!decoded) {
      log.warn({ shard, seq }, 'skipping a record that is not an event')
      checkpoints.read(shard, seq, 0)
      return
    }
    unprocessed.processed(decoded.event.id)
    metrics.ingested.inc()
    const jobs = []
    for (const rule of rules.enabled()) {
      if (!matches(rule.pattern, decoded.event)) continue
      metrics.matched.inc()
      for (const target of rule.targets) jobs.push({ rule: rule.name, target })
    }
    const done = checkpoints.read(shard, seq, jobs.length)
    for (const j of jobs) deliverer.enqueue({ event: decoded.event, acceptedAtMs: decoded.acceptedAtMs, rule: j.rule, target: j.target, done })
  }
}
