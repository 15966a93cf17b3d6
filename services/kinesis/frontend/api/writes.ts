// PutRecord and PutRecords: the hot path. Each record is hashed to its shard, admitted by the
// shard's throttle, and appended by the back-end that owns the shard. PutRecords groups records
// per shard, calls the owning back-ends in parallel and answers entry by entry in request order:
// a throttled record or a failed back-end fails only its own entries (FailedRecordCount).
// Data stays base64 end to end; only its decoded length is computed.
import type { Operation } from '../../../kit/index.js'
import type { ShardInfo, StreamInfo } from '../shardmap/types.js'
import { validate, base64Length, STREAM_NAME, STREAM_ARN, HASH_KEY, SEQUENCE_NUMBER, PARTITION_KEY, DATA, MAX_RECORD_BYTES, type Spec } from '../validate.js'
import { KinesisErrors } from '../errors.js'
import { routesOf, hashKeyOf, explicitHashKey, shardFor } from '../routing.js'
import { requireStream, requireWritable, type DataPlane, type StreamRef } from './context.js'
import { UpstreamError } from '../upstream.js'

export const MAX_BATCH_RECORDS = 500
export const MAX_BATCH_BYTES = 5 * 1024 * 1024

const PUT_RECORD: Record<string, Spec> = {
  SequenceNumberForOrdering: SEQUENCE_NUMBER,
  PartitionKey: PARTITION_KEY,
  ExplicitHashKey: HASH_KEY,
  Data: DATA,
  StreamName: STREAM_NAME,
  StreamARN: STREAM_ARN,
}
const PUT_RECORDS: Record<string, Spec> = {
  Records: {
    type: 'List',
    notNull: true,
    minLength: 1,
    maxLength: MAX_BATCH_RECORDS,
    // Coral prints list members with Java's Object.toString().
    memberStr: 'com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310',
    member: { type: 'Structure', fields: { PartitionKey: PARTITION_KEY, ExplicitHashKey: HASH_KEY, Data: DATA } },
  },
  StreamName: STREAM_NAME,
  StreamARN: STREAM_ARN,
}

interface Entry {
  Data: string
  PartitionKey: string
  ExplicitHashKey?: string
}

interface BackendAppend {
  records: Array<{ sequenceNumber: string }>
}

type ResultEntry = { SequenceNumber: string; ShardId: string } | { ErrorCode: string; ErrorMessage: string }

export function writeOperations(dp: DataPlane): Record<string, Operation> {
  /** Appends records (already admitted) to one shard on its owning back-end. */
  function append(stream: StreamInfo, shard: ShardInfo, records: Entry[]): Promise<BackendAppend> {
    return dp.call<BackendAppend>({
      baseUrl: dp.shardMap.backendUrl(shard.owner),
      path: `/shards/${encodeURIComponent(stream.name)}/${encodeURIComponent(shard.shardId)}/records`,
      body: {
        records: records.map((r) =>
          r.ExplicitHashKey == null
            ? { data: r.Data, partitionKey: r.PartitionKey }
            : { data: r.Data, partitionKey: r.PartitionKey, explicitHashKey: r.ExplicitHashKey },
        ),
      },
      target: `back-end ${shard.owner}`,
      dependency: shard.owner,
    })
  }

  return {
    async PutRecord(body) {
      const input = validate<StreamRef & Entry>(body, PUT_RECORD)
      const bytes = recordBytes(input)
      if (bytes > MAX_RECORD_BYTES) throw KinesisErrors.recordTooLarge(bytes)
      dp.shardMap.requireUsable()
      const stream = await requireStream(dp, input)
      requireWritable(stream)
      const shard = shardOfRecord(stream, input)
      if (!dp.throttle.admitWrite(throttleKey(stream, shard), bytes)) {
        dp.metrics.records('PutRecord', 'throttled', 1)
        throw KinesisErrors.rateExceeded(shard.shardId, stream.name)
      }
      let out: BackendAppend
      try {
        out = await append(stream, shard, [input])
      } catch (err) {
        dp.metrics.records('PutRecord', 'failed', 1)
        throw err
      }
      const seq = out.records?.[0]?.sequenceNumber
      if (typeof seq !== 'string') throw badAppend(shard, 1, out)
      dp.metrics.records('PutRecord', 'ok', 1)
      return { ShardId: shard.shardId, SequenceNumber: seq, EncryptionType: 'NONE' }
    },

    async PutRecords(body) {
      const input = validate<StreamRef & { Records: Entry[] }>(body, PUT_RECORDS)
      const records = input.Records
      const sizes = new Array<number>(records.length)
      let total = 0
      for (let i = 0; i < records.length; i++) {
        sizes[i] = recordBytes(records[i])
        if (sizes[i] > MAX_RECORD_BYTES) throw KinesisErrors.recordTooLarge(sizes[i])
        total += sizes[i]
      }
      if (total > MAX_BATCH_BYTES) throw KinesisErrors.batchTooLarge()
      dp.shardMap.requireUsable()
      const stream = await requireStream(dp, input)
      requireWritable(stream)

      // Route every record first: a bad ExplicitHashKey fails the whole call before any
      // record spends throughput.
      const shards = new Array<ShardInfo>(records.length)
      for (let i = 0; i < records.length; i++) shards[i] = shardOfRecord(stream, records[i])

      const results = new Array<ResultEntry>(records.length)
      const groups = new Map<ShardInfo, number[]>()
      const keys = new Map<ShardInfo, string>()
      let throttled = 0
      for (let i = 0; i < records.length; i++) {
        const shard = shards[i]
        let key = keys.get(shard)
        if (key === undefined) keys.set(shard, (key = throttleKey(stream, shard)))
        if (!dp.throttle.admitWrite(key, sizes[i])) {
          const err = KinesisErrors.rateExceeded(shard.shardId, stream.name)
          results[i] = { ErrorCode: err.type, ErrorMessage: err.message }
          throttled++
          continue
        }
        let group = groups.get(shard)
        if (!group) groups.set(shard, (group = []))
        group.push(i)
      }

      let failed = 0
      await Promise.all(
        [...groups].map(async ([shard, indexes]) => {
          try {
            const out = await append(
              stream,
              shard,
              indexes.map((i) => records[i]),
            )
            if (!Array.isArray(out.records) || out.records.length !== indexes.length) throw badAppend(shard, indexes.length, out)
            for (let j = 0; j < indexes.length; j++) results[indexes[j]] = { SequenceNumber: out.records[j].sequenceNumber, ShardId: shard.shardId }
          } catch (err) {
            // Per-entry errors carry only Kinesis's two codes; the cause goes to the log.
            dp.logFailure(
              { shardId: shard.shardId, stream: stream.name, owner: shard.owner, records: indexes.length, err: (err as Error).message },
              'PutRecords: back-end append failed',
            )
            for (const i of indexes) results[i] = { ErrorCode: 'InternalFailure', ErrorMessage: KinesisErrors.internalFailureMessage }
            failed += indexes.length
          }
        }),
      )
      dp.metrics.records('PutRecords', 'ok', records.length - throttled - failed)
      dp.metrics.records('PutRecords', 'throttled', throttled)
      dp.metrics.records('PutRecords', 'failed', failed)
      return { FailedRecordCount: throttled + failed, Records: results, EncryptionType: 'NONE' }
    },
  }
}

/** The size Kinesis counts against record and throughput limits: data plus partition key. */
function recordBytes(r: Entry): number {
  return base64Length(r.Data) + Buffer.byteLength(r.PartitionKey, 'utf8')
}

function shardOfRecord(stream: StreamInfo, r: Entry): ShardInfo {
  let hashKey: string | undefined
  if (r.ExplicitHashKey != null) {
    hashKey = explicitHashKey(r.ExplicitHashKey)
    if (hashKey === undefined) throw KinesisErrors.invalidExplicitHashKey(r.ExplicitHashKey)
  } else {
    hashKey = hashKeyOf(r.PartitionKey)
  }
  const shard = shardFor(routesOf(stream), hashKey)
  // Only a map whose shards do not cover the hash-key space gets here.
  if (!shard) throw new UpstreamError(KinesisErrors.noShardForHashKey(stream.name), 'bad_answer')
  return shard
}

function throttleKey(stream: StreamInfo, shard: ShardInfo): string {
  return `${stream.name}/${shard.shardId}`
}

function badAppend(shard: ShardInfo, expected: number, out: unknown): UpstreamError {
  return new UpstreamError(
    KinesisErrors.internalFailure(`back-end ${shard.owner} acknowledged ${JSON.stringify(out).slice(0, 200)} for ${expected} record(s) of ${shard.shardId}`),
    'bad_answer',
  )
}
