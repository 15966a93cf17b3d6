// EventBridge's Prometheus metrics: the API side (PutEvents outcomes), the ingestion side (what the
// consumer read back from Kinesis) and the delivery side (outcomes, delay from event to target).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface EventsMetrics {
  calls: Counter<'operation' | 'status' | 'error'>
  callSeconds: Histogram<'operation'>
  putEvents: Counter<'outcome'>
  entriesAccepted: Counter
  entriesFailed: Counter<'error_code'>
  ingested: Counter
  matched: Counter
  deliveries: Counter<'outcome'>
  deliveryDelay: Histogram
  lastDeliveryDelayMs: Gauge
  backlog: Gauge
  unprocessed: Gauge
  pendingDeliveries: Gauge
  msBehindLatest: Gauge
  consumerErrors: Counter<'operation'>
  streamReady: Gauge
  rules: Gauge
}

/** Live values the gauges read at scrape time. */
export interface LiveState {
  unprocessed(): number
  pendingDeliveries(): number
  msBehindLatest(): number
  streamReady(): boolean
  rules(): number
}

export function createMetrics(registry: Registry, live: LiveState): EventsMetrics {
  const r = { registers: [registry] }
  return {
    calls: new Counter({
      name: 'eventbridge_api_calls_total',
      help: 'AWSEvents API calls by operation, HTTP status and error type',
      labelNames: ['operation', 'status', 'error'],
      ...r,
    }),
    callSeconds: new Histogram({
      name: 'eventbridge_api_call_duration_seconds',
      help: 'AWSEvents API call latency',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ...r,
    }),
    putEvents: new Counter({
      name: 'eventbridge_put_events_total',
      help: 'PutEvents calls by outcome: ok (every entry accepted), partial (FailedEntryCount > 0), error (the call failed)',
      labelNames: ['outcome'],
      ...r,
    }),
    entriesAccepted: new Counter({ name: 'eventbridge_entries_accepted_total', help: 'PutEvents entries written to the events stream', ...r }),
    entriesFailed: new Counter({
      name: 'eventbridge_entries_failed_total',
      help: 'PutEvents entries not accepted (per-entry ErrorCode, or every entry of a call that failed)',
      labelNames: ['error_code'],
      ...r,
    }),
    ingested: new Counter({ name: 'eventbridge_events_ingested_total', help: 'events read back from the Kinesis events stream by the consumer', ...r }),
    matched: new Counter({ name: 'eventbridge_rule_matches_total', help: 'rule matches (one event matching two rules counts twice)', ...r }),
    deliveries: new Counter({
      name: 'eventbridge_deliveries_total',
      help: 'target deliveries by outcome: success, retry (a failed attempt to be retried), failed (given up: attempts or event age exhausted, or a non-retryable answer)',
      labelNames: ['outcome'],
      ...r,
    }),
    deliveryDelay: new Histogram({
      name: 'eventbridge_delivery_delay_seconds',
      help: 'time from PutEvents accepting the event to its successful delivery (the event Time a client sets is not trusted for this)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
      ...r,
    }),
    lastDeliveryDelayMs: new Gauge({
      name: 'eventbridge_last_delivery_delay_ms',
      help: 'delay of the latest successful delivery, accepted -> delivered',
      ...r,
    }),
    backlog: new Gauge({
      name: 'eventbridge_backlog',
      help: 'events accepted by PutEvents not yet read back by the consumer, plus deliveries pending',
      ...r,
      collect() {
        this.set(live.unprocessed() + live.pendingDeliveries())
      },
    }),
    unprocessed: new Gauge({
      name: 'eventbridge_unprocessed_events',
      help: 'events accepted by this process and not yet read back from the stream',
      ...r,
      collect() {
        this.set(live.unprocessed())
      },
    }),
    pendingDeliveries: new Gauge({
      name: 'eventbridge_pending_deliveries',
      help: 'deliveries queued, in flight or waiting to retry',
      ...r,
      collect() {
        this.set(live.pendingDeliveries())
      },
    }),
    msBehindLatest: new Gauge({
      name: 'eventbridge_consumer_ms_behind_latest',
      help: 'largest MillisBehindLatest over the shards of the events stream, from the last GetRecords of each',
      ...r,
      collect() {
        this.set(live.msBehindLatest())
      },
    }),
    consumerErrors: new Counter({ name: 'eventbridge_consumer_errors_total', help: 'failed Kinesis calls of the consumer', labelNames: ['operation'], ...r }),
    streamReady: new Gauge({
      name: 'eventbridge_stream_ready',
      help: '1 once the events stream exists and is ACTIVE',
      ...r,
      collect() {
        this.set(live.streamReady() ? 1 : 0)
      },
    }),
    rules: new Gauge({
      name: 'eventbridge_rules',
      help: 'rules on the default event bus',
      ...r,
      collect() {
        this.set(live.rules())
      },
    }),
  }
}
