// What the operations share: the query store, the alarms, the ingestion path and a clock.
import type { Datapoint } from '../datapoints.js'
import type { MetricStore } from '../store.js'
import type { Alarm } from '../alarms.js'
import type { CloudWatchMetrics } from '../metrics.js'

export interface CloudWatchContext {
  store: MetricStore
  alarms: Map<string, Alarm>
  /** Hands accepted datapoints to Kinesis (or to the local store); throws a CloudWatch error. */
  ingest: (datapoints: Datapoint[]) => Promise<void>
  metrics: CloudWatchMetrics
  now: () => number
  /** Hosts an http(s) alarm action may target. */
  actionHosts: Set<string>
  /** An alarm's state changed through PutMetricAlarm (created): keep the gauge right. */
  onAlarmState: (alarm: Alarm) => void
  maxAlarms: number
}

export const ACCOUNT = '000000000000'
