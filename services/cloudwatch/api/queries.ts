// The read side: GetMetricStatistics, GetMetricData and ListMetrics, all served from the query
// store. Periods are any whole number of seconds (experiments compress time; see README.md).
import type { Operation } from '../../kit/index.js'
import { CloudWatchErrors } from '../errors.js'
import { statistic, type StoredMetric } from '../store.js'
import type { CloudWatchContext } from './context.js'
import * as v from '../validate.js'

const MAX_DATAPOINTS_PER_CALL = 1440
const LIST_PAGE = 500
const THREE_HOURS_MS = 3 * 3600_000

function timeRange(input: any): { startMs: number; endMs: number } {
  const startMs = v.required(v.optionalTimestamp(input.StartTime, 'StartTime'), 'StartTime')
  const endMs = v.required(v.optionalTimestamp(input.EndTime, 'EndTime'), 'EndTime')
  if (startMs >= endMs) throw CloudWatchErrors.InvalidParameterValue('The parameter StartTime must be less than the parameter EndTime.')
  return { startMs, endMs }
}

function period(value: unknown, parameter: string): number {
  return v.required(v.optionalInt(value, parameter, 1), parameter)
}

function unitMatches(m: StoredMetric, unit: string | undefined): boolean {
  return unit === undefined || m.unit === unit
}

const noPercentiles = (parameter: string) =>
  CloudWatchErrors.InvalidParameterValue(`${parameter}: percentiles are not supported by outage-lab; use SampleCount, Average, Sum, Minimum or Maximum.`)

export function getMetricStatistics(ctx: CloudWatchContext): Operation {
  return (input) => {
    const namespace = v.namespace(input.Namespace)
    const metricName = v.requiredString(input.MetricName, 'MetricName')
    const dimensions = v.dimensions(input.Dimensions, 'Dimensions')
    const { startMs, endMs } = timeRange(input)
    const periodSec = period(input.Period, 'Period')
    const statistics = (v.optionalList(input.Statistics, 'Statistics', 5) ?? []).map((s, i) => v.optionalEnum(s, `Statistics.member.${i + 1}`, v.STATISTICS)!)
    const extended = v.optionalList(input.ExtendedStatistics, 'ExtendedStatistics', 10) ?? []
    if (extended.length > 0) throw noPercentiles('ExtendedStatistics')
    if (statistics.length === 0) throw CloudWatchErrors.InvalidParameterCombination('Must specify either Statistics or ExtendedStatistics, but not both.')
    const unit = v.optionalEnum(input.Unit, 'Unit', v.UNITS)
    const requested = Math.ceil((endMs - startMs) / 1000 / periodSec)
    if (requested > MAX_DATAPOINTS_PER_CALL) {
      throw CloudWatchErrors.InvalidParameterCombination(
        `You have requested up to ${requested} datapoints, which exceeds the limit of ${MAX_DATAPOINTS_PER_CALL}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
      )
    }
    const metric = ctx.store.get(namespace, metricName, dimensions)
    const series = metric && unitMatches(metric, unit) ? ctx.store.series(metric, startMs, endMs, periodSec) : []
    return {
      Label: metricName,
      Datapoints: series.map(({ startSec, stats }) => {
        const dp: Record<string, unknown> = { Timestamp: startSec }
        for (const s of statistics) dp[s] = statistic(stats, s)
        dp.Unit = metric!.unit
        return dp
      }),
    }
  }
}

interface Query {
  id: string
  label: string
  returnData: boolean
  metric: StoredMetric | undefined
  periodSec: number
  stat: v.Statistic
}

export function getMetricData(ctx: CloudWatchContext): Operation {
  return (input) => {
    const list = v.optionalList(input.MetricDataQueries, 'MetricDataQueries', 500)
    if (!list || list.length === 0) throw CloudWatchErrors.MissingParameter('The parameter MetricDataQueries is required.')
    const { startMs, endMs } = timeRange(input)
    const scanBy = v.optionalEnum(input.ScanBy, 'ScanBy', ['TimestampDescending', 'TimestampAscending'] as const) ?? 'TimestampDescending'
    const maxDatapoints = v.optionalInt(input.MaxDatapoints, 'MaxDatapoints', 1) ?? 100_800
    const offset = v.decodeToken(input.NextToken)
    const ids = new Set<string>()
    const queries: Query[] = list.map((q: any, i) => {
      const p = `MetricDataQueries.member.${i + 1}`
      if (typeof q !== 'object' || q === null) v.invalid(q, p)
      const id = v.requiredString(q.Id, `${p}.Id`)
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) v.invalid(id, `${p}.Id`)
      if (ids.has(id)) throw CloudWatchErrors.InvalidParameterValue(`The value ${id} for parameter ${p}.Id is not unique.`)
      ids.add(id)
      if (q.Expression !== undefined && q.MetricStat !== undefined) {
        throw CloudWatchErrors.InvalidParameterCombination(
          `The parameters ${p}.MetricStat and ${p}.Expression are mutually exclusive and you have specified both.`,
        )
      }
      if (q.Expression !== undefined) throw CloudWatchErrors.InvalidParameterValue(`${p}.Expression: metric math is not supported by outage-lab.`)
      const ms = v.required(q.MetricStat, `${p}.MetricStat`)
      const m = v.required(ms.Metric, `${p}.MetricStat.Metric`)
      const namespace = v.namespace(m.Namespace, `${p}.MetricStat.Metric.Namespace`)
      const metricName = v.requiredString(m.MetricName, `${p}.MetricStat.Metric.MetricName`)
      const dimensions = v.dimensions(m.Dimensions, `${p}.MetricStat.Metric.Dimensions`)
      const periodSec = period(ms.Period, `${p}.MetricStat.Period`)
      const statName = v.requiredString(ms.Stat, `${p}.MetricStat.Stat`)
      if (/^(p|tm|wm|tc|ts|pr|iqm)/i.test(statName)) throw noPercentiles(`${p}.MetricStat.Stat`)
      const stat = v.optionalEnum(statName, `${p}.MetricStat.Stat`, v.STATISTICS)!
      const unit = v.optionalEnum(ms.Unit, `${p}.MetricStat.Unit`, v.UNITS)
      const label = v.optionalString(q.Label, `${p}.Label`, { max: 2048 }) ?? metricName
      const returnData = q.ReturnData === undefined ? true : q.ReturnData === true
      const metric = ctx.store.get(namespace, metricName, dimensions)
      return { id, label, returnData, metric: metric && unitMatches(metric, unit) ? metric : undefined, periodSec, stat }
    })

    // Datapoints of all queries form one sequence; MaxDatapoints and NextToken page through it.
    let position = 0
    let budget = maxDatapoints
    let truncated = false
    const results = queries
      .filter((q) => q.returnData)
      .map((q) => {
        const series = q.metric ? ctx.store.series(q.metric, startMs, endMs, q.periodSec) : []
        if (scanBy === 'TimestampDescending') series.reverse()
        const from = Math.max(0, Math.min(series.length, offset - position))
        const take = Math.max(0, Math.min(series.length - from, budget))
        const page = series.slice(from, from + take)
        position += series.length
        budget -= take
        const complete = from + take === series.length
        if (!complete) truncated = true
        return {
          Id: q.id,
          Label: q.label,
          Timestamps: page.map((x) => x.startSec),
          Values: page.map((x) => statistic(x.stats, q.stat)),
          StatusCode: complete ? 'Complete' : 'PartialData',
        }
      })
    return { MetricDataResults: results, Messages: [], ...(truncated ? { NextToken: v.encodeToken(offset + maxDatapoints) } : {}) }
  }
}

export function listMetrics(ctx: CloudWatchContext): Operation {
  return (input) => {
    const namespace = input.Namespace === undefined ? undefined : v.namespace(input.Namespace)
    const metricName = v.optionalString(input.MetricName, 'MetricName')
    const filters = v.dimensionFilters(input.Dimensions, 'Dimensions')
    const recent = v.optionalEnum(input.RecentlyActive, 'RecentlyActive', ['PT3H'] as const)
    const offset = v.decodeToken(input.NextToken)
    const since = ctx.now() - THREE_HOURS_MS
    const all = ctx.store.list(
      (m) =>
        (namespace === undefined || m.namespace === namespace) &&
        (metricName === undefined || m.metricName === metricName) &&
        (recent === undefined || m.lastTimestampMs >= since) &&
        filters.every(([name, value]) => m.dimensions.some(([n, dv]) => n === name && (value === undefined || dv === value))),
    )
    const page = all.slice(offset, offset + LIST_PAGE)
    return {
      Metrics: page.map((m) => ({ Namespace: m.namespace, MetricName: m.metricName, Dimensions: m.dimensions.map(([Name, Value]) => ({ Name, Value })) })),
      ...(offset + LIST_PAGE < all.length ? { NextToken: v.encodeToken(offset + LIST_PAGE) } : {}),
    }
  }
}
