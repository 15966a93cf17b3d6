// Small readers for an untyped YAML tree: each returns the value (or its default) and records an
// issue with the path and the expectation when the value is wrong, so one pass reports every
// problem of a file instead of the first.
import { describe, type Issue } from './errors.js'
import { DURATION_EXPECTED, parseDuration } from './duration.js'

export type Obj = Record<string, unknown>

export const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`)
export const at = (path: string, i: number) => `${path}[${i}]`

export function isMap(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export class Checker {
  readonly issues: Issue[] = []

  bad(path: string, expected: string, got: unknown): void {
    this.issues.push({ path, expected, got: describe(got) })
  }

  /** Records an issue whose `got` is already phrased ("neither", "an unknown key"). */
  badText(path: string, expected: string, got: string): void {
    this.issues.push({ path, expected, got })
  }

  /** A map with only the given keys; unknown keys are reported one by one. */
  map(v: unknown, path: string, keys: readonly string[], expected = 'a map'): Obj | undefined {
    if (!isMap(v)) {
      this.bad(path || '(top level)', expected, v)
      return undefined
    }
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.bad(join(path, k), `a known key (${keys.join(', ')})`, k)
    }
    return v
  }

  /** A map whose keys are the user's own (environment variables, headers): only its shape is checked. */
  freeMap(v: unknown, path: string, expected: string): Obj | undefined {
    if (!isMap(v)) {
      this.bad(path, expected, v)
      return undefined
    }
    return v
  }

  list(v: unknown, path: string, expected = 'a list'): unknown[] | undefined {
    if (!Array.isArray(v)) {
      this.bad(path, expected, v)
      return undefined
    }
    return v
  }

  required(o: Obj, key: string, path: string, expected: string): boolean {
    if (o[key] === undefined || o[key] === null) {
      this.bad(join(path, key), expected, undefined)
      return false
    }
    return true
  }

  string(o: Obj, key: string, path: string, opts: { required?: boolean; default?: string } = {}): string | undefined {
    const v = o[key]
    if (v === undefined || v === null) {
      if (opts.required) this.bad(join(path, key), 'a non-empty string', undefined)
      return opts.default
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.bad(join(path, key), 'a non-empty string', v)
      return opts.default
    }
    return v
  }

  integer(o: Obj, key: string, path: string, min: number, max: number, dflt?: number): number | undefined {
    const v = o[key]
    if (v === undefined || v === null) {
      if (dflt === undefined) this.bad(join(path, key), intExpected(min, max), undefined)
      return dflt
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.bad(join(path, key), intExpected(min, max), v)
      return dflt
    }
    return v
  }

  /** A finite number in [min, max], or > min when `exclusiveMin`. */
  number(o: Obj, key: string, path: string, range: { min: number; max?: number; exclusiveMin?: boolean }, dflt?: number): number | undefined {
    const v = o[key]
    const expected = numExpected(range)
    if (v === undefined || v === null) {
      if (dflt === undefined) this.bad(join(path, key), expected, undefined)
      return dflt
    }
    const max = range.max ?? Number.POSITIVE_INFINITY
    if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (range.exclusiveMin ? v <= range.min : v < range.min)) {
      this.bad(join(path, key), expected, v)
      return dflt
    }
    return v
  }

  boolean(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key]
    if (v === undefined || v === null) return dflt
    if (typeof v !== 'boolean') {
      this.bad(join(path, key), 'true or false', v)
      return dflt
    }
    return v
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], dflt?: T): T | undefined {
    const v = o[key]
    if (v === undefined || v === null) {
      if (dflt === undefined) this.bad(join(path, key), `one of ${values.join(', ')}`, undefined)
      return dflt
    }
    if (!values.includes(v as T)) {
      this.bad(join(path, key), `one of ${values.join(', ')}`, v)
      return dflt
    }
    return v as T
  }

  /** Milliseconds; `positive` refuses 0. */
  duration(o: Obj, key: string, path: string, opts: { default?: number; positive?: boolean } = {}): number | undefined {
    const v = o[key]
    const expected = opts.positive ? `${DURATION_EXPECTED} (more than 0)` : DURATION_EXPECTED
    if (v === undefined || v === null) {
      if (opts.default === undefined) this.bad(join(path, key), expected, undefined)
      return opts.default
    }
    const ms = parseDuration(v)
    if (ms === undefined || (opts.positive && ms <= 0)) {
      this.bad(join(path, key), expected, v)
      return opts.default
    }
    return ms
  }

  stringList<T extends string>(o: Obj, key: string, path: string, values?: readonly T[]): T[] | undefined {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    const list = this.list(v, join(path, key), values ? `a list of ${values.join(', ')}` : 'a list of strings')
    if (!list) return undefined
    const out: T[] = []
    list.forEach((item, i) => {
      if (values ? !values.includes(item as T) : typeof item !== 'string' || item === '') {
        this.bad(at(join(path, key), i), values ? `one of ${values.join(', ')}` : 'a non-empty string', item)
      } else out.push(item as T)
    })
    return out
  }
}

export function intExpected(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`
}

function numExpected(r: { min: number; max?: number; exclusiveMin?: boolean }): string {
  if (r.max === undefined) return r.exclusiveMin ? `a number > ${r.min}` : `a number >= ${r.min}`
  return r.exclusiveMin ? `a number in (${r.min}, ${r.max}]` : `a number in [${r.min}, ${r.max}]`
}
