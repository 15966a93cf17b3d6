// Client-side windows judged on the calls themselves (docs/experiments.md, "How a run is judged").
// A window holds the calls that ended in it and the calls still waiting at its end for longer than
// the SLO's latency bound (a hung call counts in every window it outlives the bound in, so a silent
// service still breaches). Its verdict is a test, not a point estimate: with few calls one error
// or one slow call is no evidence, so
// - breached: the window's errors, or its slow calls, are too many for a service meeting its SLO
//   (one-sided binomial test at ALPHA: P(X >= observed | n, allowed rate) < ALPHA);
// - healthy: at least MIN_CALLS calls and the point estimates within the SLO;
// - unknown: neither (too few calls, or a breach the calls cannot establish).
// Latencies are judged net of the harness's own event-loop delay in the window: a customer's clock
// that ran late must not make the service look slow.
import type { Slo } from '../experiment/types.js'
import type { CallRecord } from '../observe/call-rows.js'

/** Significance of a breach: the chance a service that meets its SLO shows that many bad calls in one window. */
export const ALPHA = 0.01
/** Calls a window needs before it can be called healthy. */
export const MIN_CALLS = 3
/** The p99 bound allows this share of calls above it. */
export const SLOW_SHARE = 0.01

export type Verdict = 'breached' | 'healthy' | 'unknown'

export interface Window {
  startMs: number
  endMs: number
  verdict: Verdict
  successRatio: number | null
  p99Ms: number | null
  /** Calls that ended in the window. */
  calls: number
  /** Of those, the failed ones. */
  failed?: number
  /** Calls over the latency bound: slow successes, plus calls still waiting past it at the window's end. */
  slow?: number
  /** The harness's event-loop delay in the window, taken off every latency. */
  lagMs?: number
}

/** P(X >= k) for X ~ Binomial(n, p). */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1
  if (k > n) return 0
  if (p <= 0) return 0
  if (p >= 1) return 1
  // Sum the lower terms in log space (n is at most a few thousand calls).
  let logTerm = n * Math.log1p(-p) // i = 0
  let below = 0
  for (let i = 0; i < k; i++) {
    below += Math.exp(logTerm)
    logTerm += Math.log((n - i) / (i + 1)) + Math.log(p) - Math.log1p(-p)
  }
  return Math.max(0, 1 - below)
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

/**
 * The windows (fromMs + k s, fromMs + (k+1) s] up to toMs of one service's calls. lagAt gives the
 * harness's event-loop delay over a span (0 when it was not measured).
 */
export function windowsFromCalls(
  calls: readonly CallRecord[],
  slo: Slo,
  fromMs: number,
  toMs: number,
  windowMs: number,
  lagAt: (fromMs: number, toMs: number) => number = () => 0,
): Window[] {
  const byEnd = [...calls].sort((a, b) => a.endMs - b.endMs)
  // Only a call longer than the bound can be waiting past it at some window's end.
  const long = calls.filter((c) => c.endMs - c.startMs > slo.maxP99Ms)
  const windows: Window[] = []
  let i = 0
  while (i < byEnd.length && byEnd[i].endMs <= fromMs) i++
  for (let start = fromMs; start < toMs; start += windowMs) {
    const end = start + windowMs
    const lag = lagAt(start, end)
    const latencies: number[] = []
    let ok = 0
    let failed = 0
    let slow = 0
    for (; i < byEnd.length && byEnd[i].endMs <= end; i++) {
      const c = byEnd[i]
      const ms = Math.max(0, c.endMs - c.startMs - lag)
      latencies.push(ms)
      if (!c.ok) failed++
      else {
        ok++
        if (ms > slo.maxP99Ms) slow++
      }
    }
    const finished = ok + failed
    let waiting = 0
    for (const c of long) {
      if (c.startMs < end && c.endMs > end && end - c.startMs - lag > slo.maxP99Ms) {
        waiting++
        latencies.push(end - c.startMs - lag)
      }
    }
    slow += waiting
    const n = finished + waiting
    const successRatio = finished > 0 ? ok / finished : null
    const p99Ms = latencies.length ? percentile(latencies, 0.99) : null
    const breached = (finished > 0 && binomialTail(failed, finished, 1 - slo.minSuccessRatio) < ALPHA) || (n > 0 && binomialTail(slow, n, SLOW_SHARE) < ALPHA)
    const withinSlo = (successRatio === null || successRatio >= slo.minSuccessRatio) && (p99Ms === null || p99Ms <= slo.maxP99Ms)
    const verdict: Verdict = breached ? 'breached' : n >= MIN_CALLS && withinSlo ? 'healthy' : 'unknown'
    windows.push({ startMs: start, endMs: end, verdict, successRatio, p99Ms, calls: finished, failed, slow, ...(lag > 0 ? { lagMs: lag } : {}) })
  }
  return windows
}
