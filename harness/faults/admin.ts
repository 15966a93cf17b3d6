// A service's admin HTTP API (under /admin, with the run's bearer token), as the fault providers call it.
import { request } from 'undici'
import { ActionFailed, type ActionContext } from './provider.js'

export async function admin(ctx: ActionContext, service: string, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const url = ctx.topology.endpoints().services[service]
  if (!url) throw new ActionFailed('admin', `no service named ${service}`)
  const res = await request(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ctx.topology.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new ActionFailed('admin', `${service} ${method} /admin${path} answered ${res.statusCode}: ${text.slice(0, 300)}`)
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}
