// The journal of a run: what happened (status, steady state, events) and what the analysis of its
// timeline found (services, cascade, expectations, fidelity), written with the run's other outputs.
import { analyzeRun, type Journal, type JournalEvent, type RunStatus, type SteadyStateResult } from '../analyze/index.js'
import type { Experiment } from '../experiment/index.js'
import { servicesOf } from '../analyze/index.js'
import type { PlatformName } from '../platform/registry.js'
import type { StartedTopology } from '../platform/started.js'
import type { TimelineRows } from '../observe/timeline.js'
import type { ClientRecorder } from '../workload/recorder.js'

export interface RunRecord {
  exp: Experiment
  platform: PlatformName
  status: RunStatus
  startedAt: Date
  endedAt: Date
  topology?: StartedTopology
  steadyBefore: SteadyStateResult
  steadyAfter: SteadyStateResult
  events: JournalEvent[]
  timeline: TimelineRows
  recorder: ClientRecorder
  failure?: Error
  /** The run's id on its platform (its processes carry it), also when the boot failed. */
  runId?: string
}

export function assembleJournal(r: RunRecord): Journal {
  const exp = r.exp
  const analysis = r.timeline.length
    ? analyzeRun({ experiment: exp, timeline: r.timeline, events: r.events, steadyStateAfter: r.status === 'completed' ? r.steadyAfter : undefined })
    : undefined
  return {
    title: exp.title,
    experiment: exp,
    backend: r.platform,
    platform: r.platform,
    seed: exp.seed,
    status: r.status,
    deviated: r.status === 'completed' && !r.steadyAfter.met,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt.toISOString(),
    durationMs: r.endedAt.getTime() - r.startedAt.getTime(),
    threadLimitEnforcement: r.topology?.threadLimitEnforcement ?? 'unknown',
    ...(r.runId || r.topology ? { runId: r.runId ?? r.topology!.runId } : {}),
    steadyState: { before: r.steadyBefore, after: r.steadyAfter },
    events: r.events,
    services: analysis?.services ?? {},
    cascade: analysis?.cascade ?? [],
    ...(analysis?.customers ? { customers: analysis.customers } : {}),
    ...(analysis ? { blastRadius: analysis.blastRadius, recovery: analysis.recovery, probes: analysis.probes } : {}),
    expectations: analysis?.expectations ?? [],
    fidelity: analysis?.fidelity ?? { score: null, checks: [] },
    ...(analysis ? { observation: analysis.observation } : {}),
    ...(r.failure ? { error: r.failure.message } : {}),
    ...clientTotals(r.recorder, exp),
  } as Journal
}

/** Error types the customers saw, per service (the journal's clientErrors). */
function clientTotals(recorder: ClientRecorder, exp: Experiment): { clientErrors: Record<string, Record<string, number>> } {
  const out: Record<string, Record<string, number>> = {}
  const services = new Set(servicesOf(exp))
  for (const [service, t] of recorder.totals()) if (services.has(service)) out[service] = t.errors
  return { clientErrors: out }
}
