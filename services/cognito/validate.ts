// Input checks in Cognito's words: a missing or malformed member is an InvalidParameterException
// carrying the same "1 validation error detected" sentence AWS's validation layer writes.
import { CognitoErrors } from './errors.js'

const invalid = (detail: string) => CognitoErrors.InvalidParameterException(`1 validation error detected: ${detail}`)

export function str(input: Record<string, unknown>, field: string, opts: { min?: number; max?: number; pattern?: RegExp; optional?: boolean } = {}): string {
  const member = field[0].toLowerCase() + field.slice(1)
  const v = input[field]
  if (v === undefined || v === null) {
    if (opts.optional) return ''
    throw invalid(`Value null at '${member}' failed to satisfy constraint: Member must not be null`)
  }
  if (typeof v !== 'string') throw invalid(`Value at '${member}' failed to satisfy constraint: Member must be a string`)
  const { min = 1, max = 2048 } = opts
  if (v.length < min || v.length > max)
    throw invalid(
      `Value at '${member}' failed to satisfy constraint: Member must have length ${v.length < min ? 'greater than or equal to ' + min : 'less than or equal to ' + max}`,
    )
  if (opts.pattern && !opts.pattern.test(v))
    throw invalid(
      `Value at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${opts.pattern.source.replace(/^\^|\$$/g, '')}`,
    )
  return v
}

export function optionalStr(input: Record<string, unknown>, field: string, opts: { min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
  return input[field] === undefined || input[field] === null ? undefined : str(input, field, opts)
}

export function bool(input: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = input[field]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') throw invalid(`Value at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must be a boolean`)
  return v
}

export function int(input: Record<string, unknown>, field: string, opts: { min: number; max: number }): number | undefined {
  const v = input[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) {
    throw invalid(
      `Value at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must have value between ${opts.min} and ${opts.max}`,
    )
  }
  return v
}

export function oneOf<T extends string>(input: Record<string, unknown>, field: string, values: readonly T[]): T {
  const v = str(input, field)
  if (!(values as readonly string[]).includes(v)) {
    throw invalid(
      `Value '${v}' at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
    )
  }
  return v as T
}

export function stringMap(input: Record<string, unknown>, field: string): Record<string, string> {
  const v = input[field]
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw invalid(`Value at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must be a map of strings`)
  }
  return v as Record<string, string>
}

/** [{Name, Value}] as Cognito's AttributeType list. */
export function attributes(input: Record<string, unknown>, field: string): Record<string, string> {
  const v = input[field]
  if (v === undefined || v === null) return {}
  const bad = () => invalid(`Value at '${field[0].toLowerCase() + field.slice(1)}' failed to satisfy constraint: Member must be a list of {Name, Value}`)
  if (!Array.isArray(v)) throw bad()
  const out: Record<string, string> = Object.create(null)
  for (const a of v) {
    if (
      !a ||
      typeof a !== 'object' ||
      typeof a.Name !== 'string' ||
      a.Name.length < 1 ||
      a.Name.length > 32 ||
      (a.Value !== undefined && typeof a.Value !== 'string')
    )
      throw bad()
    out[a.Name] = a.Value ?? ''
  }
  return out
}

export const PATTERNS = {
  userPoolId: /^[\w-]+_[0-9a-zA-Z]+$/,
  clientId: /^[\w+]+$/,
  username: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u,
  poolName: /^[\w\s+=,.@-]+$/,
  clientName: /^[\w\s+=,.@-]+$/,
} as const
