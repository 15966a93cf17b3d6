// Readiness is an explicit wait per service: GET its health path until it answers 2xx, within a
// timeout (a customer service without a health path: until its port accepts a connection). A
// process that exits while we wait fails the wait at once, with its stderr.
import net from 'node:net'
import { request } from 'undici'

export interface HealthWait {
  url: string
  /** Absent: wait until the port accepts a TCP connection. */
  path?: string
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
    if (w.path === undefined) {
      const open = await portOpen(w.url, Math.min(2_000, Math.max(1, deadline - Date.now())))
      if (open === true) return { ready: true, body: undefined }
      last = `port: ${open}`
      await new Promise((r) => setTimeout(r, w.intervalMs ?? 100))
      continue
    }
    // A starting process competes for the CPU with its peers: give each probe time to answer.
    const probe = await getHealth(`${w.url}${w.path}`, Math.min(5_000, Math.max(1, deadline - Date.now())))
    const ok = probe.status !== undefined && probe.status >= 200 && probe.status < 300
    const short = ok
      ? (shortfall(probe.body, w.atLeast) ?? (w.mapSettled && probe.body?.shard_map_state === 'building' ? 'shard_map_state is "building"' : undefined))
      : undefined
    if (ok && !short) return { ready: true, body: probe.body }
    last = short ? `GET ${w.path}: ${short}` : probe.status !== undefined ? `GET ${w.path} answered ${probe.status}` : `GET ${w.path}: ${probe.error}`
    await new Promise((r) => setTimeout(r, w.intervalMs ?? 100))
  }
  if (exited) return { ready: false, reason: 'the process exited before it was ready' }
  if (w.path === undefined) return { ready: false, reason: `its port accepted no connection within ${w.timeoutMs} ms (last: ${last})` }
  return { ready: false, reason: `no 2xx from GET ${w.path} within ${w.timeoutMs} ms (last: ${last})` }
}

/** true when the URL's host and port accept a TCP connection, else why not (an error code, or "timeout"). */
export function portOpen(url: string, timeoutMs: number): Promise<true | string> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) || 80 })
    const done = (v: true | string) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => done('timeout'), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message))
  })
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
