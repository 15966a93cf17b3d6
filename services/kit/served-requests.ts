// What a service itself saw of the requests it served, in one shape for every service: outcomes by
// class, the slow ones, and those still in flight with the age of the oldest. The harness reads
// these to corroborate what the customers' clients saw: a client-side breach the service's own
// counters also show is the service's, one they do not show may be the client's machine.
// Control routes (/health, /metrics, /admin) are not counted: they are the harness's, not callers'.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'

const CONTROL = /^\/(health|metrics|admin)(\/|$|\?)/
/** A request served slower than this counts as slow: well under the customers' SLO bounds, well over a healthy call. */
export const SLOW_REQUEST_MS = 1_000

export type ServedOutcome = 'ok' | 'client_error' | 'server_error' | 'aborted'

export function outcomeOf(statusCode: number, finished: boolean): ServedOutcome {
  if (!finished) return 'aborted'
  return statusCode >= 500 ? 'server_error' : statusCode >= 400 ? 'client_error' : 'ok'
}

export const servedRequests = fp(
  async (app: FastifyInstance, opts: { registry: Registry }) => {
    const registers = [opts.registry]
    const inFlight = new Set<number>()
    const requests = new Counter({
      name: 'lab_server_requests_total',
      help: 'Requests this service answered (or lost: aborted), by outcome',
      labelNames: ['outcome'],
      registers,
    })
    const slow = new Counter({ name: 'lab_server_slow_requests_total', help: `Requests that took longer than ${SLOW_REQUEST_MS} ms to answer`, registers })
    new Gauge({
      name: 'lab_server_in_flight',
      help: 'Requests received and not answered yet',
      registers,
      collect() {
        this.set(inFlight.size)
      },
    })
    new Gauge({
      name: 'lab_server_oldest_in_flight_seconds',
      help: 'Age of the oldest request not answered yet (0: none)',
      registers,
      collect() {
        let oldest = Infinity
        for (const t of inFlight) if (t < oldest) oldest = t
        this.set(oldest === Infinity ? 0 : (performance.now() - oldest) / 1000)
      },
    })
    for (const o of ['ok', 'client_error', 'server_error', 'aborted'] as const) requests.inc({ outcome: o }, 0)

    app.addHook('onRequest', async (req, reply) => {
      if (CONTROL.test(req.url)) return
      // Two requests can share a start time; a unique key keeps both in the set.
      let started = performance.now()
      while (inFlight.has(started)) started += 1e-6
      inFlight.add(started)
      // 'close' fires once however the exchange ends: answered, hijacked and dropped, or the caller left.
      reply.raw.once('close', () => {
        inFlight.delete(started)
        const ms = performance.now() - started
        requests.inc({ outcome: outcomeOf(reply.raw.statusCode, reply.raw.writableFinished) })
        if (ms > SLOW_REQUEST_MS) slow.inc()
      })
    })
  },
  { name: 'outage-lab-served-requests' },
)
