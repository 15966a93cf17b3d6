// Cognito's Prometheus metrics: the API's calls, and the access-pattern buffer whose backlog is
// what blocks sign-ins in the 2020 behaviour (cognito_requests_blocked is the tell).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { AccessLog, AccessLogEvents } from './access-log.js'

export interface CognitoMetrics {
  /** Hooks for the buffer's counters. */
  accessEvents: AccessLogEvents
  call(operation: string, statusCode: number, errorType: string | undefined, durationMs: number): void
  /** The buffer and stream the gauges read at scrape time (set once they exist). */
  observe(accessLog: AccessLog, streamReady: () => boolean): void
}

export function createCognitoMetrics(registry: Registry): CognitoMetrics {
  let log: AccessLog | undefined
  let ready: () => boolean = () => false
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  gauge('cognito_access_buffer_records', 'Access-pattern records held in the buffer (queued + being shipped)', () => log?.stats().records ?? 0)
  gauge('cognito_access_buffer_capacity', 'Capacity of the access-pattern buffer in records', () => log?.capacity ?? 0)
  gauge('cognito_requests_blocked', 'Request handlers waiting for space in the access-pattern buffer', () => log?.stats().blockedRequests ?? 0)
  gauge('cognito_access_stream_ready', '1 once the access-pattern stream exists in Kinesis', () => (ready() ? 1 : 0))
  gauge('cognito_sustain_kinesis_errors', '1 when the buffer sheds records instead of blocking (remediation)', () => (log?.sustainKinesisErrors ? 1 : 0))
  const shipped = new Counter({ name: 'cognito_access_records_shipped_total', help: 'Access-pattern records Kinesis accepted', registers: [registry] })
  const shed = new Counter({
    name: 'cognito_access_records_shed_total',
    help: 'Access-pattern records dropped because the buffer was full (sustainKinesisErrors)',
    registers: [registry],
  })
  const shipFailures = new Counter({ name: 'cognito_access_ship_failures_total', help: 'PutRecords calls that failed as a whole', registers: [registry] })
  const recordsFailed = new Counter({
    name: 'cognito_access_records_failed_total',
    help: 'Records a PutRecords call refused (partial failures), kept for retry',
    registers: [registry],
  })
  const requests = new Counter({
    name: 'cognito_requests_total',
    help: 'API calls by operation and HTTP status',
    labelNames: ['operation', 'code'],
    registers: [registry],
  })
  const errors = new Counter({
    name: 'cognito_errors_total',
    help: 'API errors by operation and error type',
    labelNames: ['operation', 'type'],
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'cognito_request_duration_seconds',
    help: 'API call duration, including any wait for buffer space',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  return {
    accessEvents: {
      shipped: (n) => shipped.inc(n),
      shed: (n) => shed.inc(n),
      shipFailed: () => shipFailures.inc(),
      partiallyFailed: (failed) => recordsFailed.inc(failed),
    },
    call(operation, statusCode, errorType, durationMs) {
      requests.inc({ operation, code: String(statusCode) })
      if (errorType) errors.inc({ operation, type: errorType })
      duration.observe({ operation }, durationMs / 1000)
    },
    observe(accessLog, streamReady) {
      log = accessLog
      ready = streamReady
    },
  }
}
