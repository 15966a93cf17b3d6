// PutMetricData: validate every datum as CloudWatch does, turn it into datapoints (Value, Values
// with Counts, or StatisticValues, all pre-aggregated), then hand them to ingestion.
import { randomUUID } from 'node:crypto'
import type { Operation } from '../../kit/index.js'
import { CloudWatchErrors } from '../errors.js'
import { isAwsError } from '../../kit/index.js'
import type { Datapoint } from '../datapoints.js'
import type { PutOutcomeLabel } from '../metrics.js'
import type { CloudWatchContext } from './context.js'
import * as v from '../validate.js'

const TWO_WEEKS_MS = 14 * 24 * 3600_000
const TWO_HOURS_MS = 2 * 3600_000

export function parsePutMetricData(input: any, requestId: string, nowMs: number): Datapoint[] {
  const namespace = v.namespace(input.Namespace)
  if (namespace.startsWith('AWS/')) v.invalid(namespace, 'Namespace')
  const data = v.optionalList(input.MetricData, 'MetricData', 1000)
  if (!data || data.length === 0) throw CloudWatchErrors.MissingParameter('The parameter MetricData is required.')
  const out: Datapoint[] = []
  data.forEach((d: any, i) => {
    const p = `MetricData.member.${i + 1}`
    if (typeof d !== 'object' || d === null) v.invalid(d, p)
    const metricName = v.requiredString(d.MetricName, `${p}.MetricName`)
    const dimensions = v.dimensions(d.Dimensions, `${p}.Dimensions`)
    const timestampMs = v.optionalTimestamp(d.Timestamp, `${p}.Timestamp`) ?? nowMs
    if (timestampMs < nowMs - TWO_WEEKS_MS)
      throw CloudWatchErrors.InvalidParameterValue(`The parameter ${p}.Timestamp must specify a time no more than two weeks in the past.`)
    if (timestampMs > nowMs + TWO_HOURS_MS)
      throw CloudWatchErrors.InvalidParameterValue(`The parameter ${p}.Timestamp must specify a time no more than two hours in the future.`)
    const unit = v.optionalEnum(d.Unit, `${p}.Unit`, v.UNITS) ?? 'None'
    if (d.StorageResolution !== undefined && d.StorageResolution !== 1 && d.StorageResolution !== 60) v.invalid(d.StorageResolution, `${p}.StorageResolution`)
    const given = (['Value', 'Values', 'StatisticValues'] as const).filter((k) => d[k] !== undefined && d[k] !== null)
    if (given.length > 1) {
      throw CloudWatchErrors.InvalidParameterCombination(
        `The parameters ${p}.${given[0]} and ${p}.${given[1]} are mutually exclusive and you have specified both.`,
      )
    }
    if (d.Counts !== undefined && d.Counts !== null && given[0] !== 'Values') {
      throw CloudWatchErrors.InvalidParameterCombination(`The parameter ${p}.Counts can only be specified with ${p}.Values.`)
    }
    if (given.length === 0)
      throw CloudWatchErrors.MissingParameter(`At least one of the parameters ${p}.Value, ${p}.Values or ${p}.StatisticValues must be specified.`)
    const base = { id: `${requestId}:${i}`, namespace, metricName, dimensions, timestampMs, unit, acceptedAtMs: nowMs }

    if (given[0] === 'Value') {
      const value = v.optionalNumber(d.Value, `${p}.Value`)!
      out.push({ ...base, sampleCount: 1, sum: value, min: value, max: value })
    } else if (given[0] === 'Values') {
      const values = v.optionalList(d.Values, `${p}.Values`, 150)!
      const counts = v.optionalList(d.Counts, `${p}.Counts`, 150)
      if (counts && counts.length !== values.length)
        throw CloudWatchErrors.InvalidParameterValue(`The parameters ${p}.Values and ${p}.Counts must be arrays of the same length.`)
      let sampleCount = 0
      let sum = 0
      let min = Infinity
      let max = -Infinity
      values.forEach((raw, j) => {
        const value = v.optionalNumber(raw, `${p}.Values.member.${j + 1}`)!
        const count = counts ? v.optionalNumber(counts[j], `${p}.Counts.member.${j + 1}`)! : 1
        if (count < 0) v.invalid(count, `${p}.Counts.member.${j + 1}`)
        if (count === 0) return
        sampleCount += count
        sum += value * count
        min = Math.min(min, value)
        max = Math.max(max, value)
      })
      if (sampleCount > 0) out.push({ ...base, sampleCount, sum, min, max })
    } else {
      const s = d.StatisticValues
      if (typeof s !== 'object') v.invalid(s, `${p}.StatisticValues`)
      const field = (name: string) => v.required(v.optionalNumber(s[name], `${p}.StatisticValues.${name}`), `${p}.StatisticValues.${name}`)
      const sampleCount = field('SampleCount')
      const sum = field('Sum')
      const min = field('Minimum')
      const max = field('Maximum')
      if (sampleCount <= 0) v.invalid(sampleCount, `${p}.StatisticValues.SampleCount`)
      if (min > max)
        throw CloudWatchErrors.InvalidParameterValue(
          `The parameter ${p}.StatisticValues.Minimum must be less than or equal to the parameter ${p}.StatisticValues.Maximum.`,
        )
      out.push({ ...base, sampleCount, sum, min, max })
    }
  })
  return out
}

export function putMetricData(ctx: CloudWatchContext): Operation {
  return async (input) => {
    let datapoints: Datapoint[]
    try {
      datapoints = parsePutMetricData(input, randomUUID(), ctx.now())
    } catch (err) {
      ctx.metrics.put('invalid', 0)
      throw err
    }
    try {
      if (datapoints.length > 0) await ctx.ingest(datapoints)
    } catch (err) {
      // Ingestion tags its errors with the outcome to count (kinesis_error, throttled, local_store_error).
      ctx.metrics.put((err as { outcome?: PutOutcomeLabel }).outcome ?? 'kinesis_error', 0)
      throw isAwsError(err) ? err : CloudWatchErrors.InternalServiceError(`Internal service error: ${(err as Error).message}`)
    }
    ctx.metrics.put('ok', datapoints.length)
    return {}
  }
}
