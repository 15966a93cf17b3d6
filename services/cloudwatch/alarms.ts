// Metric alarms: their definition (PutMetricAlarm's fields), their state, and one evaluation. An
// evaluation reads the last EvaluationPeriods complete periods of the metric from the query store:
// DatapointsToAlarm of them breaching -> ALARM, otherwise OK, none at all -> INSUFFICIENT_DATA
// (TreatMissingData "missing", the default), the state CloudWatch alarms went to on 2020-11-25.
import type { Dimensions } from './datapoints.js'
import { statistic, type MetricStore } from './store.js'
import type { Statistic } from './validate.js'

export const COMPARISON_OPERATORS = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number]
export const TREAT_MISSING = ['missing', 'breaching', 'notBreaching', 'ignore'] as const
export type TreatMissingData = (typeof TREAT_MISSING)[number]
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'
export const ALARM_STATES: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA']

export interface AlarmDefinition {
  alarmName: string
  alarmDescription?: string
  actionsEnabled: boolean
  okActions: string[]
  alarmActions: string[]
  insufficientDataActions: string[]
  namespace: string
  metricName: string
  dimensions: Dimensions
  statistic: Statistic
  periodSec: number
  unit?: string
  evaluationPeriods: number
  datapointsToAlarm: number
  threshold: number
  comparisonOperator: ComparisonOperator
  treatMissingData: TreatMissingData
}

export interface Alarm extends AlarmDefinition {
  arn: string
  configurationUpdatedMs: number
  state: AlarmState
  stateReason: string
  stateReasonData?: string
  stateUpdatedMs: number
}

export interface Evaluation {
  state: AlarmState
  reason: string
  reasonData: string
}

const OPERATOR_WORDS: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
}

export function breaches(op: ComparisonOperator, value: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold
    case 'GreaterThanThreshold':
      return value > threshold
    case 'LessThanThreshold':
      return value < threshold
    case 'LessThanOrEqualToThreshold':
      return value <= threshold
  }
}

/** One evaluation at nowMs. Undefined: keep the current state (TreatMissingData "ignore" with no data). */
export function evaluate(alarm: AlarmDefinition & { state: AlarmState }, store: MetricStore, nowMs: number): Evaluation | undefined {
  const p = alarm.periodSec
  const endSec = Math.floor(nowMs / 1000 / p) * p
  const metric = store.get(alarm.namespace, alarm.metricName, alarm.dimensions)
  const usable = metric && (alarm.unit === undefined || metric.unit === alarm.unit) ? metric : undefined
  // Newest period first, as CloudWatch lists "the last N datapoints".
  const periods: Array<{ startSec: number; value: number | undefined }> = []
  for (let k = 0; k < alarm.evaluationPeriods; k++) {
    const startSec = endSec - (k + 1) * p
    const stats = usable ? store.aggregate(usable, startSec, startSec + p) : undefined
    periods.push({ startSec, value: stats ? statistic(stats, alarm.statistic) : undefined })
  }
  const present = periods.filter((x) => x.value !== undefined)
  const missing = periods.length - present.length
  let breaching = present.filter((x) => breaches(alarm.comparisonOperator, x.value!, alarm.threshold)).length
  let counted = present.length
  if (alarm.treatMissingData === 'breaching') {
    breaching += missing
    counted += missing
  } else if (alarm.treatMissingData === 'notBreaching') counted += missing

  const reasonData = JSON.stringify({
    version: '1.0',
    queryDate: new Date(nowMs).toISOString(),
    startDate: new Date((endSec - alarm.evaluationPeriods * p) * 1000).toISOString(),
    statistic: alarm.statistic,
    period: p,
    recentDatapoints: present.map((x) => x.value),
    threshold: alarm.threshold,
    evaluatedDatapoints: present.map((x) => ({ timestamp: new Date(x.startSec * 1000).toISOString(), value: x.value })),
  })
  if (counted === 0) {
    if (alarm.treatMissingData === 'ignore') return undefined
    const n = alarm.evaluationPeriods
    return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${n} datapoint${n === 1 ? ' was' : 's were'} unknown.`, reasonData }
  }
  const shown = present.map((x) => `${fmt(x.value!)} (${stamp(x.startSec)})`).join(', ')
  const words = OPERATOR_WORDS[alarm.comparisonOperator]
  const m = alarm.datapointsToAlarm
  const minimum = `minimum ${m} datapoint${m === 1 ? '' : 's'}`
  if (breaching >= m) {
    return {
      state: 'ALARM',
      reason: `Threshold Crossed: ${breaching} out of the last ${alarm.evaluationPeriods} datapoints [${shown}] ${breaching === 1 ? 'was' : 'were'} ${words} the threshold (${fmt(alarm.threshold)}) (${minimum} for OK -> ALARM transition).`,
      reasonData,
    }
  }
  const fine = counted - breaching
  return {
    state: 'OK',
    reason: `Threshold Crossed: ${fine} out of the last ${alarm.evaluationPeriods} datapoints [${shown}] ${fine === 1 ? 'was' : 'were'} not ${words} the threshold (${fmt(alarm.threshold)}) (${minimum} for ALARM -> OK transition).`,
    reasonData,
  }
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v)
}

/** "26/11/26 01:40:05", CloudWatch's dd/MM/yy HH:mm:ss in UTC. */
function stamp(sec: number): string {
  const d = new Date(sec * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
}
