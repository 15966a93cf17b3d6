// Checks on what front-ends send. Front-ends validate first with Kinesis's rules; these keep a
// back-end safe from a buggy or foreign caller, in the same words Kinesis would use.
import { AwsErrors } from '../../kit/index.js'
import type { AppendRecord } from './shard-log.js'
import { shardIndexOf } from './sequence.js'

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/
/** base64 of 1 MiB. */
const MAX_DATA_CHARS = Math.ceil((1024 * 1024) / 3) * 4
export const MAX_RECORDS_PER_APPEND = 10_000
export const GET_RECORDS_MAX = 10_000
export const ITERATOR_TYPES = ['AFTER_SEQUENCE_NUMBER', 'LATEST', 'AT_TIMESTAMP', 'AT_SEQUENCE_NUMBER', 'TRIM_HORIZON'] as const
export type IteratorType = (typeof ITERATOR_TYPES)[number]

const constraint = (value: unknown, field: string, rule: string) =>
  AwsErrors.ValidationException(
    `1 validation error detected: Value '${typeof value === 'string' ? value : JSON.stringify(value ?? null)}' at '${field}' failed to satisfy constraint: ${rule}`,
  )

export function streamName(value: unknown): string {
  if (typeof value !== 'string' || !STREAM_NAME.test(value))
    throw constraint(value, 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+')
  return value
}

export function shardId(value: unknown): string {
  if (typeof value !== 'string' || shardIndexOf(value) === undefined)
    throw constraint(value, 'shardId', 'Member must satisfy regular expression pattern: shardId-[0-9]{12}')
  return value
}

export function body(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
  return value as Record<string, unknown>
}

export function records(value: unknown): AppendRecord[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_RECORDS_PER_APPEND) {
    throw constraint(
      Array.isArray(value) ? `[${value.length} records]` : value,
      'records',
      `Member must have length less than or equal to ${MAX_RECORDS_PER_APPEND} and greater than or equal to 1`,
    )
  }
  for (let i = 0; i < value.length; i++) {
    const r = value[i]
    if (typeof r !== 'object' || r === null) throw constraint(r, `records.${i + 1}.member`, 'Member must be an object')
    const { data, partitionKey } = r as Record<string, unknown>
    if (typeof data !== 'string' || data.length > MAX_DATA_CHARS)
      throw constraint(
        typeof data === 'string' ? `${data.length} base64 characters` : data,
        `records.${i + 1}.member.data`,
        'Member must be base64 of at most 1048576 bytes',
      )
    if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > 256) {
      throw constraint(partitionKey, `records.${i + 1}.member.partitionKey`, 'Member must have length less than or equal to 256 and greater than or equal to 1')
    }
  }
  return value as AppendRecord[]
}

export function limit(value: unknown): number {
  if (value === undefined || value === null) return GET_RECORDS_MAX
  if (typeof value !== 'number' || !Number.isInteger(value)) throw constraint(value, 'limit', 'Member must be an integer')
  if (value < 1) throw constraint(value, 'limit', 'Member must have value greater than or equal to 1')
  if (value > GET_RECORDS_MAX) throw constraint(value, 'limit', `Member must have value less than or equal to ${GET_RECORDS_MAX}`)
  return value
}

export function iteratorType(value: unknown): IteratorType {
  if (typeof value !== 'string' || !(ITERATOR_TYPES as readonly string[]).includes(value)) {
    throw constraint(value, 'shardIteratorType', `Member must satisfy enum value set: [${ITERATOR_TYPES.join(', ')}]`)
  }
  return value as IteratorType
}
