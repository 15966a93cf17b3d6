// Input checks in the two phases Kinesis (a Coral service) runs them: first every member must
// deserialize into its declared type (else SerializationException, the first bad member wins),
// then the modelled constraints are checked and reported together, up to ten, as one
// ValidationException: "2 validation errors detected: Value '...' at 'streamName' failed to
// satisfy constraint: ...". Operation-level rules (InvalidArgumentException) come after, in the
// operations themselves. Specs are plain data, declared once per operation.
import { AwsErrors } from '../../kit/index.js'

export type Spec = StringSpec | IntegerSpec | BooleanSpec | TimestampSpec | BlobSpec | ListSpec | StructureSpec

interface Common {
  notNull?: boolean
}
export interface StringSpec extends Common {
  type: 'String'
  pattern?: string
  minLength?: number
  maxLength?: number
  enum?: readonly string[]
}
export interface IntegerSpec extends Common {
  type: 'Integer'
  min?: number
  max?: number
}
export interface BooleanSpec extends Common {
  type: 'Boolean'
}
export interface TimestampSpec extends Common {
  type: 'Timestamp'
}
export interface BlobSpec extends Common {
  type: 'Blob'
  maxLength?: number
}
export interface ListSpec extends Common {
  type: 'List'
  member: Spec
  minLength?: number
  maxLength?: number
  /** How Coral prints a member of this list in a message (Java's Object.toString). */
  memberStr?: string
}
export interface StructureSpec extends Common {
  type: 'Structure'
  fields: Record<string, Spec>
}

const MAX_REPORTED = 10
const BASE64_BAD = /[^a-zA-Z0-9+/=]|=[^=]/

/** Decoded size of a base64 string without decoding it. */
export function base64Length(s: string): number {
  if (s.length === 0) return 0
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  return (s.length / 4) * 3 - pad
}

/**
 * Checks `input` against the operation's fields and returns it; throws the error Kinesis would.
 * Unknown members are ignored, as Coral does.
 */
export function validate<T>(input: Record<string, unknown>, fields: Record<string, Spec>): T {
  for (const [name, spec] of Object.entries(fields)) checkType(input[name], spec)
  const errors: string[] = []
  checkFields(input, fields, '', errors)
  if (errors.length > 0) {
    throw AwsErrors.ValidationException(`${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${errors.join('; ')}`)
  }
  return input as T
}

function serialization(message: string) {
  return AwsErrors.SerializationException(message)
}

function checkType(value: unknown, spec: Spec): void {
  if (value === undefined || value === null) return
  const t = typeof value
  // JSON cannot carry NaN or an infinity; CBOR can (a float where an integer or a time belongs).
  if (t === 'number' && !Number.isFinite(value) && (spec.type === 'Integer' || spec.type === 'Timestamp'))
    throw serialization(`${String(value)} can not be converted to ${spec.type === 'Integer' ? 'an Integer' : 'milliseconds since epoch'}`)
  const structural = () => {
    if (Array.isArray(value)) return serialization('Start of list found where not expected')
    return serialization('Start of structure or map found where not expected.')
  }
  switch (spec.type) {
    case 'String':
      if (t === 'boolean') throw serialization('class java.lang.Boolean can not be converted to an String')
      if (t === 'number') throw serialization('class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String')
      if (t === 'object') throw structural()
      return
    case 'Integer':
      if (t === 'boolean') throw serialization('class java.lang.Boolean can not be converted to an Integer')
      if (t === 'string') throw serialization('class java.lang.String can not be converted to an Integer')
      if (t === 'object') throw structural()
      return
    case 'Boolean':
      if (t === 'number') throw serialization('class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean')
      if (t === 'string') throw serialization(`'${String(value).toUpperCase()}' can not be converted to an Boolean`)
      if (t === 'object') throw structural()
      return
    case 'Timestamp':
      if (t === 'boolean') throw serialization('class java.lang.Boolean can not be converted to milliseconds since epoch')
      if (t === 'string') throw serialization('class java.lang.String can not be converted to milliseconds since epoch')
      if (t === 'object') throw structural()
      return
    case 'Blob': {
      if (t === 'boolean') throw serialization('class java.lang.Boolean can not be converted to a Blob')
      if (t === 'number') throw serialization('class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob')
      if (t === 'object') throw structural()
      const s = value as string
      if (s.length % 4 !== 0) {
        throw serialization(`'${s}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: ${s.length}`)
      }
      const bad = BASE64_BAD.exec(s)
      if (bad) throw serialization(`'${s}' can not be converted to a Blob: Invalid Base64 character: '${bad[0][0]}'`)
      return
    }
    case 'List':
      if (t !== 'object') throw serialization('Expected list or null')
      if (!Array.isArray(value)) throw serialization('Start of structure or map found where not expected.')
      for (const member of value) checkType(member, spec.member)
      return
    case 'Structure':
      if (t !== 'object') throw serialization('Expected null')
      if (Array.isArray(value)) throw serialization('Start of list found where not expected')
      for (const [name, child] of Object.entries(spec.fields)) checkType((value as Record<string, unknown>)[name], child)
      return
  }
}

function checkFields(obj: Record<string, unknown>, fields: Record<string, Spec>, parent: string, errors: string[]): void {
  for (const [name, spec] of Object.entries(fields)) {
    if (errors.length >= MAX_REPORTED) return
    checkValue(obj[name], spec, `${parent}${lowerFirst(name)}`, errors)
  }
}

function checkValue(value: unknown, spec: Spec, path: string, errors: string[]): void {
  const fail = (rule: string) => {
    if (errors.length < MAX_REPORTED) errors.push(`Value ${printed(value, spec)} at '${path}' failed to satisfy constraint: ${rule}`)
  }
  if (value === undefined || value === null) {
    if (spec.notNull) fail('Member must not be null')
    return
  }
  switch (spec.type) {
    case 'Integer': {
      const n = value as number
      if (spec.min !== undefined && n < spec.min) fail(`Member must have value greater than or equal to ${spec.min}`)
      if (spec.max !== undefined && n > spec.max) fail(`Member must have value less than or equal to ${spec.max}`)
      return
    }
    case 'String': {
      const s = value as string
      if (spec.pattern !== undefined && !compiled(spec.pattern).test(s)) fail(`Member must satisfy regular expression pattern: ${spec.pattern}`)
      if (spec.minLength !== undefined && s.length < spec.minLength) fail(`Member must have length greater than or equal to ${spec.minLength}`)
      if (spec.maxLength !== undefined && s.length > spec.maxLength) fail(`Member must have length less than or equal to ${spec.maxLength}`)
      if (spec.enum !== undefined && !spec.enum.includes(s)) fail(`Member must satisfy enum value set: [${spec.enum.join(', ')}]`)
      return
    }
    case 'Blob':
      if (spec.maxLength !== undefined && base64Length(value as string) > spec.maxLength)
        fail(`Member must have length less than or equal to ${spec.maxLength}`)
      return
    case 'List': {
      const list = value as unknown[]
      if (spec.minLength !== undefined && list.length < spec.minLength) fail(`Member must have length greater than or equal to ${spec.minLength}`)
      if (spec.maxLength !== undefined && list.length > spec.maxLength) fail(`Member must have length less than or equal to ${spec.maxLength}`)
      for (let i = 0; i < list.length && errors.length < MAX_REPORTED; i++) checkValue(list[i], spec.member, `${path}.${i + 1}.member`, errors)
      return
    }
    case 'Structure':
      checkFields(value as Record<string, unknown>, spec.fields, `${path}.`, errors)
      return
    default:
      return
  }
}

const patterns = new Map<string, RegExp>()
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern)
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`)
    patterns.set(pattern, re)
  }
  return re
}

/** How Coral prints the offending value: quoted, null bare, blobs as the Java buffer they became. */
function printed(value: unknown, spec: Spec): string {
  if (value === undefined || value === null) return 'null'
  switch (spec.type) {
    case 'Blob': {
      const n = base64Length(value as string)
      return `'java.nio.HeapByteBuffer[pos=0 lim=${n} cap=${n}]'`
    }
    case 'List':
      return `'[${(value as unknown[]).map((v) => spec.memberStr ?? String(v)).join(', ')}]'`
    default:
      return `'${typeof value === 'object' ? JSON.stringify(value) : String(value)}'`
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

// Field specs Kinesis's model gives many operations.
export const STREAM_NAME: StringSpec = { type: 'String', pattern: '[a-zA-Z0-9_.-]+', minLength: 1, maxLength: 128 }
export const STREAM_ARN: StringSpec = { type: 'String', pattern: 'arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+', minLength: 1, maxLength: 2048 }
export const SHARD_ID: StringSpec = { type: 'String', pattern: '[a-zA-Z0-9_.-]+', minLength: 1, maxLength: 128 }
export const SEQUENCE_NUMBER: StringSpec = { type: 'String', pattern: '0|([1-9]\\d{0,128})' }
export const HASH_KEY: StringSpec = { type: 'String', pattern: '0|([1-9]\\d{0,38})' }
export const PARTITION_KEY: StringSpec = { type: 'String', notNull: true, minLength: 1, maxLength: 256 }
export const MAX_RECORD_BYTES = 1024 * 1024
export const DATA: BlobSpec = { type: 'Blob', notNull: true, maxLength: MAX_RECORD_BYTES }
