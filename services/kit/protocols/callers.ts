// Calls per caller, as CloudTrail would attribute them: by the access key id that signed the call,
// and by the wire protocol it spoke (which tells the SDK generation: rpcv2Cbor is a current botocore,
// awsQuery an older one or the CLI v2 of Debian, awsCbor the Java SDK). A customer's break then has a cause on the service side too: its own
// key's calls failing (or slowing) while others' do not. Labels stay bounded: the service's configured
// keys always get their own, other keys take free places up to MAX_CALLERS, the rest count as
// "other"; unsigned calls are "anonymous"; an operation the service does not have is "unknown".
import { Counter, Summary, type Registry } from 'prom-client'
import { outcomeOf } from '../served-requests.js'
import type { WireProtocol } from './detect.js'

export const MAX_CALLERS = 64
/** Access key ids are 16 to 128 characters; anything longer is not one. */
const MAX_KEY_LENGTH = 128
const CREDENTIAL = /Credential=([^/\s,]+)\//

/** The wire protocols of the AWS APIs (detect.ts), and Lambda's REST JSON, which routes by path. */
export type CallerProtocol = WireProtocol | 'restJson1'

export interface CallerMetrics {
  /** One finished call: the caller's access key id ('' when unsigned), the operation as declared or 'unknown'. */
  record(call: { accessKeyId: string; operation: string; protocol: CallerProtocol; statusCode: number; seconds: number }): void
  /** The label a key is counted under. */
  label(accessKeyId: string): string
  /** A configured key: always counted under its own label. */
  know(accessKeyId: string): void
}

const byRegistry = new WeakMap<Registry, CallerMetrics>()

/** The registry's caller metrics, created on first use (a service registering two APIs shares them). */
export function callerMetrics(registry: Registry, knownKeys: Iterable<string>): CallerMetrics {
  let metrics = byRegistry.get(registry)
  if (!metrics) {
    metrics = createCallerMetrics(registry)
    byRegistry.set(registry, metrics)
  }
  for (const key of knownKeys) metrics.know(key)
  return metrics
}

function createCallerMetrics(registry: Registry): CallerMetrics {
  const calls = new Counter({
    name: 'lab_caller_calls_total',
    help: 'AWS API calls by caller (the signing access key id), operation, wire protocol and outcome (ok, client_error, server_error)',
    labelNames: ['caller', 'operation', 'protocol', 'outcome'] as const,
    registers: [registry],
  })
  // Sum and count only (no quantiles, no buckets): two series per caller, which the harness keeps
  // for every service and every second; the mean per caller and interval comes from their rates.
  const seconds = new Summary({
    name: 'lab_caller_call_seconds',
    help: 'AWS API call latency by caller, as the service measured it (sum and count)',
    labelNames: ['caller'] as const,
    percentiles: [],
    registers: [registry],
  })
  const known = new Set<string>()
  const others = new Set<string>()
  const label = (key: string) => {
    if (!key) return 'anonymous'
    if (known.has(key) || others.has(key)) return key
    if (known.size + others.size >= MAX_CALLERS || key.length > MAX_KEY_LENGTH) return 'other'
    others.add(key)
    return key
  }
  return {
    label,
    know(key) {
      if (key) known.add(key)
    },
    record(call) {
      const caller = label(call.accessKeyId)
      calls.inc({ caller, operation: call.operation, protocol: call.protocol, outcome: outcomeOf(call.statusCode, true) })
      seconds.observe({ caller }, call.seconds)
    },
  }
}

/** The access key id an Authorization header names, verified or not ('' without one). */
export function accessKeyOf(authorization: string | string[] | undefined): string {
  const value = Array.isArray(authorization) ? authorization[0] : authorization
  return (value && CREDENTIAL.exec(value)?.[1]) || ''
}
