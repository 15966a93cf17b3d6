// The journal's shape (docs/outputs.md): what a run writes to journal.json and what analyze,
// report, compare and suite read back. Times are ms from the start of the method (negative before
// it). analyze and report depend only on these types, so they can re-run on old runs.
import type { Experiment } from '../experiment/types.js'
import type { PlatformName } from '../platform/registry.js'
import type { Observation } from './observation.js'

/** One line of timeline.jsonl. */
export interface TimelineRow {
  /** A customer-facing service (`kinesis`, `cognito`, ...) for client.* rows, else the process name. */
  service: string
  /**
   * `client.success_ratio`, `client.p99_ms`, `client.calls` (the trailing 1 s, written every
   * sample), or a scraped series as `name{label="v",...}` (labels sorted; written on change and
   * at least once a second).
   */
  metric: string
  value: number | null
  atMs: number
}

/** The rows of a timeline in the order they were written: an array, or the runner's columnar store. */
export interface TimelineRows extends Iterable<TimelineRow> {
  readonly length: number
}

/**
 * What happened, in order. Kinds the analysis reads:
 * - `action-start` / `action-end`: detail `{ name, provider, phase: 'method'|'rollbacks', ok?, error? }`
 * - `probe`: detail `{ name, phase: 'before'|'method'|'after', met, value }`
 * - `alarm`: detail `{ name, state }` (the thread alarm is `name: 'thread-alarm'`, state `ALARM`)
 * - `phase`: detail `{ phase }`; others (`fault`, `log`, ...) are kept for the report.
 */
export interface JournalEvent {
  atMs: number
  kind: string
  detail: Record<string, unknown>
}

export type RunStatus = 'completed' | 'failed' | 'aborted' | 'interrupted'

export interface ProbeResult {
  name: string
  service: string
  met: boolean
  /** The measured value over the window, null when the window had no data. */
  value: number | null
  tolerance: { min?: number; max?: number }
  /** The window the probe looked at: (fromMs, toMs]. */
  fromMs: number
  toMs: number
  detail: string
}

export interface SteadyStateResult {
  met: boolean
  probes: ProbeResult[]
}

export interface ServiceResult {
  impacted: boolean
  /** Start of the first of two consecutive breached 1 s windows after the first fault. */
  onsetMs: number | null
  /** Start of the first 5 s run of healthy windows after onset. */
  recoveredMs: number | null
  /** recoveredMs - onsetMs, or (end - onsetMs) while never recovered. */
  impactMs: number | null
  /** recoveredMs minus the start of the last recovery action before it (null without one). */
  timeToRecoverMs: number | null
  /** Successful calls / calls over the method, from the client-side windows. */
  availability: number | null
  /** The 99th percentile of the per-window p99 latencies over the method. */
  p99Ms: number | null
  calls: number
  errors: number
  /** Why the onset stands: the front door's own counters, or a dependency already impacted (analyze/corroborate.ts). */
  corroboration?: string
  /** Client-side onsets before it that nothing beyond the client corroborated (first window of each). */
  uncorroborated?: { onsetMs: number }[]
  /** The first 1 s window after the first fault in which the front door's own counters showed trouble. */
  serverEvidenceMs?: number | null
  /** Windows after the first fault with too little evidence to judge. */
  unknownWindows?: number
}

export interface CascadeEntry {
  service: string
  onsetMs: number
  /** The dependency that was impacted when this service broke, 'trigger' for a service a method action hit, 'unexplained' otherwise. */
  cause: string
  /** Every dependency impacted at that moment (the cause is the earliest). */
  causes: string[]
  /** onsetMs minus the cause's onset (the time a buffer took to fill), null for the trigger. */
  lagMs: number | null
  /** `server-side`: the cause's customers were not impacted yet, but its own counters showed trouble. */
  evidence?: 'server-side'
}

/** How a customer service called one lab service over the run, as the lab counted it (lab_caller_calls_total of its key). */
export interface CustomerServiceCalls {
  calls: number
  ok: number
  clientErrors: number
  serverErrors: number
  /** Calls per operation (`PutRecord`, ...). */
  operations: Record<string, number>
  /** Calls per wire protocol (`awsJson`, `awsCbor`, `awsQuery`, `rpcv2Cbor`): which SDK generation it runs. */
  protocols: Record<string, number>
}

/** A customer service (the user's own): its access key and what it called, by lab service. */
export interface CustomerRecord {
  accessKeyId: string
  /** The lab services its key called, in the catalogue's order: its dependencies in the cascade. */
  dependsOn: string[]
  calls: Record<string, CustomerServiceCalls>
}

export interface BlastRadius {
  impacted: string[]
  count: number
  /** Customer-facing services of the run. */
  total: number
  share: number
}

export interface RecoveryVerdict {
  /** Every impacted service recovered before the end (true when nothing was impacted). */
  recovered: boolean
  unrecovered: string[]
  /** When the last impacted service recovered. */
  lastRecoveredMs: number | null
  /** The last recovery action (a rollback, or a restart/resume/heal/clear in the method) before that. */
  recoveryAction: { name: string; provider: string; atMs: number } | null
  timeToRecoverMs: number | null
}

export interface ExpectationResult {
  name: string
  met: boolean
  detail: string
}

export interface FidelityCheck {
  name: string
  /** A mechanism of docs/fidelity.md; false when the run could not show it (service absent, switch on). */
  applicable: boolean
  met: boolean
  detail: string
}

export interface FidelityResult {
  /** met / applicable checks; null when none applies. */
  score: number | null
  checks: FidelityCheck[]
}

export interface Journal {
  title: string
  experiment: Experiment
  /** Where the topology ran (the older name of `platform`, kept for readers of older journals). */
  backend: PlatformName
  platform?: PlatformName
  seed: number
  status: RunStatus
  /** The steady state did not hold after the method (Chaos Toolkit's word). */
  deviated: boolean
  startedAt: string
  endedAt: string
  durationMs: number
  threadLimitEnforcement: string
  steadyState: { before: SteadyStateResult; after: SteadyStateResult }
  events: JournalEvent[]
  /** Keyed by customer-facing service, in the catalogue's order, then the customer services. */
  services: Record<string, ServiceResult>
  /** The customer services (the user's own, topology.customers): what each called; absent without any. */
  customers?: Record<string, CustomerRecord>
  cascade: CascadeEntry[]
  blastRadius?: BlastRadius
  recovery?: RecoveryVerdict
  /** The method's probes, judged on the timeline. */
  probes?: ProbeResult[]
  expectations: ExpectationResult[]
  fidelity: FidelityResult
  /** How well the harness kept up with its own observation (analyze/observation.ts). */
  observation?: Observation
}
