// The method: each activity starts at its offset from the method's start (`at:`), actions run
// concurrently and are recorded as they end, probes are judged on the timeline at their moment.
// The method lasts the experiment's duration, and actions still running then (a slow paced
// restart) finish before the rollbacks start.
import { evaluateProbe, SeriesIndex } from '../analyze/index.js'
import type { Action, Experiment, Probe } from '../experiment/index.js'
import type { ActionContext } from '../faults/index.js'
import type { TimelineRows } from '../observe/timeline.js'
import { runAction } from './activity.js'
import type { RunContext } from './context.js'

export async function runMethod(run: RunContext, exp: Experiment, timeline: TimelineRows, ctx: () => ActionContext): Promise<void> {
  const pending = new Set<Promise<unknown>>()
  const timers: NodeJS.Timeout[] = []
  for (const activity of exp.method) {
    const start = () => {
      if (run.signal.aborted) return
      if (activity.type === 'probe') {
        const p = evaluateProbe(activity as Probe, new SeriesIndex(timeline), run.clock())
        run.emit('probe', { name: p.name, phase: 'method', met: p.met, value: p.value, detail: p.detail })
        return
      }
      const action = runAction(run, activity as Action, 'method', ctx())
      pending.add(action)
      void action.finally(() => pending.delete(action))
    }
    const delay = (activity.atMs ?? 0) - run.clock()
    timers.push(setTimeout(start, Math.max(0, delay)))
  }
  try {
    await run.sleepUntil(exp.durationMs)
    while (pending.size) {
      run.checkInterrupt()
      await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 250))])
    }
  } finally {
    for (const t of timers) clearTimeout(t)
  }
}
