// CloudWatch's Prometheus series: the API as customers see it, ingestion through Kinesis (accepted,
// aggregated, consumer lag), alarms (state per alarm, actions) and the local store.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { ALARM_STATES, type AlarmState } from './alarms.js'

export type PutOutcomeLabel = 'ok' | 'invalid' | 'kinesis_error' | 'throttled' | 'local_store_error'

export function createCloudWatchMetrics(registry: Registry) {
  const registers = [registry]
  const requests = new Counter({
    name: 'cloudwatch_requests_total',
    help: 'CloudWatch API calls answered, by operation, HTTP status and error type ("" on success)',
    labelNames: ['operation', 'status', 'error'] as const,
    registers,
  })
  const latency = new Histogram({
    name: 'cloudwatch_request_duration_seconds',
    help: 'CloudWatch API call latency as the service measured it, by operation',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  })
  const put = new Counter({
    name: 'cloudwatch_put_metric_data_total',
    help: 'PutMetricData calls by outcome: ok, invalid (bad input), kinesis_error, throttled, local_store_error',
    labelNames: ['outcome'] as const,
    registers,
  })
  const accepted = new Counter({
    name: 'cloudwatch_datapoints_accepted_total',
    help: 'Datapoints PutMetricData accepted (written to Kinesis, or to the local store)',
    registers,
  })
  const ingested = new Counter({
    name: 'cloudwatch_datapoints_ingested_total',
    help: 'Datapoints aggregated into the query store, by source: kinesis (the consumer) or local_store',
    labelNames: ['source'] as const,
    registers,
  })
  const duplicates = new Counter({
    name: 'cloudwatch_datapoints_duplicate_total',
    help: 'Datapoints read back from Kinesis that were already aggregated (shipped from a local store) and skipped',
    registers,
  })
  const ingestDelay = new Histogram({
    name: 'cloudwatch_ingest_delay_seconds',
    help: 'From PutMetricData accepting a datapoint to the consumer aggregating it',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers,
  })
  const lag = new Gauge({
    name: 'cloudwatch_consumer_lag_ms',
    help: 'Largest MillisBehindLatest among the shards at their last successful GetRecords',
    registers,
  })
  const readAge = new Gauge({
    name: 'cloudwatch_consumer_last_read_age_ms',
    help: 'Time since the least recently read shard last answered GetRecords (grows while Kinesis fails)',
    registers,
  })
  const consumerErrors = new Counter({
    name: 'cloudwatch_consumer_errors_total',
    help: 'Failed consumer calls to Kinesis, by operation and error',
    labelNames: ['operation', 'error'] as const,
    registers,
  })
  const streamReady = new Gauge({ name: 'cloudwatch_stream_ready', help: '1 once the metric stream exists and is ACTIVE', registers })
  const alarmState = new Gauge({
    name: 'cloudwatch_alarm_state',
    help: '1 for the current state of each alarm, 0 for the others',
    labelNames: ['alarm', 'state'] as const,
    registers,
  })
  const transitions = new Counter({
    name: 'cloudwatch_alarm_transitions_total',
    help: 'Alarm state changes, by new state',
    labelNames: ['state'] as const,
    registers,
  })
  const actions = new Counter({
    name: 'cloudwatch_alarm_actions_total',
    help: 'Alarm actions by outcome: delivered, failed (after retries), ignored (not an allowed HTTP URL)',
    labelNames: ['outcome'] as const,
    registers,
  })
  const pending = new Gauge({ name: 'cloudwatch_local_store_pending', help: 'Datapoints in the local store not yet acknowledged by Kinesis', registers })
  const shipped = new Counter({
    name: 'cloudwatch_local_store_shipped_total',
    help: 'Datapoints shipped from the local store to Kinesis (acknowledged)',
    registers,
  })
  const shipErrors = new Counter({
    name: 'cloudwatch_local_store_ship_errors_total',
    help: 'Failed shipping attempts from the local store, by error',
    labelNames: ['error'] as const,
    registers,
  })
  const expired = new Counter({
    name: 'cloudwatch_local_store_expired_total',
    help: 'Pending datapoints dropped from the local store because they outlived its retention',
    registers,
  })

  return {
    call(operation: string, statusCode: number, errorType: string | undefined, durationMs: number) {
      requests.inc({ operation, status: String(statusCode), error: errorType ?? '' })
      latency.observe({ operation }, durationMs / 1000)
    },
    put(outcome: PutOutcomeLabel, datapoints: number) {
      put.inc({ outcome })
      if (outcome === 'ok') accepted.inc(datapoints)
    },
    ingested(source: 'kinesis' | 'local_store', n: number) {
      if (n > 0) ingested.inc({ source }, n)
    },
    duplicates(n: number) {
      if (n > 0) duplicates.inc(n)
    },
    ingestDelay(ms: number) {
      ingestDelay.observe(Math.max(0, ms) / 1000)
    },
    consumer(msBehindLatest: number, lastReadAgeMs: number) {
      lag.set(msBehindLatest)
      readAge.set(lastReadAgeMs)
    },
    consumerError(operation: string, error: string) {
      consumerErrors.inc({ operation, error })
    },
    streamReady(ready: boolean) {
      streamReady.set(ready ? 1 : 0)
    },
    alarmState(alarm: string, state: AlarmState) {
      for (const s of ALARM_STATES) alarmState.set({ alarm, state: s }, s === state ? 1 : 0)
    },
    transition(state: AlarmState) {
      transitions.inc({ state })
    },
    action(outcome: 'delivered' | 'failed' | 'ignored') {
      actions.inc({ outcome })
    },
    pending(n: number) {
      pending.set(n)
    },
    shipped(n: number) {
      shipped.inc(n)
    },
    shipError(error: string) {
      shipErrors.inc({ error })
    },
    expired(n: number) {
      if (n > 0) expired.inc(n)
    },
  }
}

export type CloudWatchMetrics = ReturnType<typeof createCloudWatchMetrics>
