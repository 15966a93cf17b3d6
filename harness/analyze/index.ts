// The analysis' public face: pure functions of a run's timeline and events.
export { analyzeRun, reanalyze, type Analysis, type AnalysisInput } from './analyze.js'
export {
  clientWindows,
  detectImpact,
  judge,
  WINDOW_MS,
  ONSET_TOLERANCE_MS,
  ONSET_WINDOWS,
  RECOVERY_WINDOWS,
  MAX_UNKNOWN_BRIDGE,
  firstRun,
  callsOf,
  type Window,
  type Verdict,
  type Impact,
} from './impact.js'
export {
  DEPENDENCIES,
  RECOVERY_PROVIDERS,
  actionRuns,
  triggerMs,
  serviceResults,
  cascade,
  blastRadius,
  recoveryVerdict,
  servicesOf,
  staticDependencies,
  type ActionRun,
  type DependenciesAt,
} from './cascade.js'
export { customerCalls, customerDependenciesAt, labServiceOf, increase, orderServices, servicesOfRuns, CALLING_LOOKBACK_MS } from './customers.js'
export { windowsFromCalls, binomialTail, ALPHA, MIN_CALLS } from './call-windows.js'
export { frontDoors, serverEvidenceIn, measuredServerSide } from './corroborate.js'
export { observationOf, lagSentence, LAG_BOUND_MS, type Observation } from './observation.js'
export { evaluateProbe, evaluateHypothesis, evaluateMethodProbes } from './steady-state.js'
export { checkExpectations, checkOnsetOrder, threadAlarmAt, firstBreakAt, THREAD_ALARM } from './expect.js'
export { fidelity, FIDELITY_CHECKS, FIDELITY_ORDER } from './fidelity.js'
export { compareRuns, summarizeRun, type Comparison, type ServiceComparison, type RunSummary, type RunSide } from './compare.js'
export { SeriesIndex, parseSeries, matchesSelector, coversService, valueAt } from './series.js'
export type * from './journal.js'
