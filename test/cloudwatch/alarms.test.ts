// Alarm evaluation on a query store with a fixed clock: OK, ALARM and INSUFFICIENT_DATA over the
// last EvaluationPeriods complete periods, DatapointsToAlarm, and each TreatMissingData.
import t from 'tap'
import { MetricStore } from '../../services/cloudwatch/store.js'
import { evaluate, type AlarmDefinition, type AlarmState } from '../../services/cloudwatch/alarms.js'
import type { Datapoint } from '../../services/cloudwatch/datapoints.js'

const T0 = Date.UTC(2020, 10, 25, 13, 15, 0)

function alarm(over: Partial<AlarmDefinition & { state: AlarmState }> = {}): AlarmDefinition & { state: AlarmState } {
  return {
    alarmName: 'a',
    actionsEnabled: true,
    okActions: [],
    alarmActions: [],
    insufficientDataActions: [],
    namespace: 'App',
    metricName: 'latency',
    dimensions: [['svc', 'web']],
    statistic: 'Average',
    periodSec: 10,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    threshold: 100,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'missing',
    state: 'INSUFFICIENT_DATA',
    ...over,
  }
}

let n = 0
function point(atMs: number, value: number): Datapoint {
  return {
    id: `t:${n++}`,
    namespace: 'App',
    metricName: 'latency',
    dimensions: [['svc', 'web']],
    timestampMs: atMs,
    unit: 'None',
    sampleCount: 1,
    sum: value,
    min: value,
    max: value,
    acceptedAtMs: atMs,
  }
}

t.test('2 of the last 3 periods above the threshold is ALARM, 1 of 3 is OK, none is INSUFFICIENT_DATA', async (t) => {
  const store = new MetricStore({ retentionMs: 3600_000, now: () => T0 + 60_000 })
  const now = T0 + 30_500 // periods [0,10) [10,20) [20,30) are complete
  t.same(evaluate(alarm(), store, now)?.state, 'INSUFFICIENT_DATA')
  t.equal(evaluate(alarm(), store, now)?.reason, 'Insufficient Data: 3 datapoints were unknown.')
  store.add(point(T0 + 1_000, 50))
  store.add(point(T0 + 12_000, 150))
  store.add(point(T0 + 14_000, 130)) // period 2 average 140
  store.add(point(T0 + 30_100, 999)) // the current, incomplete period: not evaluated
  const ok = evaluate(alarm(), store, now)!
  t.equal(ok.state, 'OK')
  t.equal(
    ok.reason,
    'Threshold Crossed: 1 out of the last 3 datapoints [140.0 (25/11/20 13:15:10), 50.0 (25/11/20 13:15:00)] was not greater than the threshold (100.0) (minimum 2 datapoints for ALARM -> OK transition).',
  )
  store.add(point(T0 + 25_000, 101))
  const bad = evaluate(alarm(), store, now)!
  t.equal(bad.state, 'ALARM')
  t.equal(
    bad.reason,
    'Threshold Crossed: 2 out of the last 3 datapoints [101.0 (25/11/20 13:15:20), 140.0 (25/11/20 13:15:10), 50.0 (25/11/20 13:15:00)] were greater than the threshold (100.0) (minimum 2 datapoints for OK -> ALARM transition).',
  )
  t.same(JSON.parse(bad.reasonData).recentDatapoints, [101, 140, 50])
  t.equal(
    evaluate(alarm({ statistic: 'Minimum', comparisonOperator: 'LessThanOrEqualToThreshold', threshold: 50 }), store, now)?.state,
    'OK',
    'only one period at or below 50',
  )
  t.equal(evaluate(alarm({ unit: 'Seconds' }), store, now)?.state, 'INSUFFICIENT_DATA', 'a unit the metric does not carry matches no data')
})

t.test('TreatMissingData decides what periods without datapoints mean', async (t) => {
  const store = new MetricStore({ retentionMs: 3600_000, now: () => T0 })
  const now = T0 + 30_500
  t.equal(evaluate(alarm({ treatMissingData: 'breaching' }), store, now)?.state, 'ALARM')
  t.equal(evaluate(alarm({ treatMissingData: 'notBreaching' }), store, now)?.state, 'OK')
  t.equal(evaluate(alarm({ treatMissingData: 'ignore', state: 'OK' }), store, now), undefined, 'ignore keeps the current state')
  store.add(point(T0 + 21_000, 500))
  t.equal(evaluate(alarm({ treatMissingData: 'missing' }), store, now)?.state, 'OK', 'one breaching datapoint of the 2 needed')
  t.equal(evaluate(alarm({ treatMissingData: 'breaching' }), store, now)?.state, 'ALARM', 'the missing periods count as breaching')
})
