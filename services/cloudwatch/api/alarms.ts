// PutMetricAlarm and DescribeAlarms. A new alarm starts in INSUFFICIENT_DATA, as CloudWatch's do;
// updating one keeps its state. Period is any whole number of seconds >= 1 (README.md says why).
import type { Operation } from '../../kit/index.js'
import { CloudWatchErrors } from '../errors.js'
import { COMPARISON_OPERATORS, TREAT_MISSING, type Alarm, type AlarmDefinition } from '../alarms.js'
import { isHttpAction } from '../alarm-actions.js'
import { ACCOUNT, type CloudWatchContext } from './context.js'
import * as v from '../validate.js'

const MAX_EVALUATION_RANGE_SEC = 7 * 24 * 3600

function actions(ctx: CloudWatchContext, value: unknown, parameter: string): string[] {
  const list = v.optionalList(value, parameter, 5) ?? []
  return list.map((a, i) => {
    const p = `${parameter}.member.${i + 1}`
    const action = v.requiredString(a, p, { max: 1024 })
    if (/^https?:/i.test(action)) {
      if (!isHttpAction(action, ctx.actionHosts)) {
        throw CloudWatchErrors.InvalidParameterValue(
          `The value ${action} for parameter ${p} is invalid: HTTP actions may only target ${[...ctx.actionHosts].join(', ')} (ALARM_ACTION_HOSTS).`,
        )
      }
    } else if (!action.startsWith('arn:')) v.invalid(action, p)
    return action
  })
}

export function parsePutMetricAlarm(ctx: CloudWatchContext, input: any): AlarmDefinition {
  const alarmName = v.requiredString(input.AlarmName, 'AlarmName')
  if (input.Metrics !== undefined || input.ThresholdMetricId !== undefined) {
    throw CloudWatchErrors.InvalidParameterValue('Metrics and ThresholdMetricId: metric math alarms are not supported by outage-lab.')
  }
  const namespace = v.namespace(input.Namespace)
  const metricName = v.requiredString(input.MetricName, 'MetricName')
  if (input.Statistic !== undefined && input.ExtendedStatistic !== undefined) {
    throw CloudWatchErrors.InvalidParameterCombination('The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.')
  }
  if (input.ExtendedStatistic !== undefined)
    throw CloudWatchErrors.InvalidParameterValue('ExtendedStatistic: percentiles are not supported by outage-lab; use Statistic.')
  const statistic = v.required(v.optionalEnum(input.Statistic, 'Statistic', v.STATISTICS), 'Statistic')
  const periodSec = v.required(v.optionalInt(input.Period, 'Period', 1), 'Period')
  const evaluationPeriods = v.required(v.optionalInt(input.EvaluationPeriods, 'EvaluationPeriods', 1), 'EvaluationPeriods')
  const datapointsToAlarm = v.optionalInt(input.DatapointsToAlarm, 'DatapointsToAlarm', 1) ?? evaluationPeriods
  if (datapointsToAlarm > evaluationPeriods) {
    throw CloudWatchErrors.InvalidParameterCombination(
      `DatapointsToAlarm (${datapointsToAlarm}) must be less than or equal to EvaluationPeriods (${evaluationPeriods}).`,
    )
  }
  if (periodSec * evaluationPeriods > MAX_EVALUATION_RANGE_SEC) {
    throw CloudWatchErrors.InvalidParameterCombination(
      `The evaluation range Period * EvaluationPeriods (${periodSec * evaluationPeriods} seconds) must not exceed ${MAX_EVALUATION_RANGE_SEC} seconds.`,
    )
  }
  return {
    alarmName,
    alarmDescription: v.optionalString(input.AlarmDescription, 'AlarmDescription', { min: 0, max: 1024 }),
    actionsEnabled: input.ActionsEnabled === undefined ? true : input.ActionsEnabled === true,
    okActions: actions(ctx, input.OKActions, 'OKActions'),
    alarmActions: actions(ctx, input.AlarmActions, 'AlarmActions'),
    insufficientDataActions: actions(ctx, input.InsufficientDataActions, 'InsufficientDataActions'),
    namespace,
    metricName,
    dimensions: v.dimensions(input.Dimensions, 'Dimensions'),
    statistic,
    periodSec,
    unit: v.optionalEnum(input.Unit, 'Unit', v.UNITS),
    evaluationPeriods,
    datapointsToAlarm,
    threshold: v.required(v.optionalNumber(input.Threshold, 'Threshold'), 'Threshold'),
    comparisonOperator: v.required(v.optionalEnum(input.ComparisonOperator, 'ComparisonOperator', COMPARISON_OPERATORS), 'ComparisonOperator'),
    treatMissingData: v.optionalEnum(input.TreatMissingData, 'TreatMissingData', TREAT_MISSING) ?? 'missing',
  }
}

export function putMetricAlarm(ctx: CloudWatchContext): Operation {
  return (input) => {
    const def = parsePutMetricAlarm(ctx, input)
    const now = ctx.now()
    const existing = ctx.alarms.get(def.alarmName)
    if (existing) {
      Object.assign(existing, def, { configurationUpdatedMs: now })
      return {}
    }
    if (ctx.alarms.size >= ctx.maxAlarms) throw CloudWatchErrors.LimitExceeded(`The maximum number of alarms (${ctx.maxAlarms}) has been reached.`)
    const alarm: Alarm = {
      ...def,
      arn: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${def.alarmName}`,
      configurationUpdatedMs: now,
      state: 'INSUFFICIENT_DATA',
      stateReason: 'Unchecked: Initial alarm creation',
      stateUpdatedMs: now,
    }
    ctx.alarms.set(def.alarmName, alarm)
    ctx.onAlarmState(alarm)
    return {}
  }
}

export function describeAlarms(ctx: CloudWatchContext): Operation {
  return (input) => {
    const names = (v.optionalList(input.AlarmNames, 'AlarmNames', 100) ?? []).map((n, i) => v.requiredString(n, `AlarmNames.member.${i + 1}`))
    const prefix = v.optionalString(input.AlarmNamePrefix, 'AlarmNamePrefix')
    if (names.length > 0 && prefix !== undefined) {
      throw CloudWatchErrors.InvalidParameterCombination('The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.')
    }
    const state = v.optionalEnum(input.StateValue, 'StateValue', ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const)
    const actionPrefix = v.optionalString(input.ActionPrefix, 'ActionPrefix', { max: 1024 })
    const types = (v.optionalList(input.AlarmTypes, 'AlarmTypes', 2) ?? []).map((t, i) =>
      v.optionalEnum(t, `AlarmTypes.member.${i + 1}`, ['MetricAlarm', 'CompositeAlarm'] as const)!,
    )
    const maxRecords = v.optionalInt(input.MaxRecords, 'MaxRecords', 1, 100) ?? 50
    const offset = v.decodeToken(input.NextToken)
    const wanted = new Set(names)
    const matching =
      types.length > 0 && !types.includes('MetricAlarm')
        ? []
        : [...ctx.alarms.values()]
            .filter(
              (a) =>
                (wanted.size === 0 || wanted.has(a.alarmName)) &&
                (prefix === undefined || a.alarmName.startsWith(prefix)) &&
                (state === undefined || a.state === state) &&
                (actionPrefix === undefined || [...a.alarmActions, ...a.okActions, ...a.insufficientDataActions].some((x) => x.startsWith(actionPrefix))),
            )
            .sort((a, b) => (a.alarmName < b.alarmName ? -1 : a.alarmName > b.alarmName ? 1 : 0))
    const page = matching.slice(offset, offset + maxRecords)
    return {
      MetricAlarms: page.map(toWire),
      CompositeAlarms: [],
      ...(offset + maxRecords < matching.length ? { NextToken: v.encodeToken(offset + maxRecords) } : {}),
    }
  }
}

function toWire(a: Alarm): Record<string, unknown> {
  return {
    AlarmName: a.alarmName,
    AlarmArn: a.arn,
    ...(a.alarmDescription !== undefined ? { AlarmDescription: a.alarmDescription } : {}),
    AlarmConfigurationUpdatedTimestamp: a.configurationUpdatedMs / 1000,
    ActionsEnabled: a.actionsEnabled,
    OKActions: a.okActions,
    AlarmActions: a.alarmActions,
    InsufficientDataActions: a.insufficientDataActions,
    StateValue: a.state,
    StateReason: a.stateReason,
    ...(a.stateReasonData !== undefined ? { StateReasonData: a.stateReasonData } : {}),
    StateUpdatedTimestamp: a.stateUpdatedMs / 1000,
    StateTransitionedTimestamp: a.stateUpdatedMs / 1000,
    MetricName: a.metricName,
    Namespace: a.namespace,
    Statistic: a.statistic,
    Dimensions: a.dimensions.map(([Name, Value]) => ({ Name, Value })),
    Period: a.periodSec,
    ...(a.unit !== undefined ? { Unit: a.unit } : {}),
    EvaluationPeriods: a.evaluationPeriods,
    DatapointsToAlarm: a.datapointsToAlarm,
    Threshold: a.threshold,
    ComparisonOperator: a.comparisonOperator,
    TreatMissingData: a.treatMissingData,
  }
}
