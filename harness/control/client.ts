// A client of the control API, for `outage-lab scale` and `outage-lab restart` (and scripts).
import { request } from 'undici'
import type { RestartResult, ScaleResult } from '../platform/started.js'

export class ControlError extends Error {
  readonly type: string
  readonly statusCode?: number
  constructor(type: string, message: string, statusCode?: number) {
    super(message)
    this.name = 'ControlError'
    this.type = type
    this.statusCode = statusCode
  }
}

export class ControlClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res
    try {
      res = await request(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        // A paced restart of a large fleet takes as long as it takes.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      throw new ControlError('Unreachable', `cannot reach the control API at ${this.url} (${e.code ?? e.message}): is \`outage-lab up\` still running?`)
    }
    const text = await res.body.text()
    let data: { __type?: string; message?: string } | null
    try {
      data = JSON.parse(text)
    } catch {
      throw new ControlError('InternalFailure', `control API answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`, res.statusCode)
    }
    if (res.statusCode >= 300) throw new ControlError(data?.__type ?? 'InternalFailure', data?.message ?? text, res.statusCode)
    return data as unknown as T
  }

  topology(): Promise<Record<string, unknown>> {
    return this.call('GET', '/topology')
  }

  scale(fleet: string, to: number): Promise<ScaleResult> {
    return this.call('POST', `/fleets/${encodeURIComponent(fleet)}/scale`, { to })
  }

  restart(fleet: string, rate: number | 'all'): Promise<RestartResult> {
    return this.call('POST', `/fleets/${encodeURIComponent(fleet)}/restart`, { rate })
  }

  service(name: string, action: 'kill' | 'pause' | 'resume' | 'restart'): Promise<Record<string, unknown>> {
    return this.call('POST', `/services/${encodeURIComponent(name)}/${action}`)
  }
}
