// Readiness is an explicit wait per service: GET its health path until it answers 200, within a
// timeout. A process that exits while we wait fails the wait at once, with its stderr.
import { request } from 'undici'

export interface HealthWait {
  url: string
  path: string
  timeoutMs: number
  intervalMs?: number
  /** Resolves when the process exits; the wait fails then. */
  exited?: Promise<unknown>
}

export type WaitOutcome = { ready: true; body: unknown } | { ready: false; reason: string }

export async function waitForHealth(w: HealthWait): Promise<WaitOutcome> {
  const deadline = Date.now() + w.timeoutMs
  let exited = false
  void w.exited?.then(() => (exited = true))
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (exited) return { ready: false, reason: 'the process exited before it was ready' }
    const probe = await getHealth(`${w.url}${w.path}`, Math.min(1_000, Math.max(1, deadline - Date.now())))
    if (probe.status === 200) return { ready: true, body: probe.body }
    last = probe.status !== undefined ? `GET ${w.path} answered ${probe.status}` : `GET ${w.path}: ${probe.error}`
    await new Promise((r) => setTimeout(r, w.intervalMs ?? 100))
  }
  if (exited) return { ready: false, reason: 'the process exited before it was ready' }
  return { ready: false, reason: `no 200 from GET ${w.path} within ${w.timeoutMs} ms (last: ${last})` }
}

export async function getHealth(url: string, timeoutMs: number): Promise<{ status?: number; body?: any; error?: string }> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.body.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: res.statusCode, body }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { error: e.code ?? e.name ?? e.message }
  }
}
