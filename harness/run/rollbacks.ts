// The rollbacks: ordinary actions, one after another once the method is over (Chaos Toolkit).
import type { Experiment } from '../experiment/index.js'
import type { ActionContext } from '../faults/index.js'
import { runAction } from './activity.js'
import type { RunContext } from './context.js'

export async function runRollbacks(run: RunContext, exp: Experiment, ctx: () => ActionContext): Promise<void> {
  for (const a of exp.rollbacks) {
    run.checkInterrupt()
    await runAction(run, a, 'rollbacks', ctx())
  }
}
