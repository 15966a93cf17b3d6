// What every Kinesis operation handler is given, and the stream lookups they share.
import { AwsErrors } from '../../../kit/index.js'
import type { ShardMap, StreamInfo } from '../shardmap/types.js'
import type { ShardThrottle } from '../throttle.js'
import type { UpstreamCall } from '../upstream.js'
import type { FrontendMetrics } from '../metrics.js'
import { ACCOUNT_ID, KinesisErrors } from '../errors.js'

export interface DataPlane {
  shardMap: ShardMap
  throttle: ShardThrottle
  /** One call to a back-end or metadata (upstream.ts). */
  call<T>(c: UpstreamCall): Promise<T>
  metadataUrl: string
  metrics: FrontendMetrics
  /** Wall clock in ms (AT_TIMESTAMP checks, token expiry). */
  now(): number
  /** Logs a failure that customers only see as a generic per-record error. */
  logFailure(detail: object, msg: string): void
}

export interface StreamRef {
  StreamName?: string
  StreamARN?: string
}

/**
 * The stream a call names, by StreamName or StreamARN (either, or both when they agree), with
 * the account to quote in a not-found message.
 */
export function streamNameOf(input: StreamRef): { name: string; account: string } {
  const arn = input.StreamARN
  if (arn !== undefined && arn !== null) {
    // arn:aws:kinesis:<region>:<account>:stream/<name> (shape checked by the STREAM_ARN spec)
    const parts = arn.split(':')
    const account = parts[4]
    const name = parts.slice(5).join(':').slice('stream/'.length)
    if (input.StreamName !== undefined && input.StreamName !== null && input.StreamName !== name) {
      throw AwsErrors.InvalidArgumentException(`StreamARN ${arn} and StreamName ${input.StreamName} do not refer to the same stream.`)
    }
    return { name, account }
  }
  if (input.StreamName === undefined || input.StreamName === null) throw KinesisErrors.noStreamIdentifier()
  return { name: input.StreamName, account: ACCOUNT_ID }
}

/** The stream, or Kinesis's ResourceNotFoundException. */
export async function requireStream(dp: DataPlane, input: StreamRef): Promise<StreamInfo> {
  const { name, account } = streamNameOf(input)
  const stream = account === ACCOUNT_ID ? await dp.shardMap.stream(name) : undefined
  if (!stream) throw KinesisErrors.streamNotFound(name, account)
  return stream
}

/** Data can only be written to and read from a stream that is ACTIVE (or UPDATING). */
export function requireWritable(stream: StreamInfo): void {
  if (stream.status !== 'ACTIVE') throw KinesisErrors.streamNotFound(stream.name)
}
