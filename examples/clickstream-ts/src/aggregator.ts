// The resilient variant's metric: never on the request's path. Requests add to a count; every
// second the count goes to CloudWatch in one PutMetricData through its breaker. A failed or
// refused flush keeps the count for the next one (aggregated, so it cannot grow in size), and
// nothing ever waits for CloudWatch.
import type { CircuitBreaker } from './breaker.js'

export class MetricAggregator {
  pending = 0
  sent = 0
  failures = 0
  private flushing = false

  constructor(
    private readonly send: (count: number) => Promise<void>,
    readonly breaker: CircuitBreaker,
  ) {}

  add(n = 1): void {
    this.pending += n
  }

  /** One flush (skipped while one is under way, the breaker is open, or nothing is pending). */
  async flush(): Promise<void> {
    if (this.flushing || this.pending === 0 || !this.breaker.allow()) return
    this.flushing = true
    const count = this.pending
    this.pending = 0
    try {
      await this.send(count)
      this.sent += count
      this.breaker.success()
    } catch {
      this.pending += count
      this.failures++
      this.breaker.failure()
    } finally {
      this.flushing = false
    }
  }
}
