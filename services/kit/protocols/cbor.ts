// The two CBOR protocols. Both carry the same document as AWS JSON, with blobs as byte strings
// (major type 2) and timestamps as tag 1; they differ in how a request is addressed and in the unit
// of a timestamp:
//   awsCbor 1.1 (Kinesis; the Java SDKs v1/v2 and the KCL): POST / with X-Amz-Target and
//     `Content-Type: application/x-amz-cbor-1.1`. Timestamps are tag 1 over epoch *milliseconds*
//     (the Java SDK v2's AwsCborProtocolFactory: "CBOR uses epoch millis for timestamps rather than
//     epoch seconds"; its SdkCborGenerator writes writeTag(1) then instant.toEpochMilli()).
//     Errors: {"__type", "message"} as in JSON, with x-amzn-errortype.
//   rpcv2Cbor (Smithy RPC v2 CBOR; the first protocol of CloudWatch's model, spoken by the JS SDK
//     with AwsSmithyRpcV2CborProtocol and by botocore when it prefers it): POST
//     /service/<Service>/operation/<Op>, `smithy-protocol: rpc-v2-cbor`, `application/cbor`; every
//     answer carries `smithy-protocol`. Timestamps are tag 1 over epoch seconds (integer or float).
//     Errors: {"__type": "<namespace>#<Shape>", "message"}, no x-amzn-errortype (the spec says
//     SHOULD NOT), x-amzn-query-error for a query-compatible service.
// cbor-x does the encoding; this module only converts between CBOR values and the JSON shape.
import { Decoder, Encoder, Tag, type Options } from 'cbor-x'
import { AwsErrors, type AwsError } from '../errors.js'
import { queryErrorHeader } from './json.js'
import { memberShape, type Shape, type StructureShape } from './shape.js'
import type { ApiDescription, WireReply } from './types.js'

export const AWS_CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1'
export const RPCV2_CONTENT_TYPE = 'application/cbor'

export type TimestampUnit = 'seconds' | 'milliseconds'

/** Deeper input than this is refused: no AWS shape nests half as deep, and shared values (tag 28/29) can make cycles. */
const MAX_DEPTH = 32

// Plain maps into plain objects (cbor-x renames a "__proto__" key), 64-bit integers as numbers (as
// JSON.parse reads them: the Java SDK writes every epoch-millisecond long in 8 bytes), no record
// extension, no tag on byte strings (tag 64 would break every AWS client), maps of their exact size.
// (int64AsNumber is in cbor-x's README, not in its typings.)
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as Options & { int64AsNumber: boolean })
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, pack: false, variableMapSize: true })

/** A CBOR body as the handler's input (JSON shape). An empty body is {}. */
export function decodeCbor(bytes: Buffer, unit: TimestampUnit): Record<string, unknown> {
  if (bytes.length === 0) return {}
  let value: unknown
  try {
    value = decoder.decode(bytes)
  } catch (err) {
    throw AwsErrors.SerializationException(`The request body is not valid CBOR: ${(err as Error).message}`)
  }
  if (!isPlainObject(value)) throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
  return toJsonShape(value, unit, 0) as Record<string, unknown>
}

/** The handler's output as CBOR bytes: timestamps and blobs converted where the shape says so. */
export function encodeCbor(output: unknown, shape: Shape | undefined, unit: TimestampUnit): Buffer {
  // A copy: cbor-x may hand out a view of a buffer it reuses.
  return Buffer.from(encoder.encode(toCborValue(output ?? {}, shape, unit)))
}

function toJsonShape(value: unknown, unit: TimestampUnit, depth: number): unknown {
  if (depth > MAX_DEPTH) throw AwsErrors.SerializationException(`The request body nests deeper than ${MAX_DEPTH} levels.`)
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return value
    case 'bigint':
      return Number(value)
    case 'object':
      break
    default:
      throw unsupported(value)
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (value instanceof Date) {
    // cbor-x reads tag 1 as epoch seconds (new Date(v * 1000)); awsCbor's v is milliseconds.
    const ms = value.getTime()
    if (!Number.isFinite(ms)) throw AwsErrors.SerializationException('A timestamp (tag 1) is out of range.')
    return unit === 'seconds' ? ms / 1000 : ms / 1_000_000
  }
  if (Array.isArray(value)) return value.map((v) => toJsonShape(v, unit, depth + 1))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toJsonShape(v, unit, depth + 1)
    return out
  }
  throw unsupported(value)
}

function unsupported(value: unknown): AwsError {
  const kind = value instanceof Tag ? `tag ${value.tag}` : typeof value === 'object' ? (value as object).constructor?.name : typeof value
  return AwsErrors.SerializationException(`Unsupported CBOR value in the request body: ${kind}.`)
}

function toCborValue(value: unknown, shape: Shape | undefined, unit: TimestampUnit): unknown {
  if (value === null || value === undefined) return undefined
  if (shape?.type === 'timestamp' && typeof value === 'number') {
    // awsCbor: an integer, always. The Java SDK v2 reads a CBOR timestamp's text with Long.parseLong
    // (DateUtils.parseUnixTimestampMillisInstant): a float there fails the whole response.
    return unit === 'seconds' ? new Date(Math.round(value * 1000)) : new Tag(wholeNumber(Math.round(value * 1000)), 1)
  }
  if (shape?.type === 'blob' && typeof value === 'string') return Buffer.from(value, 'base64')
  if (typeof value === 'number' && shape?.type !== 'double') return wholeNumber(value)
  if (Array.isArray(value)) {
    const member = shape?.type === 'list' ? shape.member : undefined
    return value.map((v) => toCborValue(v, member, unit) ?? null)
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      // Null members are left out of the document (Smithy: "Values that are null MUST be omitted").
      const converted = toCborValue(v, shape?.type === 'map' ? shape.value : memberShape(shape, k), unit)
      if (converted !== undefined) out[k] = converted
    }
    return out
  }
  return value
}

/**
 * cbor-x writes integers beyond 32 bits as float64; a long (a sequence of milliseconds, a count)
 * goes out as an integer, as the model types it, and as clients that read longs as text need.
 */
function wholeNumber(n: number): number | bigint {
  return Number.isSafeInteger(n) && (n > 0xffffffff || n < -0x100000000) ? BigInt(n) : n
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

// --- awsCbor 1.1 -------------------------------------------------------------------------------

export function awsCborReply(output: unknown, shapes: { output?: StructureShape } | undefined): WireReply {
  return { statusCode: 200, headers: { 'content-type': AWS_CBOR_CONTENT_TYPE }, body: encodeCbor(output, shapes?.output, 'milliseconds') }
}

export function awsCborError(err: AwsError, api: Pick<ApiDescription, 'queryCompatible'>): WireReply {
  const headers: Record<string, string> = { 'content-type': AWS_CBOR_CONTENT_TYPE, 'x-amzn-errortype': err.type }
  if (api.queryCompatible) headers['x-amzn-query-error'] = queryErrorHeader(err)
  return { statusCode: err.statusCode, headers, body: encodeCbor(err.toJSON(), undefined, 'milliseconds') }
}

// --- Smithy RPC v2 CBOR --------------------------------------------------------------------------

/**
 * A success. An operation whose model has no output answers no body and no content type (the
 * protocol's rule for a Unit output); an operation without a model answers its output as a document.
 */
export function rpcv2Reply(output: unknown, shapes: { output?: StructureShape } | undefined): WireReply {
  if (shapes && !shapes.output) return { statusCode: 200, headers: { 'smithy-protocol': 'rpc-v2-cbor' } }
  return {
    statusCode: 200,
    headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': RPCV2_CONTENT_TYPE },
    body: encodeCbor(output, shapes?.output, 'seconds'),
  }
}

export function rpcv2Error(err: AwsError, api: Pick<ApiDescription, 'namespace' | 'queryCompatible'>): WireReply {
  const headers: Record<string, string> = { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': RPCV2_CONTENT_TYPE }
  if (api.queryCompatible) headers['x-amzn-query-error'] = queryErrorHeader(err)
  // The error's absolute shape id: clients keep what follows '#'.
  return { statusCode: err.statusCode, headers, body: encodeCbor({ __type: `${api.namespace}#${err.type}`, message: err.message }, undefined, 'seconds') }
}
