// The observer: every sample (250 ms by default) it writes what the customers saw in the last
// second (from the ClientRecorder) and scrapes every running service's /metrics. Scraped series
// are written when they change, and at least once a second, which keeps a two-minute run of twenty
// processes to a few megabytes while charts and analysis still see every step.
// It also measures itself: the gap between its samples and the delay of the harness's event loop
// (service `harness`), because on a saturated machine the customers' clocks run late too, and the
// analysis judges latencies net of that delay (docs/experiments.md, "How a run is judged").
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { request } from 'undici'
import type { StartedTopology } from '../platform/started.js'
import type { ClientRecorder } from '../workload/recorder.js'
import { parsePromText, seriesKey, type PromSample } from './prom-text.js'
import { internalHeaders } from '../../services/kit/internal.js'
import type { TimelineWriter } from './timeline.js'

export interface ObserverOptions {
  topology: StartedTopology
  recorder: ClientRecorder
  writer: TimelineWriter
  /** ms from the method's start. */
  clock: () => number
  intervalMs?: number
  /** Extra series to write each sample (e.g. the harness's own probes). */
  extra?: () => { service: string; metric: string; value: number | null }[]
  /**
   * Access keys whose per-caller counters (lab_caller_*) the timeline keeps: the customer services'.
   * The lab's own key calls all the time from every service; its series would only add volume.
   */
  callers?: ReadonlySet<string>
}

const KEEP = /^(lab_server_|kinesis_|cognito_|cloudwatch_|eventbridge_|autoscaler_|lambda_|status_page_|process_resident_memory_bytes$)/
const CALLER = /^lab_caller_/
// Histogram buckets and per-request duration series are too many lines for too little.
const DROP = /(_bucket|_created)$/
const HEARTBEAT_MS = 1_000
/** The timeline's name for the harness's own measurements. */
export const HARNESS = 'harness'

/**
 * Which scraped samples the timeline keeps: the lab's own series; the per-caller counters of the
 * given callers (customers); and everything a customer service exposes (`customer`), which is the
 * user's to choose. Histogram buckets never.
 */
export function keepSample(s: PromSample, opts: { callers?: ReadonlySet<string>; customer?: boolean } = {}): boolean {
  if (DROP.test(s.name)) return false
  if (opts.customer) return true
  if (CALLER.test(s.name)) return !!opts.callers?.has(s.labels.caller ?? '')
  return KEEP.test(s.name)
}

export class Observer {
  readonly #o: Required<Omit<ObserverOptions, 'extra' | 'callers'>> & Pick<ObserverOptions, 'extra' | 'callers'>
  #timer?: NodeJS.Timeout
  #last = new Map<string, { value: number | null; atMs: number }>()
  #scraping = new Set<string>()
  #loop?: IntervalHistogram
  #lastSampleAtMs?: number
  samples = 0
  scrapeFailures = 0
  /** The largest gap between two samples so far (the intended gap is intervalMs). */
  maxGapMs = 0

  constructor(opts: ObserverOptions) {
    this.#o = { intervalMs: 250, ...opts }
  }

  start(): void {
    this.#loop = monitorEventLoopDelay({ resolution: 10 })
    this.#loop.enable()
    this.#timer = setInterval(() => void this.sample(), this.#o.intervalMs)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#loop?.disable()
  }

  async sample(): Promise<void> {
    const atMs = Math.round(this.#o.clock())
    this.samples++
    this.#selfMeasure(atMs)
    for (const w of this.#o.recorder.window()) {
      this.#o.writer.write({ service: w.service, metric: 'client.success_ratio', value: w.successRatio, atMs })
      this.#o.writer.write({ service: w.service, metric: 'client.p99_ms', value: w.p99Ms, atMs })
      this.#o.writer.write({ service: w.service, metric: 'client.calls', value: w.calls, atMs })
      this.#o.writer.write({ service: w.service, metric: 'client.in_flight', value: w.inFlight, atMs })
    }
    for (const e of this.#o.extra?.() ?? []) this.#changed(e.service, e.metric, e.value, atMs)
    const running = this.#o.topology.services().filter((s) => s.state === 'running' || s.state === 'paused')
    // A customer service is scraped only where it says it has metrics.
    const scraped = running.filter((s) => !s.customer || s.customer.metricsPath)
    await Promise.all(scraped.map((s) => this.#scrape(s.name, `${s.url}${s.customer?.metricsPath ?? '/metrics'}`, atMs, !!s.customer)))
  }

  #selfMeasure(atMs: number): void {
    if (this.#lastSampleAtMs !== undefined) {
      const gap = atMs - this.#lastSampleAtMs
      if (gap > this.maxGapMs) this.maxGapMs = gap
      this.#o.writer.write({ service: HARNESS, metric: 'harness.sample_gap_ms', value: gap, atMs })
    }
    this.#lastSampleAtMs = atMs
    if (this.#loop) {
      // The longest the loop was held since the last sample (the histogram records in ns).
      const delay = this.#loop.count > 0 ? Math.round(this.#loop.max / 1e6) : 0
      this.#loop.reset()
      this.#o.writer.write({ service: HARNESS, metric: 'harness.loop_delay_ms', value: delay, atMs })
    }
  }

  async #scrape(service: string, metricsUrl: string, atMs: number, customer: boolean): Promise<void> {
    // A slow service must not pile scrapes up: skip it until the last one finished.
    if (this.#scraping.has(service)) return
    this.#scraping.add(service)
    try {
      // A lab service's /metrics is internal: the run's credential goes with it, never to a customer's.
      const headers = customer ? {} : internalHeaders(this.#o.topology.internalToken)
      const res = await request(metricsUrl, { headers, headersTimeout: 1_000, bodyTimeout: 1_000 })
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`)
      this.#changed(service, 'scrape.up', 1, atMs)
      const keep = { callers: this.#o.callers, customer }
      for (const s of parsePromText(text)) if (keepSample(s, keep)) this.#changed(service, seriesKey(s), s.value, atMs)
    } catch {
      this.scrapeFailures++
      this.#changed(service, 'scrape.up', 0, atMs)
    } finally {
      this.#scraping.delete(service)
    }
  }

  /** The last value written for a series of a service (the thread alarm reads these). */
  lastValue(service: string, metric: string): number | undefined {
    const v = this.#last.get(`${service}\u0000${metric}`)?.value
    return v === null ? undefined : v
  }

  #changed(service: string, metric: string, value: number | null, atMs: number): void {
    const key = `${service}\u0000${metric}`
    const last = this.#last.get(key)
    if (last && last.value === value && atMs - last.atMs < HEARTBEAT_MS) return
    this.#last.set(key, { value, atMs })
    this.#o.writer.write({ service, metric, value: value === null || Number.isFinite(value) ? value : null, atMs })
  }
}
