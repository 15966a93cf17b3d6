// The invocation host's metrics agent. Every invocation hands it one entry (its datums and its log
// record); a flusher ships the datums to CloudWatch with PutMetricData and keeps whatever it could
// not ship. That keeping is the mechanism of 2020:
// - default (the 2020 agent): the buffer lives in host memory without a bound, counted in the host's
//   memory budget, so while CloudWatch fails it grows until invocations no longer fit;
// - BOUNDED_AGENT_BUFFER=true (the remediation): the in-memory part is capped and the overflow goes
//   to a spill file on disk (not in the invocations' budget), replayed once CloudWatch answers again.
// Entries are held as their serialized bytes, so what the budget counts is what the host holds.
// Logs have no CloudWatch Logs endpoint in this lab: the log record rides with its datums and is
// released when they are shipped (it is the compressed stand-in for a real function's log volume).
import type { MetricDatum } from '@aws-sdk/client-cloudwatch'
import type { HostMemory } from './host-memory.js'
import type { SpillFile } from './spill.js'

/**
 * Real Lambda publishes under AWS/Lambda as AWS itself. CloudWatch refuses "AWS/" namespaces from
 * customers, and the lab's CloudWatch cannot tell an internal caller from a customer, so the agent
 * publishes under its own namespace by default (AGENT_NAMESPACE).
 */
export const DEFAULT_NAMESPACE = 'OutageLab/Lambda'
/** PutMetricData takes at most 1,000 datums per call; an entry has three. */
const ENTRIES_PER_CALL = 333
/** Calls per flush tick: a backlog drains quickly after recovery without one tick running forever. */
const MAX_CALLS_PER_TICK = 50

export interface InvocationRecord {
  functionName: string
  atMs: number
  durationMs: number
  functionError: boolean
  /** The invocation's log record (already at LOG_BYTES_PER_INVOCATION). */
  log: string
}

export type ShipDatums = (namespace: string, datums: MetricDatum[]) => Promise<void>

/**
 * Thrown by a ShipDatums when CloudWatch refused the batch itself (a client fault that is not
 * throttling): sending it again would fail again forever, so the agent drops it and counts it, as
 * an agent must with a poison batch. Unavailability (5xx, timeouts, refused connections) keeps it.
 */
export class BatchRejected extends Error {
  readonly errorType: string
  constructor(errorType: string, message: string) {
    super(message)
    this.name = 'BatchRejected'
    this.errorType = errorType
  }
}

export interface AgentEvents {
  shipped(datums: number): void
  flushFailed(err: Error): void
  /** A failing run ended: the first ship that worked again after failures. */
  recovered(failures: number): void
  /** CloudWatch refused a batch as invalid; its datums are dropped. */
  rejected(datums: number, err: BatchRejected): void
}

export interface AgentOptions {
  memory: HostMemory
  ship: ShipDatums
  flushIntervalMs: number
  /** DEFAULT_NAMESPACE unless told otherwise. */
  namespace?: string
  /** Absent: the unbounded 2020 buffer. */
  bounded?: { maxBytes: number; spill: SpillFile }
  events?: Partial<AgentEvents>
}

export interface AgentStats {
  mode: 'unbounded' | 'bounded'
  bufferBytes: number
  bufferedEntries: number
  spilledBytes: number
  spilledEntries: number
  datumsShipped: number
  datumsRejected: number
  flushFailures: number
  consecutiveFailures: number
  /** Epoch ms the first call of the current run of failures was sent; absent while CloudWatch accepts. */
  failingSinceMs?: number
  lastFlushError?: string
  lastShippedAtMs?: number
}

export function toDatums(rec: InvocationRecord): MetricDatum[] {
  const Dimensions = [{ Name: 'FunctionName', Value: rec.functionName }]
  const Timestamp = new Date(rec.atMs)
  return [
    { MetricName: 'Invocations', Dimensions, Timestamp, Value: 1, Unit: 'Count' },
    { MetricName: 'Errors', Dimensions, Timestamp, Value: rec.functionError ? 1 : 0, Unit: 'Count' },
    { MetricName: 'Duration', Dimensions, Timestamp, Value: Math.round(rec.durationMs * 1000) / 1000, Unit: 'Milliseconds' },
  ]
}

const serialize = (rec: InvocationRecord) =>
  Buffer.from(`${JSON.stringify({ fn: rec.functionName, at: rec.atMs, ms: rec.durationMs, err: rec.functionError, log: rec.log })}\n`)

function parse(line: Buffer): InvocationRecord {
  const o = JSON.parse(line.toString('utf8')) as { fn: string; at: number; ms: number; err: boolean; log: string }
  return { functionName: o.fn, atMs: o.at, durationMs: o.ms, functionError: o.err, log: o.log }
}

export class MetricsAgent {
  readonly #opts: AgentOptions
  /** In-memory entries, oldest first. */
  #buffer: Buffer[] = []
  #bufferBytes = 0
  #datumsShipped = 0
  #datumsRejected = 0
  #flushFailures = 0
  #consecutiveFailures = 0
  /** When the first call of the current run of failures was sent: the agent's view of when CloudWatch stopped accepting. */
  #failingSinceMs: number | undefined
  #lastError: string | undefined
  #lastShippedAtMs: number | undefined
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #stopped = false

  constructor(opts: AgentOptions) {
    this.#opts = opts
  }

  record(rec: InvocationRecord): void {
    const line = serialize(rec)
    const bounded = this.#opts.bounded
    // Once anything spilled, newer entries follow it to disk until the spill drains: shipping the
    // memory part first and the file after keeps the entries in arrival order.
    if (bounded && (bounded.spill.hasData || this.#bufferBytes + line.length > bounded.maxBytes)) {
      bounded.spill.append(line)
      return
    }
    this.#buffer.push(line)
    this.#bufferBytes += line.length
    this.#opts.memory.setAgentBytes(this.#bufferBytes)
  }

  start(): void {
    const tick = () => {
      this.#timer = setTimeout(() => {
        // A spill that cannot be read must not kill the host: it counts as a failed flush and the
        // next tick tries again.
        void this.flush()
          .catch((err: Error) => {
            this.#flushFailures++
            this.#lastError = `spill: ${err.message}`
            this.#opts.events?.flushFailed?.(err)
          })
          .then(() => {
            if (!this.#stopped) tick()
          })
      }, this.#opts.flushIntervalMs)
    }
    tick()
  }

  /** One flush: ship the memory part, then the spill, until empty or CloudWatch fails. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined))
    return this.#flushing
  }

  async #flush(): Promise<void> {
    for (let calls = 0; calls < MAX_CALLS_PER_TICK; calls++) {
      if (this.#buffer.length > 0) {
        const lines = this.#buffer.slice(0, ENTRIES_PER_CALL)
        if (!(await this.#ship(lines))) return
        // Entries recorded meanwhile were pushed behind these; the first lines.length are the shipped ones.
        this.#buffer.splice(0, lines.length)
        for (const l of lines) this.#bufferBytes -= l.length
        this.#opts.memory.setAgentBytes(this.#bufferBytes)
        continue
      }
      const spill = this.#opts.bounded?.spill
      if (!spill) return
      const { lines, end } = await spill.read(ENTRIES_PER_CALL)
      if (lines.length === 0) return
      if (!(await this.#ship(lines))) return
      await spill.consume(end, lines.length)
    }
  }

  /** true when the lines are done with (shipped, or rejected for good); false when they must stay. */
  async #ship(lines: Buffer[]): Promise<boolean> {
    const datums = lines.flatMap((l) => toDatums(parse(l)))
    const sentAtMs = Date.now()
    try {
      await this.#opts.ship(this.#opts.namespace ?? DEFAULT_NAMESPACE, datums)
    } catch (err) {
      if (err instanceof BatchRejected) {
        this.#datumsRejected += datums.length
        this.#opts.events?.rejected?.(datums.length, err)
        return true
      }
      this.#flushFailures++
      if (this.#consecutiveFailures === 0) this.#failingSinceMs = sentAtMs
      this.#consecutiveFailures++
      this.#lastError = (err as Error).message || (err as Error).name
      this.#opts.events?.flushFailed?.(err as Error)
      return false
    }
    if (this.#consecutiveFailures > 0) this.#opts.events?.recovered?.(this.#consecutiveFailures)
    this.#consecutiveFailures = 0
    this.#failingSinceMs = undefined
    this.#datumsShipped += datums.length
    this.#lastShippedAtMs = Date.now()
    this.#opts.events?.shipped?.(datums.length)
    return true
  }

  /**
   * Stops the flusher. The bounded agent moves its memory part to the spill so a restart replays it;
   * the unbounded one loses it, as a host's memory does.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#flushing
    const spill = this.#opts.bounded?.spill
    if (!spill) return
    // Behind what already spilled: arrival order is lost across a restart, no entry is.
    for (const line of this.#buffer) spill.append(line)
    this.#buffer = []
    this.#bufferBytes = 0
    this.#opts.memory.setAgentBytes(0)
    await spill.sync()
  }

  stats(): AgentStats {
    const spill = this.#opts.bounded?.spill
    return {
      mode: this.#opts.bounded ? 'bounded' : 'unbounded',
      bufferBytes: this.#bufferBytes,
      bufferedEntries: this.#buffer.length,
      spilledBytes: spill?.unshippedBytes ?? 0,
      spilledEntries: spill?.entries ?? 0,
      datumsShipped: this.#datumsShipped,
      datumsRejected: this.#datumsRejected,
      flushFailures: this.#flushFailures,
      consecutiveFailures: this.#consecutiveFailures,
      ...(this.#failingSinceMs !== undefined ? { failingSinceMs: this.#failingSinceMs } : {}),
      ...(this.#lastError !== undefined ? { lastFlushError: this.#lastError } : {}),
      ...(this.#lastShippedAtMs !== undefined ? { lastShippedAtMs: this.#lastShippedAtMs } : {}),
    }
  }
}
