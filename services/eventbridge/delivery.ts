// Delivery to HTTP targets: a bounded number of POSTs in flight, retries with exponential backoff
// and jitter as EventBridge does, honouring each target's RetryPolicy (attempts and event age).
// What counts as retryable follows EventBridge's API destinations: network errors, timeouts, 401,
// 407, 409, 429 and 5xx; any other answer is final.
import { request, type Dispatcher } from 'undici'
import type { Random } from '../kit/index.js'
import type { EventEnvelope } from './envelope.js'
import { retryPolicyOf, type Target } from './rules.js'
import type { EventsMetrics } from './metrics.js'

export interface DeliveryJob {
  event: EventEnvelope
  acceptedAtMs: number
  rule: string
  target: Target
  /** Called once, when the delivery succeeded or was given up: the consumer's checkpoint moves on. */
  done: () => void
}

interface Attempting extends DeliveryJob {
  attempts: number
}

export interface DelivererOptions {
  dispatcher: Dispatcher
  metrics: EventsMetrics
  random: Random
  concurrency: number
  timeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  log: { warn(obj: object, msg: string): void }
  now?: () => number
}

const RETRYABLE = new Set([401, 407, 409, 429])

export class Deliverer {
  private readonly queue: Attempting[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private active = 0
  private closed = false
  private readonly now: () => number

  constructor(private readonly opts: DelivererOptions) {
    this.now = opts.now ?? Date.now
  }

  /** Deliveries queued, in flight, or waiting for their next attempt. */
  get pending(): number {
    return this.queue.length + this.active + this.timers.size
  }

  enqueue(job: DeliveryJob): void {
    this.queue.push({ ...job, attempts: 0 })
    this.pump()
  }

  close(): void {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.queue.length = 0
  }

  private pump(): void {
    while (!this.closed && this.active < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!
      this.active++
      void this.attempt(job).finally(() => {
        this.active--
        this.pump()
      })
    }
  }

  private async attempt(job: Attempting): Promise<void> {
    job.attempts++
    const { metrics } = this.opts
    let failure: string | undefined
    let retryable = true
    try {
      const res = await request(job.target.Arn, {
        method: 'POST',
        dispatcher: this.opts.dispatcher,
        headers: { 'content-type': 'application/json', 'user-agent': 'outage-lab-eventbridge' },
        body: bodyFor(job.target, job.event),
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      })
      await res.body.dump()
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const delayMs = Math.max(0, this.now() - job.acceptedAtMs)
        metrics.deliveries.inc({ outcome: 'success' })
        metrics.deliveryDelay.observe(delayMs / 1000)
        metrics.lastDeliveryDelayMs.set(delayMs)
        job.done()
        return
      }
      failure = `HTTP ${res.statusCode}`
      retryable = res.statusCode >= 500 || RETRYABLE.has(res.statusCode)
    } catch (err) {
      failure = (err as { code?: string }).code ?? (err as Error).message
    }
    if (this.closed) return
    const policy = retryPolicyOf(job.target)
    const ageMs = this.now() - job.acceptedAtMs
    const give = !retryable
      ? 'not retryable'
      : job.attempts > policy.maximumRetryAttempts
        ? 'retry attempts exhausted'
        : ageMs > policy.maximumEventAgeSeconds * 1000
          ? 'maximum event age exceeded'
          : undefined
    if (give) {
      metrics.deliveries.inc({ outcome: 'failed' })
      this.opts.log.warn({ rule: job.rule, target: job.target.Id, eventId: job.event.id, attempts: job.attempts, failure, reason: give }, 'delivery given up')
      job.done()
      return
    }
    metrics.deliveries.inc({ outcome: 'retry' })
    // Exponential backoff with equal jitter: retries of many events spread out instead of
    // hammering a recovering target in waves.
    const ceiling = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (job.attempts - 1))
    const delay = ceiling / 2 + this.opts.random() * (ceiling / 2)
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.queue.push(job)
      this.pump()
    }, delay)
    this.timers.add(timer)
  }
}

/** Input replaces the event with constant JSON; InputPath picks a part of it ("$.detail"). */
export function bodyFor(target: Target, event: EventEnvelope): string {
  if (target.Input !== undefined) return target.Input
  if (target.InputPath !== undefined) {
    let value: unknown = event
    for (const key of target.InputPath.split('.').slice(1)) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
    return JSON.stringify(value ?? null)
  }
  return JSON.stringify(event)
}
