// Reading the timeline back: rows grouped by service and series, values "in effect" at a time
// (scraped series are written on change, so the last row at or before t is the value at t), and
// series keys matched against a probe's selector.
import type { MetricSelector } from '../experiment/types.js'
import type { TimelineRow } from './journal.js'

const SERIES = /^([^{]+)(?:\{(.*)\})?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

const parsed = new Map<string, MetricSelector>()

/** `name{a="1",b="2"}` -> { name, labels } (memoised: a timeline repeats few keys many times). */
export function parseSeries(key: string): MetricSelector {
  let s = parsed.get(key)
  if (!s) {
    const m = SERIES.exec(key)
    const labels: Record<string, string> = {}
    if (m?.[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2]
    s = { name: m ? m[1] : key, labels }
    parsed.set(key, s)
  }
  return s
}

/** The series' name is the selector's and it carries every label the selector names. */
export function matchesSelector(key: string, sel: MetricSelector): boolean {
  const s = parseSeries(key)
  if (s.name !== sel.name) return false
  for (const [k, v] of Object.entries(sel.labels)) if (s.labels[k] !== v) return false
  return true
}

/** A service name covers itself and its processes: `kinesis` covers `kinesis-frontend-main-3`. */
export function coversService(selector: string, service: string): boolean {
  return service === selector || service.startsWith(`${selector}-`)
}

export interface Point {
  atMs: number
  value: number | null
}

/** Rows of one (service, metric), in time order. */
export class SeriesIndex {
  readonly #by = new Map<string, Map<string, Point[]>>()
  readonly endMs: number
  readonly startMs: number

  /** keep: which rows to index (every one by default). */
  constructor(rows: Iterable<TimelineRow>, keep?: (r: TimelineRow) => boolean) {
    let end = Number.NEGATIVE_INFINITY
    let start = Number.POSITIVE_INFINITY
    for (const r of rows) {
      if (keep && !keep(r)) continue
      let m = this.#by.get(r.service)
      if (!m) this.#by.set(r.service, (m = new Map()))
      let pts = m.get(r.metric)
      if (!pts) m.set(r.metric, (pts = []))
      pts.push({ atMs: r.atMs, value: r.value })
      if (r.atMs > end) end = r.atMs
      if (r.atMs < start) start = r.atMs
    }
    for (const m of this.#by.values()) for (const pts of m.values()) pts.sort((a, b) => a.atMs - b.atMs)
    this.endMs = Number.isFinite(end) ? end : 0
    this.startMs = Number.isFinite(start) ? start : 0
  }

  services(): string[] {
    return [...this.#by.keys()]
  }

  points(service: string, metric: string): Point[] {
    return this.#by.get(service)?.get(metric) ?? []
  }

  /** Every (service, series key) pair whose service is covered and whose key matches. */
  matching(serviceSelector: string, sel: MetricSelector): { service: string; metric: string; points: Point[] }[] {
    const out: { service: string; metric: string; points: Point[] }[] = []
    for (const [service, m] of this.#by) {
      if (!coversService(serviceSelector, service)) continue
      for (const [metric, points] of m) if (matchesSelector(metric, sel)) out.push({ service, metric, points })
    }
    return out
  }

  /** Series keys of a service whose name matches. */
  metricsOf(service: string): string[] {
    return [...(this.#by.get(service)?.keys() ?? [])]
  }

  /** The last time anything was written for this service at or before t. */
  lastSeenAt(service: string, t: number): number | undefined {
    let last: number | undefined
    for (const pts of this.#by.get(service)?.values() ?? []) {
      const p = valueAt(pts, t)
      if (p && (last === undefined || p.atMs > last)) last = p.atMs
    }
    return last
  }
}

/** The last point at or before t (binary search), or undefined. */
export function valueAt(points: readonly Point[], t: number): Point | undefined {
  let lo = 0
  let hi = points.length - 1
  let found: Point | undefined
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (points[mid].atMs <= t) {
      found = points[mid]
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** Points in (fromMs, toMs], plus the one in effect at fromMs (a series written only on change). */
export function pointsInEffect(points: readonly Point[], fromMs: number, toMs: number): Point[] {
  const before = valueAt(points, fromMs)
  const inside = points.filter((p) => p.atMs > fromMs && p.atMs <= toMs)
  return before ? [before, ...inside] : inside
}
