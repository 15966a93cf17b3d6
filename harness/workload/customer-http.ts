// The workload of the customer services (the user's own): open-loop HTTP calls to each, at its
// seeded Poisson rate, whether or not earlier calls answered, recorded like every other customer's
// calls (each one a `client.call` timeline row under the customer's name), so the detector judges a
// customer service exactly as it judges the lab's. A call succeeds when the service answers below
// 400 within the client timeout; otherwise it fails with `HTTP<status>`, `TimeoutError` or the
// socket's error code.
import { Agent, request } from 'undici'
import { seededRandom, type Random } from '../../services/kit/prng.js'
import type { CustomerConfig } from '../experiment/types.js'
import type { ClientRecorder } from './recorder.js'
import { OpenLoop } from './open-loop.js'

export interface CustomerWorkloads {
  loops: OpenLoop[]
  stop(): Promise<void>
}

const TEMPLATE = /\{\{\s*([^}]*?)\s*\}\}/g

/** Fills a path or body template: `{{seq}}` the call's number, `{{random}}` a seeded integer, `{{now}}` epoch ms, `{{customer}}` its name. */
export function fillTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(TEMPLATE, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole))
}

/** The content type a body gets unless the workload's headers name one. */
export function contentTypeOf(body: string): string {
  const t = body.trimStart()
  return t.startsWith('{') || t.startsWith('[') ? 'application/json' : 'text/plain; charset=utf-8'
}

export function startCustomerWorkloads(
  customers: readonly CustomerConfig[],
  opts: {
    /** Where the harness reaches each customer service (127.0.0.1). */
    urlOf: (name: string) => string
    seed: number
    recorder: ClientRecorder
    maxDurationMs: number
  },
): CustomerWorkloads {
  const agents: Agent[] = []
  const loops = customers.map((c) => {
    const agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: c.workload.clientTimeoutMs } })
    agents.push(agent)
    const random = seededRandom(`${opts.seed}:customer:${c.name}`)
    const w = c.workload
    const call = httpCall(c, opts.urlOf(c.name), agent, seededRandom(`${opts.seed}:customer:${c.name}:values`))
    return new OpenLoop({
      service: c.name,
      operation: `${w.method} ${w.path}`,
      ratePerSec: w.ratePerSec,
      random,
      recorder: opts.recorder,
      call,
      // Room for two timeouts' worth of arrivals, as the lab's customers have.
      maxInFlight: Math.ceil(w.ratePerSec * (w.clientTimeoutMs / 1000) * 2) + 4,
      maxDurationMs: opts.maxDurationMs,
    }).start()
  })
  return {
    loops,
    async stop() {
      await Promise.all(loops.map((l) => l.stop()))
      await Promise.all(agents.map((a) => a.destroy().catch(() => {})))
    },
  }
}

function httpCall(c: CustomerConfig, base: string, agent: Agent, random: Random): () => Promise<void> {
  const w = c.workload
  let seq = 0
  const timeoutMs = w.clientTimeoutMs
  return async () => {
    const vars = { seq: seq++, random: Math.floor(random() * 1_000_000_000), now: Date.now(), customer: c.name }
    const body = w.body === undefined ? undefined : fillTemplate(w.body, vars)
    const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': contentTypeOf(body) } : {}) }
    for (const [k, v] of Object.entries(w.headers)) headers[k.toLowerCase()] = fillTemplate(v, vars)
    try {
      const res = await request(`${base}${fillTemplate(w.path, vars)}`, {
        method: w.method,
        headers,
        body,
        dispatcher: agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      })
      await res.body.dump()
      if (res.statusCode >= 400) throw Object.assign(new Error(`HTTP ${res.statusCode}`), { name: `HTTP${res.statusCode}` })
    } catch (err) {
      throw asTimeout(err)
    }
  }
}

/** undici's and the AbortSignal's timeouts all read as the SDK's: TimeoutError. */
function asTimeout(err: unknown): unknown {
  const e = err as { name?: string; code?: string }
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT')
    return Object.assign(new Error('the customer service did not answer within the client timeout'), { name: 'TimeoutError' })
  return err
}
