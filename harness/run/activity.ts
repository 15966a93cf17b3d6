// One action of the method or the rollbacks, run through its provider. A failed action is
// recorded in the journal and never thrown past the runner: the run goes on (Chaos Toolkit's
// ActivityFailed).
import type { Action } from '../experiment/index.js'
import { PROVIDERS, type ActionContext } from '../faults/index.js'
import type { RunContext } from './context.js'

export async function runAction(run: RunContext, a: Action, phase: 'method' | 'rollbacks', ctx: ActionContext): Promise<void> {
  const { provider: _provider, ...args } = a.args
  run.emit('action-start', { name: a.name, provider: a.provider, phase, args })
  try {
    const result = await PROVIDERS[a.provider].run(args, ctx)
    run.emit('action-end', { name: a.name, provider: a.provider, phase, ok: true, result })
  } catch (err) {
    const detail = (err as { detail?: unknown }).detail
    run.emit('action-end', { name: a.name, provider: a.provider, phase, ok: false, error: (err as Error).message, ...(detail ? { result: detail } : {}) })
  }
}
