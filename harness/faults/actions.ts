// The method's actions: what an operator (or the trigger) does to the running system. Each
// provider takes its already-validated args and acts only through the StartedTopology interface
// or a service's admin HTTP API, so the same action works on local processes and on containers.
// A provider returns what it did (recorded in the journal) or throws ActionFailed.
import { request } from 'undici'
import type { StartedTopology } from '../platform/started.js'

export class ActionFailed extends Error {
  readonly provider: string
  constructor(provider: string, message: string) {
    super(message)
    this.name = 'ActionFailed'
    this.provider = provider
  }
}

export interface ActionContext {
  topology: StartedTopology
  /** Customer-facing posting of status updates (the status page's two paths). */
  postStatus?: (args: { path: 'primary' | 'backup'; message: string; retryForMs?: number }) => Promise<Record<string, unknown>>
  signal?: AbortSignal
}

export type Provider = (args: any, ctx: ActionContext) => Promise<Record<string, unknown>>

async function admin(ctx: ActionContext, service: string, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
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
  return text ? JSON.parse(text) : {}
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })
}

export const PROVIDERS: Record<string, Provider> = {
  async 'scale-fleet'(args: { fleet: string; to: number; stepEveryMs?: number }, ctx) {
    return { ...(await ctx.topology.scaleFleet(args.fleet, args.to, args.stepEveryMs ? { stepEveryMs: args.stepEveryMs } : {})) }
  },
  async 'restart-fleet'(args: { fleet: string; ratePerSec?: number; all?: boolean; waitReady?: boolean }, ctx) {
    const r = await ctx.topology.restartFleet(args.fleet, args.all ? { all: true } : { ratePerSec: args.ratePerSec ?? 1, ...(args.waitReady ? { waitReady: true } : {}) })
    return { ...r }
  },
  async 'set-thread-limit'(args: { fleet: string; to: number }, ctx) {
    return { ...(await ctx.topology.setThreadLimit(args.fleet, args.to)) }
  },
  async kill(args: { service: string }, ctx) {
    await ctx.topology.kill(args.service)
    return { service: args.service }
  },
  async pause(args: { service: string }, ctx) {
    await ctx.topology.pause(args.service)
    return { service: args.service }
  },
  async resume(args: { service: string }, ctx) {
    await ctx.topology.resume(args.service)
    return { service: args.service }
  },
  async restart(args: { service: string }, ctx) {
    await ctx.topology.restart(args.service)
    return { service: args.service }
  },
  async 'inject-fault'(args: { service: string; direction: 'inbound' | 'outbound'; kind: string; delayMs?: number; status?: number; errorType?: string; probability?: number; match?: Record<string, string> }, ctx) {
    const { service, direction, ...rule } = args
    const added = await admin(ctx, service, 'POST', `/faults/${direction}`, rule)
    return { service, direction, rule: added }
  },
  async 'clear-faults'(args: { service: string; direction?: 'inbound' | 'outbound' }, ctx) {
    const directions = args.direction ? [args.direction] : (['inbound', 'outbound'] as const)
    const removed: Record<string, unknown> = {}
    for (const d of directions) removed[d] = (await admin(ctx, args.service, 'DELETE', `/faults/${d}`)).removed
    return { service: args.service, removed }
  },
  async partition(args: { service: string }, ctx) {
    return { service: args.service, ...(await ctx.topology.partition(args.service)) }
  },
  async 'heal-partition'(args: { service: string }, ctx) {
    return { service: args.service, ...(await ctx.topology.healPartition(args.service)) }
  },
  async 'post-status'(args: { path: 'primary' | 'backup'; message: string; retryForMs?: number }, ctx) {
    if (!ctx.postStatus) throw new ActionFailed('post-status', 'the status page is not part of this topology')
    return ctx.postStatus(args)
  },
  async wait(args: { forMs: number }, ctx) {
    await sleep(args.forMs, ctx.signal)
    return { waitedMs: args.forMs }
  },
}
