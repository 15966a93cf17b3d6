// The steady-state hypothesis of a run, checked before and after the method on the timeline the
// run keeps in memory; each probe's verdict goes into the journal.
import { evaluateHypothesis, SeriesIndex, type SteadyStateResult } from '../analyze/index.js'
import type { Experiment } from '../experiment/index.js'
import type { RunContext } from './context.js'
import type { TimelineRows } from '../observe/timeline.js'

/** The longest window a probe of the hypothesis looks back over. */
export function hypothesisWindowMs(exp: Experiment): number {
  return Math.max(0, ...(exp.steadyStateHypothesis?.probes ?? []).map((p) => p.windowMs))
}

export function checkHypothesis(run: RunContext, exp: Experiment, timeline: TimelineRows, atMs: number, phase: 'before' | 'after'): SteadyStateResult {
  const result = evaluateHypothesis(exp.steadyStateHypothesis, new SeriesIndex(timeline), atMs)
  for (const p of result.probes) run.emit('probe', { name: p.name, phase, met: p.met, value: p.value, detail: p.detail })
  return result
}
