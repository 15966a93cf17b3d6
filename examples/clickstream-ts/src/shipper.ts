// The background shipper of the resilient variant: takes the oldest spooled events, sends them
// (PutRecords, up to 500 a call), and moves the spool's durable offset past those that reached
// the stream. A failed call counts against the breaker and waits a full-jitter backoff; while the
// breaker is open nothing is sent (the events wait on disk). A call that stored only some records
// advances the offset to the first refused one: the rest go again (at-least-once, in order).
import { fullJitter, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
import type { CircuitBreaker } from './breaker.js'
import type { Spool, SpooledEvent } from './spool.js'

/** Sends events in order; resolves with how many of the first ones were stored (all of them: events.length). */
export type SendBatch = (events: SpooledEvent[]) => Promise<number>

export interface ShipperOptions {
  batchSize?: number
  backoff?: BackoffOptions
  /** How long to wait for new events when the spool is empty. */
  idleMs?: number
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  /** Told of every id that reached the stream (the handlers waiting for their event). */
  onShipped?: (ids: string[]) => void
  onError?: (err: unknown) => void
}

export class Shipper {
  private running = false
  /** The last pass found nothing to ship: an append may end its wait. */
  private idle = false
  private attempt = 0
  private wake?: () => void
  shipped = 0
  failures = 0
  private loop?: Promise<void>

  constructor(
    private readonly spool: Spool,
    private readonly send: SendBatch,
    readonly breaker: CircuitBreaker,
    private readonly o: ShipperOptions = {},
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    const off = this.spool.onAppend(() => this.wake?.())
    this.loop = this.run().finally(off)
  }

  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
  }

  /** One pass: ships one batch if it may. Returns how long to wait before the next pass. */
  async step(): Promise<number> {
    const now = this.o.now ?? Date.now
    const batch = this.spool.unshipped(this.o.batchSize ?? 500)
    this.idle = batch.length === 0
    if (this.idle) return this.o.idleMs ?? 1_000
    if (!this.breaker.allow()) return Math.max(1, this.breaker.retryAt() - now())
    let stored: number
    try {
      stored = Math.max(0, Math.min(batch.length, await this.send(batch)))
    } catch (err) {
      this.o.onError?.(err)
      stored = 0
    }
    if (stored > 0) {
      this.spool.markShipped(stored)
      this.shipped += stored
      this.o.onShipped?.(batch.slice(0, stored).map((e) => e.id))
    }
    if (stored === batch.length) {
      this.breaker.success()
      this.attempt = 0
      return 0
    }
    // Nothing stored, or only a prefix: the dependency is failing (or throttling).
    this.failures++
    // A call that stored some records was answered: the breaker hears of it as a success.
    if (stored === 0) this.breaker.failure()
    else this.breaker.success()
    return fullJitter(this.attempt++, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random)
  }

  private async run(): Promise<void> {
    while (this.running) {
      const wait = await this.step()
      if (wait > 0 && this.running) await this.pause(wait)
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.o.sleep) return this.o.sleep(ms)
    // An idle shipper that missed an append (it came between the pass and this wait) goes at once.
    if (this.idle && this.spool.backlog > 0) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      // New events wake an idle shipper; a backing-off one keeps its wait (stop() ends either).
      this.wake = this.idle ? done : () => (this.running ? undefined : done())
    })
  }
}
