// GetShardIterator and GetRecords. Iterators are made and read by the back-end owning the shard;
// the front-end only checks the request, routes it, and throttles reads per shard. An iterator's
// payload names its stream and shard (docs/internals.md), so GetRecords routes without the secret.
import type { Operation } from '../../../kit/index.js'
import { AwsErrors } from '../../../kit/index.js'
import { validate, base64Length, STREAM_NAME, STREAM_ARN, SHARD_ID, SEQUENCE_NUMBER, type Spec } from '../validate.js'
import { KinesisErrors } from '../errors.js'
import { routesOf } from '../routing.js'
import { requireStream, requireWritable, type DataPlane, type StreamRef } from './context.js'

const ITERATOR_TYPES = ['AFTER_SEQUENCE_NUMBER', 'LATEST', 'AT_TIMESTAMP', 'AT_SEQUENCE_NUMBER', 'TRIM_HORIZON'] as const
const GET_RECORDS_MAX = 10000

const GET_SHARD_ITERATOR: Record<string, Spec> = {
  ShardId: { ...SHARD_ID, notNull: true },
  ShardIteratorType: { type: 'String', notNull: true, enum: ITERATOR_TYPES },
  StartingSequenceNumber: SEQUENCE_NUMBER,
  StreamName: STREAM_NAME,
  StreamARN: STREAM_ARN,
  Timestamp: { type: 'Timestamp' },
}
const GET_RECORDS: Record<string, Spec> = {
  Limit: { type: 'Integer', min: 1, max: GET_RECORDS_MAX },
  ShardIterator: { type: 'String', notNull: true, minLength: 1, maxLength: 512 },
  StreamARN: STREAM_ARN,
}

interface BackendRecords {
  records: Array<{ sequenceNumber: string; data: string; partitionKey: string; approximateArrivalTimestampMs: number }>
  nextShardIterator?: string | null
  millisBehindLatest?: number
}

export function readOperations(dp: DataPlane): Record<string, Operation> {
  return {
    async GetShardIterator(body) {
      const input = validate<StreamRef & { ShardId: string; ShardIteratorType: string; StartingSequenceNumber?: string; Timestamp?: number }>(
        body,
        GET_SHARD_ITERATOR,
      )
      const type = input.ShardIteratorType
      const seq = input.StartingSequenceNumber ?? undefined
      const bySequence = type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER'
      if (bySequence !== (seq !== undefined) && type !== 'AT_TIMESTAMP') {
        throw AwsErrors.InvalidArgumentException(
          'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
            `(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and ${seq === undefined ? 'no' : 'also a'} StartingSequenceNumber.`,
        )
      }
      let timestampMs: number | undefined
      if (type === 'AT_TIMESTAMP') {
        if (input.Timestamp == null) {
          throw AwsErrors.InvalidArgumentException(
            'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
          )
        }
        timestampMs = Math.round(input.Timestamp * 1000)
        const now = dp.now()
        if (timestampMs > now) {
          throw AwsErrors.InvalidArgumentException(
            `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${timestampMs}, currentTimestampInMillis: ${now}`,
          )
        }
      }
      dp.shardMap.requireUsable()
      const stream = await requireStream(dp, input)
      requireWritable(stream)
      const shard = routesOf(stream).byId.get(input.ShardId)
      if (!shard) throw KinesisErrors.shardNotFound(input.ShardId, stream.name)
      const out = await dp.call<{ shardIterator: string }>({
        baseUrl: dp.shardMap.backendUrl(shard.owner),
        path: '/iterators',
        body: {
          stream: stream.name,
          shardId: shard.shardId,
          type,
          ...(seq !== undefined ? { startingSequenceNumber: seq } : {}),
          ...(timestampMs !== undefined ? { timestampMs } : {}),
        },
        target: `back-end ${shard.owner}`,
        dependency: shard.owner,
      })
      if (typeof out.shardIterator !== 'string') throw KinesisErrors.internalFailure(`back-end ${shard.owner} answered no shardIterator`)
      return { ShardIterator: out.shardIterator }
    },

    async GetRecords(body) {
      const input = validate<{ ShardIterator: string; Limit?: number; StreamARN?: string }>(body, GET_RECORDS)
      const where = iteratorTarget(input.ShardIterator)
      dp.shardMap.requireUsable()
      const stream = await dp.shardMap.stream(where.stream)
      if (!stream) throw KinesisErrors.shardNotFound(where.shardId, where.stream)
      const shard = routesOf(stream).byId.get(where.shardId)
      if (!shard) throw KinesisErrors.shardNotFound(where.shardId, where.stream)
      const key = `${stream.name}/${shard.shardId}`
      if (!dp.throttle.admitRead(key)) throw KinesisErrors.rateExceeded(shard.shardId, stream.name)
      const out = await dp.call<BackendRecords>({
        baseUrl: dp.shardMap.backendUrl(shard.owner),
        path: '/records/get',
        body: { shardIterator: input.ShardIterator, limit: Math.floor(input.Limit ?? GET_RECORDS_MAX) },
        target: `back-end ${shard.owner}`,
        dependency: shard.owner,
      })
      if (!Array.isArray(out.records)) throw KinesisErrors.internalFailure(`back-end ${shard.owner} answered no records`)
      let bytes = 0
      const records = out.records.map((r) => {
        bytes += base64Length(r.data) + Buffer.byteLength(r.partitionKey, 'utf8')
        return {
          SequenceNumber: r.sequenceNumber,
          ApproximateArrivalTimestamp: r.approximateArrivalTimestampMs / 1000,
          Data: r.data,
          PartitionKey: r.partitionKey,
        }
      })
      dp.throttle.chargeRead(key, bytes)
      return {
        Records: records,
        ...(out.nextShardIterator ? { NextShardIterator: out.nextShardIterator } : {}),
        MillisBehindLatest: out.millisBehindLatest ?? 0,
      }
    },
  }
}

/** Stream and shard named in an iterator's payload; a garbled iterator is Kinesis's "Invalid ShardIterator." */
function iteratorTarget(iterator: string): { stream: string; shardId: string } {
  const dot = iterator.indexOf('.')
  if (dot <= 0) throw KinesisErrors.invalidShardIterator()
  let payload: { stream?: unknown; shardId?: unknown }
  try {
    payload = JSON.parse(Buffer.from(iterator.slice(0, dot), 'base64url').toString('utf8'))
  } catch {
    throw KinesisErrors.invalidShardIterator()
  }
  if (typeof payload?.stream !== 'string' || typeof payload.shardId !== 'string') throw KinesisErrors.invalidShardIterator()
  return { stream: payload.stream, shardId: payload.shardId }
}
