// The service's own /metrics, in Prometheus text. The lab corroborates a customer's onset with
// the counters every lab service exposes (lab_server_requests_total{outcome},
// lab_server_slow_requests_total, lab_server_in_flight, lab_server_oldest_in_flight_seconds);
// these few lines give this service the same shape, without importing anything from the lab.
import type http from 'node:http'

export const SLOW_REQUEST_MS = 1_000
const CONTROL = /^\/(health|metrics|acknowledged)(\/|$|\?)/

export type Outcome = 'ok' | 'client_error' | 'server_error' | 'aborted'

export function outcomeOf(status: number, finished: boolean): Outcome {
  if (!finished) return 'aborted'
  return status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'ok'
}

export class ServedRequests {
  readonly outcomes: Record<Outcome, number> = { ok: 0, client_error: 0, server_error: 0, aborted: 0 }
  slow = 0
  private readonly inFlight = new Set<number>()

  /** Call at the start of every request: counts it when its response closes (answered or not). */
  track(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (CONTROL.test(req.url ?? '')) return
    let started = performance.now()
    while (this.inFlight.has(started)) started += 1e-6
    this.inFlight.add(started)
    res.once('close', () => {
      this.inFlight.delete(started)
      this.outcomes[outcomeOf(res.statusCode, res.writableFinished)]++
      if (performance.now() - started > SLOW_REQUEST_MS) this.slow++
    })
  }

  text(): string {
    let oldest = Infinity
    for (const t of this.inFlight) oldest = Math.min(oldest, t)
    return [
      '# TYPE lab_server_requests_total counter',
      ...Object.entries(this.outcomes).map(([o, n]) => `lab_server_requests_total{outcome="${o}"} ${n}`),
      '# TYPE lab_server_slow_requests_total counter',
      `lab_server_slow_requests_total ${this.slow}`,
      '# TYPE lab_server_in_flight gauge',
      `lab_server_in_flight ${this.inFlight.size}`,
      '# TYPE lab_server_oldest_in_flight_seconds gauge',
      `lab_server_oldest_in_flight_seconds ${oldest === Infinity ? 0 : (performance.now() - oldest) / 1000}`,
      '',
    ].join('\n')
  }
}

/** Prometheus text of plain counters and gauges: name{labels} value. */
export function series(lines: [name: string, labels: Record<string, string>, value: number][]): string {
  return lines
    .map(([name, labels, value]) => {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')
      return `${name}${l ? `{${l}}` : ''} ${value}`
    })
    .join('\n')
    .concat('\n')
}
