// The data plane's Prometheus series. The shard-map registers its own (threads, thread limit,
// shard-map state, peers) on the same registry; these describe the API as customers see it.
import { Counter, Histogram, type Registry } from 'prom-client'
import type { UpstreamOutcome } from './upstream.js'

export interface FrontendMetrics {
  /** One finished API call. */
  call(operation: string, statusCode: number, errorType: string | undefined, durationMs: number): void
  /** Records of PutRecord(s) by result: ok, throttled, failed. */
  records(operation: string, result: 'ok' | 'throttled' | 'failed', n: number): void
  /** One call to a back-end or metadata. */
  upstream(dependency: string, outcome: UpstreamOutcome): void
}

export function createFrontendMetrics(registry: Registry): FrontendMetrics {
  const requests = new Counter({
    name: 'kinesis_frontend_requests_total',
    help: 'Kinesis API calls answered, by operation, HTTP status and AWS error type ("" on success)',
    labelNames: ['operation', 'status', 'error'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'kinesis_frontend_request_duration_seconds',
    help: 'Kinesis API call latency as the front-end measured it, by operation',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const records = new Counter({
    name: 'kinesis_frontend_records_total',
    help: 'Records written through PutRecord and PutRecords, by result (ok, throttled, failed)',
    labelNames: ['operation', 'result'] as const,
    registers: [registry],
  })
  const upstream = new Counter({
    name: 'kinesis_frontend_upstream_calls_total',
    help: 'Calls to back-ends and metadata, by dependency and outcome',
    labelNames: ['dependency', 'outcome'] as const,
    registers: [registry],
  })
  return {
    call(operation, statusCode, errorType, durationMs) {
      requests.inc({ operation, status: String(statusCode), error: errorType ?? '' })
      latency.observe({ operation }, durationMs / 1000)
    },
    records(operation, result, n) {
      if (n > 0) records.inc({ operation, result }, n)
    },
    upstream(dependency, outcome) {
      upstream.inc({ dependency, outcome })
    },
  }
}
