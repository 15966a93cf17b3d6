// Kinesis requests in CBOR as the AWS SDK for Java v2 (and the KCL on top of it) writes them, built
// with cbor-x item by item. Where the shape comes from (aws-sdk-java-v2, core/protocols):
//   - AwsCborProtocolFactory: Content-Type "application/x-amz-cbor-1.1" (the JSON protocol's X-Amz-Target
//     stays), and timestamps in the payload as UNIX_TIMESTAMP_MILLIS;
//   - SdkCborGenerator.writeValue(Instant): writeTag(1), then writeNumber(instant.toEpochMilli()), a long;
//   - the JSON protocol marshaller walks the request's SdkFields in model order (botocore's Kinesis model
//     has the same order: PutRecord is StreamName, Data, PartitionKey, ExplicitHashKey, ...) and skips nulls;
//   - Jackson's CBORGenerator: writeStartObject() and writeStartArray() open indefinite-length maps and
//     arrays (0xbf / 0x9f, closed by 0xff), writeBinary() a definite byte string, integers and strings in
//     their shortest definite form (strings over 3,996 chars would be chunked: Kinesis has none).
import { Encoder, Tag } from 'cbor-x'

const encoder = new Encoder({ useRecords: false, tagUint8Array: false, pack: false })
const BREAK = Buffer.from([0xff])

/** Bytes already encoded: an object or array written by javaObject / javaArray. */
export class Encoded {
  constructor(readonly bytes: Buffer) {}
}

function item(value: unknown): Buffer {
  if (value instanceof Encoded) return value.bytes
  // Jackson writes a long as the shortest integer; cbor-x would write one above 32 bits as a float.
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 0xffffffff) return Buffer.from(encoder.encode(BigInt(value)))
  return Buffer.from(encoder.encode(value))
}

/** writeStartObject(), each non-null field (name, value) in order, writeEndObject(). */
export function javaObject(fields: Array<[string, unknown]>): Encoded {
  const parts = [Buffer.from([0xbf])]
  for (const [name, value] of fields) if (value !== undefined && value !== null) parts.push(item(name), item(value))
  return new Encoded(Buffer.concat([...parts, BREAK]))
}

/** writeStartArray(), each member, writeEndArray(). */
export function javaArray(members: unknown[]): Encoded {
  return new Encoded(Buffer.concat([Buffer.from([0x9f]), ...members.map(item), BREAK]))
}

/** An Instant in the payload: tag 1 over epoch milliseconds. */
export function javaInstant(ms: number): Encoded {
  return new Encoded(Buffer.concat([Buffer.from([0xc1]), item(ms)]))
}

/** The request the Java SDK v2 sends for one Kinesis operation (sign it before sending). */
export function javaRequest(operation: string, body: Encoded) {
  return {
    headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `Kinesis_20131202.${operation}` },
    body: body.bytes,
  }
}

export { Tag }
