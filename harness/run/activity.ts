// One action of the method or the rollbacks, run through its provider. A failed action is
// recorded in the journal and never thrown past the runner: the run goes on (Chaos Toolkit's
// ActivityFailed).
import type { Action } from '../experiment/index.js'
import { PROVIDERS, type ActionContext } from '../faults/actions.js'
import type { RunContext } from './context.js'

export async function runAction(run: RunContext, a: Action, phase: 'method' | 'rollbacks', ctx: ActionContext): Promise<void> {
  const { provider: _provider, ...rawArgs } = a.args as Record<string, unknown> & { provider: string }
  const args: Record<string, unknown> = { ...rawArgs }
  if (a.provider === 'inject-fault' && typeof args.target === 'string') {
    // A fault on the calls to a service: match them by that service's origin.
    const e = ctx.topology.endpoints()
    const url = args.target === 'kinesis' ? e.kinesis : e.services[args.target]
    args.match = { ...(args.match as object), origin: new URL(url!).origin }
    delete args.target
  }
  run.emit('action-start', { name: a.name, provider: a.provider, phase, args })
  try {
    const result = await PROVIDERS[a.provider](args, ctx)
    run.emit('action-end', { name: a.name, provider: a.provider, phase, ok: true, result })
  } catch (err) {
    const detail = (err as { detail?: unknown }).detail
    run.emit('action-end', { name: a.name, provider: a.provider, phase, ok: false, error: (err as Error).message, ...(detail ? { result: detail } : {}) })
  }
}
