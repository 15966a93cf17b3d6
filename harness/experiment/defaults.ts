// What an experiment gets for every key it leaves out. docs/experiments.md lists the same values.
import type { Rates, ServiceName, Slo } from './types.js'

export const DEFAULT_TIME_SCALE = 10
export const DEFAULT_DURATION_MS = 120_000
export const DEFAULT_SEED = 1
export const DEFAULT_BACKENDS = 2
export const DEFAULT_CLIENT_TIMEOUT_MS = 2_000
export const DEFAULT_STREAM_SHARDS = 4
export const DEFAULT_PROBE_WINDOW_MS = 3_000
export const DEFAULT_RETRIES = { maxAttempts: 3, mode: 'standard' } as const
export const DEFAULT_THREAD_ALARM = { enabled: false, threshold: 0.8 } as const
export const DEFAULT_SWITCHES = {
  cognito: { sustainKinesisErrors: false, bufferRecords: 2000 },
  cloudwatch: { localStore: false, localStoreHours: 3, partitionedFleet: false },
  lambda: { boundedAgentBuffer: false },
} as const

/** Calls per second of each customer API. */
export const DEFAULT_RATES: Rates = {
  kinesisPut: 20,
  kinesisGet: 5,
  cognitoSignIn: 5,
  putMetricData: 10,
  putEvents: 5,
  lambdaInvoke: 10,
  customerDemand: 5,
  statusPageRead: 2,
}

/**
 * A service is impacted in a 1 s window whose success ratio is below min or p99 above max. The
 * latency bound (3 s) sits above the customers' default client timeout (2 s): on a 2-core machine
 * a capacity addition's cold starts hold the CPU for seconds and slow every process alike, so a
 * tighter bound would blame the machine rather than the cascade. Every 2020 failure the lab
 * reproduces shows as errors or calls that outlive the client's timeout.
 */
export const DEFAULT_SLO: Record<ServiceName, Slo> = {
  kinesis: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  cognito: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  cloudwatch: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  eventbridge: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  autoscaler: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  lambda: { minSuccessRatio: 0.95, maxP99Ms: 3000 },
  'status-page': { minSuccessRatio: 0.95, maxP99Ms: 3000 },
}

/** A customer service's SLO unless `slo.<name>` says otherwise: the same bounds as the lab's services. */
export const DEFAULT_CUSTOMER_SLO: Slo = { minSuccessRatio: 0.95, maxP99Ms: 3000 }

/** `expect.delivered`: where a customer lists the event ids it acknowledged. */
export const DELIVERED_PATH = '/acknowledged'
/** `expect.delivered`: how long after the steady state after the method its events may take to reach the stream (a spool draining). */
export const DELIVERED_WITHIN_MS = 30_000
