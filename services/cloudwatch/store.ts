// The query store: what GetMetricStatistics, GetMetricData, ListMetrics and the alarms read. Per
// metric (namespace, name, dimensions) one bucket per second with SampleCount, Sum, Min and Max;
// any period is an aggregate of whole seconds. Kept in memory for a retention, rebuilt on start
// from the stream (and the local store), as CloudWatch's aggregation hosts did from Kinesis.
import { metricKey, type Datapoint, type Dimensions } from './datapoints.js'
import type { Statistic } from './validate.js'

export interface Stats {
  sampleCount: number
  sum: number
  min: number
  max: number
}

export interface StoredMetric {
  key: string
  namespace: string
  metricName: string
  dimensions: Dimensions
  /** The unit of the latest datapoint ("None" when none was given). */
  unit: string
  /** Epoch second -> statistics of every sample in that second. */
  buckets: Map<number, Stats>
  lastTimestampMs: number
}

export interface MetricStoreOptions {
  retentionMs: number
  now?: () => number
}

export class MetricStore {
  readonly #metrics = new Map<string, StoredMetric>()
  readonly #retentionMs: number
  readonly #now: () => number

  constructor(opts: MetricStoreOptions) {
    this.#retentionMs = opts.retentionMs
    this.#now = opts.now ?? Date.now
  }

  get size(): number {
    return this.#metrics.size
  }

  add(p: Datapoint): void {
    if (p.timestampMs < this.#now() - this.#retentionMs) return
    const key = metricKey(p.namespace, p.metricName, p.dimensions)
    let m = this.#metrics.get(key)
    if (!m) {
      m = { key, namespace: p.namespace, metricName: p.metricName, dimensions: p.dimensions, unit: p.unit, buckets: new Map(), lastTimestampMs: p.timestampMs }
      this.#metrics.set(key, m)
    }
    m.unit = p.unit
    m.lastTimestampMs = Math.max(m.lastTimestampMs, p.timestampMs)
    const second = Math.floor(p.timestampMs / 1000)
    const b = m.buckets.get(second)
    if (!b) m.buckets.set(second, { sampleCount: p.sampleCount, sum: p.sum, min: p.min, max: p.max })
    else {
      b.sampleCount += p.sampleCount
      b.sum += p.sum
      b.min = Math.min(b.min, p.min)
      b.max = Math.max(b.max, p.max)
    }
  }

  get(namespace: string, metricName: string, dimensions: Dimensions): StoredMetric | undefined {
    return this.#metrics.get(metricKey(namespace, metricName, dimensions))
  }

  /** Every sample with fromSec <= second < toSec, or undefined when there is none. */
  aggregate(m: StoredMetric, fromSec: number, toSec: number): Stats | undefined {
    let out: Stats | undefined
    const fold = (b: Stats) => {
      if (!out) out = { ...b }
      else {
        out.sampleCount += b.sampleCount
        out.sum += b.sum
        out.min = Math.min(out.min, b.min)
        out.max = Math.max(out.max, b.max)
      }
    }
    // Walk whichever is shorter: the range second by second, or the metric's buckets.
    if (toSec - fromSec <= m.buckets.size) {
      for (let s = fromSec; s < toSec; s++) {
        const b = m.buckets.get(s)
        if (b) fold(b)
      }
    } else {
      for (const [s, b] of m.buckets) if (s >= fromSec && s < toSec) fold(b)
    }
    return out
  }

  /** Aggregates per period; periods are aligned to multiples of the period since the epoch. */
  series(m: StoredMetric, startMs: number, endMs: number, periodSec: number): Array<{ startSec: number; stats: Stats }> {
    const out: Array<{ startSec: number; stats: Stats }> = []
    const first = Math.floor(startMs / 1000 / periodSec) * periodSec
    const endSec = Math.ceil(endMs / 1000)
    for (let s = first; s < endSec; s += periodSec) {
      const stats = this.aggregate(m, Math.max(s, Math.floor(startMs / 1000)), Math.min(s + periodSec, endSec))
      if (stats) out.push({ startSec: s, stats })
    }
    return out
  }

  /** Metrics in key order (stable pagination). */
  list(filter: (m: StoredMetric) => boolean): StoredMetric[] {
    const out: StoredMetric[] = []
    for (const m of this.#metrics.values()) if (filter(m)) out.push(m)
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Drops seconds older than the retention, and metrics left without any. */
  prune(): void {
    const oldest = Math.floor((this.#now() - this.#retentionMs) / 1000)
    for (const [key, m] of this.#metrics) {
      for (const s of m.buckets.keys()) if (s < oldest) m.buckets.delete(s)
      if (m.buckets.size === 0) this.#metrics.delete(key)
    }
  }
}

export function statistic(stats: Stats, name: Statistic): number {
  switch (name) {
    case 'SampleCount':
      return stats.sampleCount
    case 'Sum':
      return stats.sum
    case 'Average':
      return stats.sampleCount > 0 ? stats.sum / stats.sampleCount : 0
    case 'Minimum':
      return stats.min
    case 'Maximum':
      return stats.max
  }
}

/**
 * Ids of datapoints that may reach this host twice: those it took into its own local store (they
 * come back once shipped) and those any host shipped from a local store (a retried PutRecords can
 * write them twice). Remembered for a window, then forgotten in insertion order.
 */
export class SeenIds {
  readonly #ids = new Map<string, number>()
  readonly #windowMs: number
  readonly #now: () => number

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs
    this.#now = now
  }

  get size(): number {
    return this.#ids.size
  }

  /** True the first time an id is seen within the window. */
  remember(id: string): boolean {
    if (this.#ids.has(id)) return false
    this.#ids.set(id, this.#now() + this.#windowMs)
    return true
  }

  has(id: string): boolean {
    return this.#ids.has(id)
  }

  prune(): void {
    const now = this.#now()
    for (const [id, expires] of this.#ids) {
      if (expires > now) break
      this.#ids.delete(id)
    }
  }
}
