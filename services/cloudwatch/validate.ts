// Input checks shared by the operations. Messages follow CloudWatch's, which name parameters the
// Query way ("MetricData.member.1.Value"), since that is what CloudWatch users see in errors.
import { CloudWatchErrors } from './errors.js'
import type { Dimensions } from './datapoints.js'

export const UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const

export const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const
export type Statistic = (typeof STATISTICS)[number]

export function invalid(value: unknown, parameter: string): never {
  throw CloudWatchErrors.InvalidParameterValue(`The value ${display(value)} for parameter ${parameter} is invalid.`)
}

export function display(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function required<T>(value: T | undefined | null, parameter: string): T {
  if (value === undefined || value === null) throw CloudWatchErrors.MissingParameter(`The parameter ${parameter} is required.`)
  return value
}

export function optionalString(value: unknown, parameter: string, opts: { min?: number; max?: number } = {}): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') invalid(value, parameter)
  const { min = 1, max = 255 } = opts
  if (value.length < min || value.length > max) {
    throw CloudWatchErrors.InvalidParameterValue(`The parameter ${parameter} must be between ${min} and ${max} characters long.`)
  }
  return value
}

export function requiredString(value: unknown, parameter: string, opts: { min?: number; max?: number } = {}): string {
  return required(optionalString(value, parameter, opts), parameter)
}

export function optionalNumber(value: unknown, parameter: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(value, parameter)
  return value
}

export function optionalInt(value: unknown, parameter: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw CloudWatchErrors.InvalidParameterValue(
      `The parameter ${parameter} must be ${max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer between ${min} and ${max}`}; got ${display(value)}.`,
    )
  }
  return value
}

export function optionalEnum<T extends string>(value: unknown, parameter: string, values: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) invalid(value, parameter)
  return value as T
}

export function optionalList(value: unknown, parameter: string, max: number): unknown[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) invalid(value, parameter)
  if (value.length > max) throw CloudWatchErrors.InvalidParameterValue(`The collection ${parameter} must not have a size greater than ${max}.`)
  return value
}

/** A timestamp as the JSON protocol sends it (epoch seconds, possibly fractional) or an ISO string; in ms. */
export function optionalTimestamp(value: unknown, parameter: string): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN
  if (!Number.isFinite(ms)) invalid(value, parameter)
  return ms
}

/** Dimensions of a metric (name and value both required), sorted by name, duplicates refused. */
export function dimensions(value: unknown, parameter: string): Dimensions {
  const list = optionalList(value, parameter, 30) ?? []
  const out: Dimensions = []
  const seen = new Set<string>()
  list.forEach((d, i) => {
    const p = `${parameter}.member.${i + 1}`
    if (typeof d !== 'object' || d === null) invalid(d, p)
    const name = requiredString((d as any).Name, `${p}.Name`)
    const val = requiredString((d as any).Value, `${p}.Value`, { max: 1024 })
    if (seen.has(name)) throw CloudWatchErrors.InvalidParameterValue(`The dimension name ${name} is used more than once in ${parameter}.`)
    seen.add(name)
    out.push([name, val])
  })
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Dimension filters of ListMetrics: the value is optional (any value matches). */
export function dimensionFilters(value: unknown, parameter: string): Array<[string, string | undefined]> {
  const list = optionalList(value, parameter, 30) ?? []
  return list.map((d, i) => {
    const p = `${parameter}.member.${i + 1}`
    if (typeof d !== 'object' || d === null) invalid(d, p)
    return [requiredString((d as any).Name, `${p}.Name`), optionalString((d as any).Value, `${p}.Value`, { max: 1024 })]
  })
}

export function namespace(value: unknown, parameter = 'Namespace'): string {
  const ns = requiredString(value, parameter)
  if (!/^[^:].*$/.test(ns) || /[^\x20-\x7e]/.test(ns)) invalid(ns, parameter)
  return ns
}

/** Opaque pagination tokens: base64 of an offset. A token the service did not hand out is refused. */
export function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64')
}

export function decodeToken(value: unknown): number {
  if (value === undefined || value === null) return 0
  try {
    const o = JSON.parse(Buffer.from(String(value), 'base64').toString('utf8')).o
    if (Number.isInteger(o) && o >= 0) return o
  } catch {
    // refused below
  }
  throw CloudWatchErrors.InvalidNextToken('The service returned an error: the next token is invalid.')
}
