// Fault rules, shared by the outbound interceptor (faults.ts) and the inbound plugin
// (inbound-faults.ts); the admin API edits them while a run goes on. A rule is validated when it is
// added, not per request, and draws from a seeded random so a run with the same seed repeats.
import { AwsErrors } from './errors.js'
import { seededRandom, type Random } from './prng.js'

export const FAULT_KINDS = ['latency', 'error', 'reset', 'hang'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultMatch {
  /** Outbound: "http://127.0.0.1:4100"; inbound: ignored. */
  origin?: string
  pathPrefix?: string
  method?: string
  /** The AWS operation, from X-Amz-Target's suffix ("PutRecords"). */
  operation?: string
}

export interface FaultRule {
  id: string
  kind: FaultKind
  match: FaultMatch
  /** Chance a matching request is hit, 0..1. */
  probability: number
  /** latency: added delay; hang: how long before the connection is dropped. */
  delayMs: number
  /** error: HTTP status and AWS error type of the synthetic answer. */
  status: number
  errorType: string
}

export interface FaultRequest {
  origin?: string
  path: string
  method: string
  operation?: string
}

let nextId = 1

export class FaultSet {
  #rules: FaultRule[] = []
  #random: Random

  constructor(seed: number | string = 1) {
    this.#random = seededRandom(seed)
  }

  add(input: unknown): FaultRule {
    const rule = validateRule(input)
    this.#rules = this.#rules.filter((r) => r.id !== rule.id).concat(rule)
    return rule
  }

  remove(id: string): boolean {
    const before = this.#rules.length
    this.#rules = this.#rules.filter((r) => r.id !== id)
    return this.#rules.length < before
  }

  clear(): number {
    const n = this.#rules.length
    this.#rules = []
    return n
  }

  list(): FaultRule[] {
    return [...this.#rules]
  }

  get size(): number {
    return this.#rules.length
  }

  /** The first rule that matches and whose probability draw hits, if any. */
  pick(req: FaultRequest): FaultRule | undefined {
    for (const rule of this.#rules) {
      if (!matches(rule.match, req)) continue
      if (rule.probability >= 1 || this.#random() < rule.probability) return rule
    }
    return undefined
  }
}

function matches(m: FaultMatch, req: FaultRequest): boolean {
  if (m.origin && req.origin !== m.origin) return false
  if (m.pathPrefix && !req.path.startsWith(m.pathPrefix)) return false
  if (m.method && req.method.toUpperCase() !== m.method.toUpperCase()) return false
  if (m.operation && req.operation !== m.operation) return false
  return true
}

function validateRule(input: unknown): FaultRule {
  const bad = (field: string, expected: string, got: unknown) =>
    AwsErrors.ValidationException(`fault rule: ${field}: expected ${expected}, got ${JSON.stringify(got)}`)
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('(rule)', 'an object', input)
  const r = input as Record<string, unknown>
  if (!FAULT_KINDS.includes(r.kind as FaultKind)) throw bad('kind', `one of ${FAULT_KINDS.join(', ')}`, r.kind)
  const kind = r.kind as FaultKind
  const probability = r.probability ?? 1
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) throw bad('probability', 'a number in [0, 1]', r.probability)
  const delayMs = r.delayMs ?? (kind === 'hang' ? 3_600_000 : 0)
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw bad('delayMs', 'a number of milliseconds >= 0', r.delayMs)
  if (kind === 'latency' && delayMs === 0) throw bad('delayMs', 'a delay > 0 for a latency fault', r.delayMs)
  const status = r.status ?? 500
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) throw bad('status', 'an HTTP error status 400..599', r.status)
  const errorType = r.errorType ?? (status === 503 ? 'ServiceUnavailable' : status >= 500 ? 'InternalFailure' : 'ValidationException')
  if (typeof errorType !== 'string' || !errorType) throw bad('errorType', 'a non-empty string', r.errorType)
  const match = (r.match ?? {}) as Record<string, unknown>
  if (typeof match !== 'object' || Array.isArray(match)) throw bad('match', 'an object', r.match)
  for (const key of Object.keys(match)) {
    if (!['origin', 'pathPrefix', 'method', 'operation'].includes(key)) throw bad(`match.${key}`, 'one of origin, pathPrefix, method, operation', key)
    if (typeof match[key] !== 'string') throw bad(`match.${key}`, 'a string', match[key])
  }
  const id = r.id ?? `fault-${nextId++}`
  if (typeof id !== 'string' || !id) throw bad('id', 'a non-empty string', r.id)
  return { id, kind, match: match as FaultMatch, probability, delayMs, status, errorType }
}

/** "Kinesis_20131202.PutRecords" -> "PutRecords". */
export function operationOf(target: unknown): string | undefined {
  if (typeof target !== 'string') return undefined
  const dot = target.lastIndexOf('.')
  return dot >= 0 ? target.slice(dot + 1) : target
}
