// A circuit breaker around one dependency (Kinesis, CloudWatch). Closed: calls go through, and
// `failureThreshold` consecutive failures open it. Open: no call goes through for `openMs`, so a
// failing dependency is not hammered and callers answer at once instead of waiting for timeouts.
// Then half-open: one trial call; its success closes the breaker, its failure opens it again.

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  failureThreshold: number
  openMs: number
}

export class CircuitBreaker {
  private failures = 0
  private openedAt = 0
  private opened = false
  private trialInFlight = false
  /** How many times it opened (a metric). */
  opens = 0

  constructor(
    readonly name: string,
    readonly options: BreakerOptions = { failureThreshold: 3, openMs: 2_000 },
    private readonly now: () => number = Date.now,
  ) {}

  state(): BreakerState {
    if (!this.opened) return 'closed'
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open'
  }

  /** May a call go now? In half-open, only one (the trial) until it reports back. */
  allow(): boolean {
    const s = this.state()
    if (s === 'closed') return true
    if (s === 'open' || this.trialInFlight) return false
    this.trialInFlight = true
    return true
  }

  /** When a call may be tried again (now when closed). */
  retryAt(): number {
    return this.opened ? this.openedAt + this.options.openMs : this.now()
  }

  success(): void {
    this.failures = 0
    this.opened = false
    this.trialInFlight = false
  }

  failure(): void {
    this.failures++
    const trial = this.trialInFlight
    this.trialInFlight = false
    if (trial || (!this.opened && this.failures >= this.options.failureThreshold)) {
      this.opens++
      this.opened = true
      this.openedAt = this.now()
    }
  }
}
