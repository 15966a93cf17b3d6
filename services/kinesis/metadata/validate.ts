// Input checks for the store's API. Messages follow the AWS wording ("1 validation error
// detected: Value ... at 'streamName' failed to satisfy constraint: ...") so that a front-end can
// pass them through to SDK users unchanged.
import { AwsErrors } from '../../kit/index.js'

export const MAX_SHARDS_PER_STREAM = 10_000
const STREAM_NAME = /^[a-zA-Z0-9_.-]+$/
// Ids of back-ends, members, fleets and cells travel in URL paths and metric labels.
const ID = /^[a-zA-Z0-9_.-]{1,128}$/

const constraint = (value: unknown, field: string, rule: string) =>
  AwsErrors.InvalidArgumentException(`1 validation error detected: Value '${printable(value)}' at '${field}' failed to satisfy constraint: ${rule}`)

function printable(value: unknown): string {
  if (value === undefined) return 'null'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function streamName(value: unknown, field = 'streamName'): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) {
    throw constraint(value, field, 'Member must have length less than or equal to 128 and greater than or equal to 1')
  }
  if (!STREAM_NAME.test(value)) throw constraint(value, field, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+')
  // Kinesis accepts them, but every HTTP client resolves "." and ".." in a URL path, so no
  // front-end could address such a stream on its back-end: refuse them up front, clearly.
  if (value === '.' || value === '..')
    throw AwsErrors.InvalidArgumentException(`Stream name '${value}' is not supported by outage-lab: URL paths cannot carry it.`)
  return value
}

export function shardCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SHARDS_PER_STREAM) {
    throw constraint(value, 'shardCount', `Member must be an integer greater than or equal to 1 and less than or equal to ${MAX_SHARDS_PER_STREAM}`)
  }
  return value
}

export function id(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw constraint(value, field, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]{1,128}')
  }
  return value
}

export function optionalId(value: unknown, field: string): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : id(value, field)
}

export function url(value: unknown, field = 'url'): string {
  if (typeof value === 'string') {
    try {
      const u = new URL(value)
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.host) return value.replace(/\/+$/, '')
    } catch {
      // falls through to the error below
    }
  }
  throw constraint(value, field, 'Member must be an absolute http:// or https:// URL')
}

/** A JSON body that must be an object; fastify leaves it undefined when none was sent. */
export function body(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
  return value as Record<string, unknown>
}
