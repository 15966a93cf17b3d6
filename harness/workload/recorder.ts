// What the customers saw: every call's outcome, kept per service so the observer can read the
// trailing one-second window (success ratio, p99, calls) at each sample, and the run keeps totals
// (availability, error types) for the journal. A call still in flight counts too: a sign-in that
// hangs is the outage, and its latency is at least its age, long before the client gives up.

export interface Outcome {
  service: string
  operation: string
  startedAtMs: number
  latencyMs: number
  ok: boolean
  /** The error's name (AWS __type, "TimeoutError", "ClientOverload"), when it failed. */
  error?: string
}

export interface WindowStats {
  service: string
  calls: number
  successRatio: number | null
  p99Ms: number | null
  inFlight: number
  oldestInFlightMs: number
}

export interface ServiceTotals {
  calls: number
  ok: number
  errors: Record<string, number>
  latencies: number[]
}

const MAX_LATENCY_SAMPLES = 50_000

export class ClientRecorder {
  #recent = new Map<string, Outcome[]>()
  #inFlight = new Map<string, Set<{ startedAtMs: number; operation: string; abandoned?: boolean }>>()
  #listeners: ((o: Outcome) => void)[] = []
  #totals = new Map<string, ServiceTotals>()
  readonly #clock: () => number

  /** clock: ms since the run's time origin (the method's start is 0). */
  constructor(clock: () => number) {
    this.#clock = clock
  }

  now(): number {
    return this.#clock()
  }

  /** Called with every outcome as it is recorded (the run writes each call to the timeline). */
  onOutcome(listener: (o: Outcome) => void): void {
    this.#listeners.push(listener)
  }

  /**
   * Records every call still in flight as failed with `Unfinished` (the workload stopped waiting
   * for it), so a call that hung to the end is not lost from the record; its late answer is ignored.
   */
  abandonInFlight(): number {
    const now = this.#clock()
    let n = 0
    for (const [service, set] of this.#inFlight) {
      for (const token of set) {
        if (token.abandoned) continue
        token.abandoned = true
        n++
        this.record({ service, operation: token.operation, startedAtMs: token.startedAtMs, latencyMs: now - token.startedAtMs, ok: false, error: 'Unfinished' })
      }
    }
    return n
  }

  /** Services registered up front always get a series, even before their first call. */
  register(service: string): void {
    if (!this.#recent.has(service)) this.#recent.set(service, [])
    if (!this.#inFlight.has(service)) this.#inFlight.set(service, new Set())
    if (!this.#totals.has(service)) this.#totals.set(service, { calls: 0, ok: 0, errors: {}, latencies: [] })
  }

  /** Times one call; resolves to its result or rethrows after recording. */
  async track<T>(service: string, operation: string, call: () => Promise<T>): Promise<T> {
    this.register(service)
    const token: { startedAtMs: number; operation: string; abandoned?: boolean } = { startedAtMs: this.#clock(), operation }
    this.#inFlight.get(service)!.add(token)
    try {
      const out = await call()
      if (!token.abandoned) this.record({ service, operation, startedAtMs: token.startedAtMs, latencyMs: this.#clock() - token.startedAtMs, ok: true })
      return out
    } catch (err) {
      if (!token.abandoned)
        this.record({ service, operation, startedAtMs: token.startedAtMs, latencyMs: this.#clock() - token.startedAtMs, ok: false, error: errorName(err) })
      throw err
    } finally {
      this.#inFlight.get(service)!.delete(token)
    }
  }

  record(o: Outcome): void {
    this.register(o.service)
    this.#recent.get(o.service)!.push(o)
    const t = this.#totals.get(o.service)!
    t.calls++
    if (o.ok) t.ok++
    else t.errors[o.error ?? 'Error'] = (t.errors[o.error ?? 'Error'] ?? 0) + 1
    if (t.latencies.length < MAX_LATENCY_SAMPLES) t.latencies.push(o.latencyMs)
    for (const l of this.#listeners) l(o)
  }

  /** The trailing window (nowMs - windowMs, nowMs] of every service; forgets older outcomes. */
  window(nowMs = this.#clock(), windowMs = 1_000): WindowStats[] {
    const out: WindowStats[] = []
    for (const [service, list] of this.#recent) {
      const from = nowMs - windowMs
      let drop = 0
      while (drop < list.length && list[drop].startedAtMs + list[drop].latencyMs <= from - windowMs) drop++
      if (drop) list.splice(0, drop)
      const inWindow = list.filter((o) => {
        const end = o.startedAtMs + o.latencyMs
        return end > from && end <= nowMs
      })
      const flying = [...(this.#inFlight.get(service) ?? [])]
      const oldest = flying.reduce((m, f) => Math.max(m, nowMs - f.startedAtMs), 0)
      const ok = inWindow.filter((o) => o.ok).length
      const latencies = inWindow.map((o) => o.latencyMs)
      // A call hanging longer than the window is a slow call whose answer has not come yet.
      if (oldest > windowMs) latencies.push(oldest)
      out.push({
        service,
        calls: inWindow.length,
        successRatio: inWindow.length ? ok / inWindow.length : null,
        p99Ms: latencies.length ? percentile(latencies, 0.99) : null,
        inFlight: flying.length,
        oldestInFlightMs: oldest,
      })
    }
    return out
  }

  totals(): Map<string, ServiceTotals> {
    return this.#totals
  }
}

/**
 * One service's last second as the live lines show it: "kinesis 25 calls/s ok 100% p99 45 ms"
 * (`outage-lab run`'s block pads it into columns; the compose customers print every service on one
 * line).
 */
export function formatWindow(s: WindowStats, opts: { pad?: boolean } = {}): string {
  const pad = opts.pad ?? false
  const ok = s.successRatio === null ? (pad ? '  -  ' : '-') : `${(s.successRatio * 100).toFixed(0).padStart(pad ? 3 : 0)}%`
  const p99 = s.p99Ms === null ? '-' : `${Math.round(s.p99Ms)} ms`
  return `${pad ? s.service.padEnd(12) : s.service} ${String(s.calls).padStart(pad ? 4 : 0)} calls/s  ok ${ok}  p99 ${p99}${s.inFlight ? `  in flight ${s.inFlight}` : ''}`
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

/** A stable name for what went wrong: the AWS error type, the SDK's timeout, or the socket error. */
export function errorName(err: unknown): string {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } }
  if (!e) return 'Error'
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.name === 'RequestTimeout') return 'TimeoutError'
  if (e.name && e.name !== 'Error') return e.name
  if (e.code) return e.code
  if (e.$metadata?.httpStatusCode) return `HTTP${e.$metadata.httpStatusCode}`
  return 'Error'
}
