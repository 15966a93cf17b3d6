// The whole analysis of one run, as a pure function of the experiment, the timeline and the
// events (no clock is read): per-service results, the cascade, blast radius, recovery verdict,
// the method's probes, the expectations and the fidelity score. The runner writes the result
// into journal.json; `outage-lab report` can call it again on an old run.
import type { Experiment } from '../experiment/types.js'
import { actionRuns, blastRadius, cascade, recoveryVerdict, serviceResults, staticDependencies, triggerMs, type DependenciesAt } from './cascade.js'
import { customerCalls, customerDependenciesAt } from './customers.js'
import { checkExpectations } from './expect.js'
import { fidelity } from './fidelity.js'
import { observationOf, type Observation } from './observation.js'
import type {
  BlastRadius,
  CascadeEntry,
  CustomerRecord,
  ExpectationResult,
  FidelityResult,
  Journal,
  JournalEvent,
  ProbeResult,
  RecoveryVerdict,
  ServiceResult,
  SteadyStateResult,
  TimelineRows,
} from './journal.js'
import { SeriesIndex } from './series.js'
import { evaluateMethodProbes } from './steady-state.js'

export interface AnalysisInput {
  experiment: Experiment
  /** Rows of timeline.jsonl, or an index of them already built (the runner reuses one). */
  timeline: TimelineRows | SeriesIndex
  events: readonly JournalEvent[]
  /** The end of the observation (default: the last sample of the timeline). */
  endMs?: number
  /** The steady state after the method, as the runner checked it (for `expect.steadyStateAfter`). */
  steadyStateAfter?: SteadyStateResult
}

export interface Analysis {
  triggerMs: number
  endMs: number
  services: Record<string, ServiceResult>
  cascade: CascadeEntry[]
  /** What each customer service called (absent without customer services). */
  customers?: Record<string, CustomerRecord>
  blastRadius: BlastRadius
  recovery: RecoveryVerdict
  probes: ProbeResult[]
  expectations: ExpectationResult[]
  fidelity: FidelityResult
  observation: Observation
}

export function analyzeRun(input: AnalysisInput): Analysis {
  const index = input.timeline instanceof SeriesIndex ? input.timeline : new SeriesIndex(input.timeline)
  const endMs = input.endMs ?? index.endMs
  const runs = actionRuns(input.experiment, input.events)
  const trigger = triggerMs(runs)
  // A customer service's dependencies are what it called (the lab counted its key's calls).
  const customerList = input.experiment.topology.customers ?? []
  const customers = customerList.length > 0 ? customerCalls(index, customerList) : undefined
  const forCustomers = customers ? customerDependenciesAt(index, customers) : undefined
  const dependenciesAt: DependenciesAt = (service, t) => forCustomers?.(service, t) ?? staticDependencies(service, t)
  const services = serviceResults(input.experiment, index, runs, endMs, dependenciesAt)
  const probes = evaluateMethodProbes(input.experiment, index)
  const order = cascade(services, runs, dependenciesAt)
  return {
    triggerMs: trigger,
    endMs,
    services,
    cascade: order,
    ...(customers ? { customers } : {}),
    blastRadius: blastRadius(services),
    recovery: recoveryVerdict(services, runs),
    probes,
    // A method probe is a claim about the run, as in Chaos Toolkit: one that is not met fails it.
    expectations: [
      ...checkExpectations(input.experiment.expect, {
        services,
        cascade: order,
        steadyStateAfter: input.steadyStateAfter,
        events: input.events,
        index,
        triggerMs: trigger,
      }),
      ...probes.map((p) => ({ name: `probe ${p.name}`, met: p.met, detail: p.detail })),
    ],
    fidelity: fidelity({ experiment: input.experiment, index, events: input.events, services, runs, triggerMs: trigger }),
    observation: observationOf(index, trigger, endMs),
  }
}

/** A journal with its analysis redone on its timeline (`outage-lab report` on an old run). */
export function reanalyze(journal: Journal, timeline: TimelineRows | SeriesIndex): Journal {
  const a = analyzeRun({ experiment: journal.experiment, timeline, events: journal.events, steadyStateAfter: journal.steadyState?.after })
  return {
    ...journal,
    services: a.services,
    cascade: a.cascade,
    ...(a.customers ? { customers: a.customers } : {}),
    blastRadius: a.blastRadius,
    recovery: a.recovery,
    probes: a.probes,
    expectations: a.expectations,
    fidelity: a.fidelity,
    observation: a.observation,
  }
}
