// What each customer service (the user's own) called, from the lab's side: every lab service counts
// its calls per caller access key (lab_caller_calls_total{caller,operation,protocol,outcome}, kept
// in the timeline for the customers' keys), as CloudTrail would. A customer's dependencies are the
// lab services its key called, not a graph written down beforehand; its onset's cause is the one
// among them it was calling when it broke. Pure: a function of the experiment and the timeline.
import { DOWNSTREAM, SERVICES } from '../topology/catalogue.js'
import { customerAccessKey } from '../topology/customers.js'
import { ONSET_TOLERANCE_MS, ONSET_WINDOWS, WINDOW_MS } from './impact.js'
import { parseSeries, type Point, type SeriesIndex } from './series.js'
import type { CustomerRecord, CustomerServiceCalls } from './journal.js'

const CALLS = 'lab_caller_calls_total'
/** A dependency counts as "being called when it broke" if the customer's calls to it grew within this long before the onset. */
export const CALLING_LOOKBACK_MS = 10_000

/** The lab service a process answers for: Kinesis's front-ends and endpoints are Kinesis; the others are themselves. */
export function labServiceOf(process: string): string | undefined {
  if (process.startsWith('kinesis-frontend-') || process.startsWith('kinesis-endpoint-')) {
    // The shard-map cache fleet serves no customer; the main and CloudWatch fleets are Kinesis.
    return process.startsWith('kinesis-frontend-cache-') ? undefined : 'kinesis'
  }
  return (DOWNSTREAM as readonly string[]).includes(process) ? process : undefined
}

/** How much a counter grew over (fromMs, toMs]: a drop is a restarted process counting from 0 again. */
export function increase(points: readonly Point[], fromMs = Number.NEGATIVE_INFINITY, toMs = Number.POSITIVE_INFINITY): number {
  let prev = 0
  let total = 0
  for (const p of points) {
    if (p.value === null) continue
    if (p.atMs <= fromMs) {
      prev = p.value
      continue
    }
    if (p.atMs > toMs) break
    total += p.value >= prev ? p.value - prev : p.value
    prev = p.value
  }
  return total
}

interface CallerSeries {
  service: string
  operation: string
  protocol: string
  outcome: string
  points: Point[]
}

/** Every per-caller series of one access key, across the lab's processes. */
function seriesOf(index: SeriesIndex, accessKeyId: string): CallerSeries[] {
  const out: CallerSeries[] = []
  for (const process of index.services()) {
    const service = labServiceOf(process)
    if (!service) continue
    for (const metric of index.metricsOf(process)) {
      if (!metric.startsWith(`${CALLS}{`)) continue
      const s = parseSeries(metric)
      if (s.labels.caller !== accessKeyId) continue
      out.push({
        service,
        operation: s.labels.operation ?? '',
        protocol: s.labels.protocol ?? '',
        outcome: s.labels.outcome ?? '',
        points: index.points(process, metric),
      })
    }
  }
  return out
}

const rank = (s: string) => (SERVICES as readonly string[]).indexOf(s)

/** Per customer: its key, the lab services it called (in the catalogue's order) and how. */
export function customerCalls(index: SeriesIndex, customers: readonly { name: string }[]): Record<string, CustomerRecord> {
  const out: Record<string, CustomerRecord> = {}
  for (const c of customers) {
    const accessKeyId = customerAccessKey(c.name).accessKeyId
    const calls: Record<string, CustomerServiceCalls> = {}
    for (const s of seriesOf(index, accessKeyId)) {
      const n = increase(s.points)
      if (n === 0) continue
      const x = (calls[s.service] ??= { calls: 0, ok: 0, clientErrors: 0, serverErrors: 0, operations: {}, protocols: {} })
      x.calls += n
      if (s.outcome === 'ok') x.ok += n
      else if (s.outcome === 'client_error') x.clientErrors += n
      else if (s.outcome === 'server_error') x.serverErrors += n
      x.operations[s.operation] = (x.operations[s.operation] ?? 0) + n
      x.protocols[s.protocol] = (x.protocols[s.protocol] ?? 0) + n
    }
    const dependsOn = Object.keys(calls).sort((a, b) => rank(a) - rank(b))
    out[c.name] = { accessKeyId, dependsOn, calls: Object.fromEntries(dependsOn.map((d) => [d, calls[d]])) }
  }
  return out
}

/**
 * The dependencies a service may owe an onset at t to. A lab service: its row of the catalogue's
 * graph. A customer: the lab services its key was calling in the CALLING_LOOKBACK_MS before its
 * onset (through the onset's two windows), or, when no call was counted there (a Kinesis endpoint
 * with no member left answers for them, and counts nothing), every lab service it called.
 */
export function customerDependenciesAt(
  index: SeriesIndex,
  records: Readonly<Record<string, CustomerRecord>>,
): (service: string, t: number) => string[] | undefined {
  const byKey = new Map<string, CallerSeries[]>()
  return (service, t) => {
    const r = records[service]
    if (!r) return undefined
    let series = byKey.get(r.accessKeyId)
    if (!series) byKey.set(r.accessKeyId, (series = seriesOf(index, r.accessKeyId)))
    const to = t + ONSET_WINDOWS * WINDOW_MS + ONSET_TOLERANCE_MS
    const calling = r.dependsOn.filter((d) => series.some((s) => s.service === d && increase(s.points, t - CALLING_LOOKBACK_MS, to) > 0))
    return calling.length > 0 ? calling : r.dependsOn
  }
}

/** Lab services first (the catalogue's order), then customers (in the order given). */
export function orderServices(names: Iterable<string>, customers: readonly string[] = []): string[] {
  const list = [...new Set(names)]
  const at = (s: string) => {
    const r = rank(s)
    if (r >= 0) return r
    const c = customers.indexOf(s)
    return SERVICES.length + (c >= 0 ? c : customers.length)
  }
  return list.sort((a, b) => at(a) - at(b) || a.localeCompare(b))
}

/** Every service of some runs, lab services first, then each run's customer services: the rows of a suite's table and a comparison. */
export function servicesOfRuns(
  journals: readonly ({ services: Record<string, unknown>; experiment?: { topology?: { customers?: { name: string }[] } } } | undefined)[],
): string[] {
  const names = journals.flatMap((j) => Object.keys(j?.services ?? {}))
  const customers = journals.flatMap((j) => (j?.experiment?.topology?.customers ?? []).map((c) => c.name))
  return orderServices(names, customers)
}
