// What the services themselves saw, set against what their customers saw. Every service counts the
// requests it served badly (lab_server_* in /metrics, services/kit/served-requests.ts); the
// process that answers a service's customers is its front door. A client-side onset stands when
// - the front door's own counters show it near the onset (errors, aborted or slow requests, a
//   request waiting past SLOW, or /metrics not answering at all), or
// - a service it depends on was already impacted (autoscaling's delayed decisions show in no
//   server's error counter: their cause is upstream);
// otherwise it is recorded as uncorroborated and the search goes on. Runs recorded before the
// services counted (no lab_server_* series) take client-side onsets as they are, and say so.
import { endpointName, MAIN_FLEET } from '../topology/catalogue.js'
import { ONSET_TOLERANCE_MS, ONSET_WINDOWS, WINDOW_MS } from './impact.js'
import { matchesSelector, valueAt, type SeriesIndex } from './series.js'

const REQUESTS = 'lab_server_requests_total'
const BAD_OUTCOMES = ['server_error', 'client_error', 'aborted']
const SLOW = { name: 'lab_server_slow_requests_total', labels: {} }
const OLDEST = { name: 'lab_server_oldest_in_flight_seconds', labels: {} }
/** A request waiting this long at the front door is evidence on its own (services/kit SLOW_REQUEST_MS). */
const WAITING_S = 1

/** The processes that answer a service's customers: Kinesis's are the main fleet's endpoints (one per cell). */
export function frontDoors(index: SeriesIndex, service: string): string[] {
  if (service !== 'kinesis') return [service]
  const prefix = endpointName(MAIN_FLEET)
  return index.services().filter((s) => s === prefix || s.startsWith(`${prefix}-`))
}

/** The front doors recorded the lab's server-side counters (runs before them did not). */
export function measuredServerSide(index: SeriesIndex, service: string): boolean {
  return frontDoors(index, service).some((p) => index.metricsOf(p).some((m) => matchesSelector(m, { name: REQUESTS, labels: {} })))
}

/** What the front doors' own counters show in (fromMs, toMs], as a sentence; undefined when nothing. */
export function serverEvidenceIn(index: SeriesIndex, service: string, fromMs: number, toMs: number): string | undefined {
  for (const p of frontDoors(index, service)) {
    const found: string[] = []
    for (const metric of index.metricsOf(p)) {
      const bad = BAD_OUTCOMES.some((o) => matchesSelector(metric, { name: REQUESTS, labels: { outcome: o } }))
      if (bad || matchesSelector(metric, SLOW)) {
        const pts = index.points(p, metric)
        const before = valueAt(pts, fromMs)?.value ?? 0
        const after = valueAt(pts, toMs)?.value ?? before
        // A counter that went down belongs to a process that restarted in the span: also evidence.
        if (after !== before && after !== null && before !== null) found.push(after > before ? `${after - before} ${label(metric)}` : `${label(metric)} reset`)
      } else if (matchesSelector(metric, OLDEST)) {
        const worst = Math.max(0, ...index.points(p, metric).flatMap((pt) => (pt.atMs > fromMs && pt.atMs <= toMs && pt.value !== null ? [pt.value] : [])))
        if (worst > WAITING_S) found.push(`a request waiting ${worst.toFixed(1)} s`)
      } else if (metric === 'scrape.up') {
        if (index.points(p, metric).some((pt) => pt.atMs > fromMs && pt.atMs <= toMs && pt.value === 0)) found.push('/metrics not answering')
      }
    }
    if (found.length > 0) return `${p}: ${found.join(', ')}`
  }
  return undefined
}

function label(metric: string): string {
  if (metric.startsWith(SLOW.name)) return 'slow requests'
  const outcome = /outcome="([^"]+)"/.exec(metric)?.[1] ?? 'bad'
  return outcome === 'aborted' ? 'aborted requests' : `${outcome.replace('_', ' ')}s`
}

/** The span around an onset at t in which the front door's counters corroborate it. */
export function corroborationSpan(onsetMs: number): [number, number] {
  return [onsetMs - ONSET_TOLERANCE_MS, onsetMs + ONSET_WINDOWS * WINDOW_MS + ONSET_TOLERANCE_MS]
}
