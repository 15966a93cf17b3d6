// Readiness is an explicit wait per service: GET its health path until it answers 200, within a
// timeout. A process that exits while we wait fails the wait at once, with its stderr.
import { request } from 'undici'

export interface HealthWait {
  url: string
  path: string
  timeoutMs: number
  intervalMs?: number
  /** Numeric fields of the JSON body that must reach at least these values. */
  atLeast?: Record<string, number>
  /** Resolves when the process exits; the wait fails then. */
  exited?: Promise<unknown>
  /** A front-end answering shard_map_state "building" is not ready yet (it would answer 503). */
  mapSettled?: boolean
}

/** A service's GET /health answer, as JSON. */
export type HealthBody = Record<string, unknown>

export type WaitOutcome = { ready: true; body: unknown } | { ready: false; reason: string }

export async function waitForHealth(w: HealthWait): Promise<WaitOutcome> {
  const deadline = Date.now() + w.timeoutMs
  let exited = false
  void w.exited?.then(() => (exited = true))
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (exited) return { ready: false, reason: 'the process exited before it was ready' }
    // A starting process competes for the CPU with its peers: give each probe time to answer.
    const probe = await getHealth(`${w.url}${w.path}`, Math.min(5_000, Math.max(1, deadline - Date.now())))
    const short =
      probe.status === 200
        ? (shortfall(probe.body, w.atLeast) ?? (w.mapSettled && probe.body?.shard_map_state === 'building' ? 'shard_map_state is "building"' : undefined))
        : undefined
    if (probe.status === 200 && !short) return { ready: true, body: probe.body }
    last = short ? `GET ${w.path}: ${short}` : probe.status !== undefined ? `GET ${w.path} answered ${probe.status}` : `GET ${w.path}: ${probe.error}`
    await new Promise((r) => setTimeout(r, w.intervalMs ?? 100))
  }
  if (exited) return { ready: false, reason: 'the process exited before it was ready' }
  return { ready: false, reason: `no 200 from GET ${w.path} within ${w.timeoutMs} ms (last: ${last})` }
}

function shortfall(body: HealthBody | undefined, atLeast: Record<string, number> = {}): string | undefined {
  for (const [field, min] of Object.entries(atLeast)) {
    const v = body?.[field]
    if (typeof v !== 'number' || v < min) return `${field} is ${JSON.stringify(v)}, waiting for at least ${min}`
  }
  return undefined
}

export async function getHealth(url: string, timeoutMs: number): Promise<{ status?: number; body?: HealthBody; error?: string }> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.body.text()
    let body: HealthBody | undefined
    try {
      body = JSON.parse(text) as HealthBody
    } catch {
      body = undefined
    }
    return { status: res.statusCode, body }
  } catch (err) {
    const e = err as { code?: unknown; name?: string; message: string }
    // An AbortSignal timeout is a DOMException whose `code` is a legacy number: use its name.
    return { error: typeof e.code === 'string' ? e.code : e.name === 'TimeoutError' ? 'timeout' : (e.name ?? e.message) }
  }
}
