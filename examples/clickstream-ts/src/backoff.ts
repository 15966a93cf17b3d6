// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
// the n-th retry waits a uniformly random time in [0, min(cap, base * 2^n)). Without the jitter,
// every client that failed together retries together, and a recovering service meets the same
// wave again.

export interface BackoffOptions {
  /** The ceiling of the first retry's wait. */
  baseMs: number
  /** No wait is longer than this. */
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 5_000 }

/** The ceiling of the wait before retry `attempt` (0 for the first retry). */
export function backoffCeiling(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  // 2^attempt overflows to Infinity for large attempts; min() still gives the cap.
  return Math.min(o.capMs, o.baseMs * 2 ** Math.max(0, attempt))
}

/** Full jitter: uniform in [0, ceiling). `random` is Math.random unless a test gives its own. */
export function fullJitter(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, o))
}
