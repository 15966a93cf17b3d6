// The experiment as the runner sees it: resolved (`extends:` merged, --set applied), validated,
// defaulted, every duration in milliseconds. YAML keys keep Chaos Toolkit's words; the one dashed
// key (`steady-state-hypothesis`) becomes `steadyStateHypothesis` here.
import type { ProviderArgsOf, ProviderName } from '../faults/index.js'
import type { Downstream, ServiceName } from '../topology/catalogue.js'
import type { CustomerOptions } from '../topology/model.js'

// The services come from the outage's catalogue; the providers from their definitions.
export { SERVICES, DOWNSTREAM, type ServiceName } from '../topology/catalogue.js'
export type { ProviderName } from '../faults/index.js'
/** The services that run beside Kinesis, each optional in a topology. */
export type DownstreamName = Downstream

export const RATE_KEYS = [
  'kinesisPut',
  'kinesisGet',
  'cognitoSignIn',
  'putMetricData',
  'putEvents',
  'lambdaInvoke',
  'customerDemand',
  'statusPageRead',
] as const
export type RateKey = (typeof RATE_KEYS)[number]
export type Rates = Record<RateKey, number>

export const MEASURES = ['successRatio', 'p99Ms'] as const
export type Measure = (typeof MEASURES)[number]
export const AGGREGATES = ['min', 'max', 'mean', 'sum', 'last'] as const
export type Aggregate = (typeof AGGREGATES)[number]
export const RETRY_MODES = ['standard', 'adaptive', 'legacy'] as const
export type RetryMode = (typeof RETRY_MODES)[number]
/** The methods a customer service's workload may send. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]

export interface FleetConfig {
  frontends: number
  threadLimit: number
  bootstrap: 'peers' | 'metadata'
  learnDelayMs: number
  cells: number
  /** The fleet's health system removes a member that passes no check this long (0: never). */
  removeUnhealthyAfterMs: number
}

export interface TopologyConfig {
  /** Always has `main`; `cloudwatch` is the partitioned fleet of remediation 6. */
  fleets: Record<string, FleetConfig>
  backends: number
  shardMapCache: boolean
  services: DownstreamName[]
  switches: {
    cognito: { sustainKinesisErrors: boolean; bufferRecords: number }
    cloudwatch: { localStore: boolean; localStoreHours: number; partitionedFleet: boolean }
    lambda: { boundedAgentBuffer: boolean }
  }
  threadAlarm: { enabled: boolean; threshold: number }
  /** The user's own services (docs/customers.md), started after the lab's, in file order. */
  customers: CustomerConfig[]
}

/** What the harness sends a customer service: an open-loop HTTP workload, judged like every service's. */
export interface CustomerWorkload {
  /** Calls per second (open loop, seeded Poisson arrivals). */
  ratePerSec: number
  method: HttpMethod
  /** A template (`/orders/{{seq}}`): see CUSTOMER_TEMPLATE_VARIABLES. */
  path: string
  /** A template, sent as the request body when given. */
  body?: string
  headers: Record<string, string>
  /** A call that takes longer fails with TimeoutError. */
  clientTimeoutMs: number
}

/** A customer service: the user's program (local) or image (compose), its readiness and metrics (topology/model.ts), and its workload. */
export interface CustomerConfig extends CustomerOptions {
  workload: CustomerWorkload
}

export interface WorkloadConfig {
  clientTimeoutMs: number
  retries: { maxAttempts: number; mode: RetryMode }
  /** Calls per second of each customer API (open loop). */
  rates: Rates
  /**
   * Shards of the customers' stream. Every front-end's shard-map holds an ack entry per member and
   * shard, so this is what makes a cold start from peers cost real work (restart experiments).
   */
  streamShards: number
}

export interface Slo {
  minSuccessRatio: number
  maxP99Ms: number
}

export interface Tolerance {
  min?: number
  max?: number
}

/** A metric probe's series: a Prometheus name and labels every matching sample must carry. */
export interface MetricSelector {
  name: string
  labels: Record<string, string>
}

export interface Probe {
  type: 'probe'
  name: string
  /** Method probes: offset from the start of the method; hypothesis probes have none. */
  atMs?: number
  /** A customer-facing service, or (metric probes) a service or process name prefix. */
  service: string
  /** successRatio / p99Ms read the service's client-side probe; metric reads a scraped series. */
  measure: Measure | 'metric'
  metric?: MetricSelector
  /** How a metric probe folds the samples of its window into one value. */
  aggregate: Aggregate
  windowMs: number
  tolerance: Tolerance
}

/** An action's args, validated and defaulted per provider (its definition's args); `provider` repeated so the union narrows. */
export type ActionArgs = { [N in ProviderName]: { provider: N } & ProviderArgsOf<N> }[ProviderName]

export interface Action {
  type: 'action'
  name: string
  /** Method actions: offset from the start of the method. Rollbacks run in order, so 0. */
  atMs: number
  provider: ProviderName
  /** Validated and defaulted per provider; `provider` repeated so the union narrows. */
  args: ActionArgs
}

export type Activity = Action | Probe

/** A service of the run: one of the lab's (ServiceName) or a customer service's name. */
export type RunService = ServiceName | (string & {})

export interface Expectations {
  impacted?: RunService[]
  healthy?: RunService[]
  onsetOrder?: RunService[][]
  /** What the cascade must name as each service's cause: a service of the run, or 'trigger'. */
  cause?: Partial<Record<RunService, string>>
  recovered?: boolean
  steadyStateAfter?: boolean
  maxRecoveryMs?: Partial<Record<RunService, number>>
  alarmLeadMs?: { min: number }
  /** No event a customer service acknowledged is missing from its stream after the run (harness/run/delivery.ts). */
  delivered?: DeliveryExpectation[]
}

/**
 * After the steady state after the method: the ids the customer says it acknowledged (GET `path`
 * of it) must all be in `stream` (every shard from TRIM_HORIZON, read with the lab's key) within
 * `withinMs` (it may still be shipping a spool).
 */
export interface DeliveryExpectation {
  customer: string
  stream: string
  path: string
  withinMs: number
}

export interface Experiment {
  /** The file given (as given), and every file of its `extends:` chain, the given one first. */
  file: string
  files: string[]
  title: string
  description: string
  tags: string[]
  /** Seconds of the run that stand for one hour of the incident. */
  timeScale: number
  /** The method's length cap. */
  durationMs: number
  seed: number
  topology: TopologyConfig
  workload: WorkloadConfig
  /** Every customer-facing service and every customer service, defaults filled in. */
  slo: Record<ServiceName, Slo> & Record<string, Slo>
  steadyStateHypothesis?: { title: string; probes: Probe[] }
  /** In file order (paths like method[2] name these indices); the runner starts each at its atMs. */
  method: Activity[]
  rollbacks: Action[]
  expect: Expectations
}
