// The control-plane operations: CreateStream (forwarded to metadata, the authoritative store) and
// the reads answered from the shard-map: DescribeStream, DescribeStreamSummary, ListStreams,
// ListShards. These read the cache only; they do not route, so a broken map does not stop them
// (the 2020 errors were on PutRecord(s)/GetRecords).
import type { Operation } from '../../../kit/index.js'
import type { ShardInfo, StreamInfo } from '../shardmap/types.js'
import { validate, STREAM_NAME, STREAM_ARN, SHARD_ID, type Spec } from '../validate.js'
import { KinesisErrors } from '../errors.js'
import { requireStream, type DataPlane, type StreamRef } from './context.js'

/** A new on-demand stream starts with four shards, as on AWS. */
const ON_DEMAND_SHARDS = 4
/** Page sizes: the most one call returns, whatever larger Limit was asked for. */
const DESCRIBE_MAX_SHARDS = 100
const LIST_STREAMS_MAX = 100
const LIST_SHARDS_MAX = 1000
const NEXT_TOKEN_TTL_MS = 300_000

const STREAM_MODE: Spec = { type: 'Structure', fields: { StreamMode: { type: 'String', notNull: true, enum: ['PROVISIONED', 'ON_DEMAND'] } } }
const STREAM_REF: Record<string, Spec> = { StreamName: STREAM_NAME, StreamARN: STREAM_ARN }

const CREATE_STREAM: Record<string, Spec> = {
  ShardCount: { type: 'Integer', min: 1, max: 100000 },
  StreamModeDetails: STREAM_MODE,
  StreamName: { ...STREAM_NAME, notNull: true },
}
const DESCRIBE_STREAM: Record<string, Spec> = {
  Limit: { type: 'Integer', min: 1, max: 10000 },
  ExclusiveStartShardId: SHARD_ID,
  ...STREAM_REF,
}
const LIST_STREAMS: Record<string, Spec> = {
  Limit: { type: 'Integer', min: 1, max: 10000 },
  ExclusiveStartStreamName: STREAM_NAME,
  NextToken: { type: 'String', minLength: 1, maxLength: 1048576 },
}
const SHARD_FILTER: Spec = {
  type: 'Structure',
  fields: {
    Type: { type: 'String', notNull: true, enum: ['AFTER_SHARD_ID', 'AT_TRIM_HORIZON', 'FROM_TRIM_HORIZON', 'AT_LATEST', 'AT_TIMESTAMP', 'FROM_TIMESTAMP'] },
    ShardId: SHARD_ID,
    Timestamp: { type: 'Timestamp' },
  },
}
const LIST_SHARDS: Record<string, Spec> = {
  ExclusiveStartShardId: SHARD_ID,
  MaxResults: { type: 'Integer', min: 1, max: 10000 },
  NextToken: { type: 'String', minLength: 1, maxLength: 1048576 },
  StreamCreationTimestamp: { type: 'Timestamp' },
  ShardFilter: SHARD_FILTER,
  ...STREAM_REF,
}

export function streamOperations(dp: DataPlane): Record<string, Operation> {
  return {
    async CreateStream(body) {
      const input = validate<{ StreamName: string; ShardCount?: number; StreamModeDetails?: { StreamMode: string } }>(body, CREATE_STREAM)
      const onDemand = input.StreamModeDetails?.StreamMode === 'ON_DEMAND'
      let shardCount = input.ShardCount
      if (shardCount === undefined || shardCount === null) {
        if (!onDemand) throw KinesisErrors.shardCountRequired()
        shardCount = ON_DEMAND_SHARDS
      }
      await dp.call({
        baseUrl: dp.metadataUrl,
        path: '/streams',
        body: { name: input.StreamName, shardCount: Math.floor(shardCount) },
        target: 'metadata',
        dependency: 'metadata',
      })
      // The stream is in the authoritative store; the next call through this member must see it.
      await dp.shardMap.refresh().catch((err) => dp.logFailure({ err: String(err) }, 'shard-map refresh after CreateStream failed'))
      return {}
    },

    async DescribeStream(body) {
      const input = validate<StreamRef & { Limit?: number; ExclusiveStartShardId?: string }>(body, DESCRIBE_STREAM)
      const stream = await requireStream(dp, input)
      const limit = Math.min(Math.floor(input.Limit ?? DESCRIBE_MAX_SHARDS), DESCRIBE_MAX_SHARDS)
      const after = input.ExclusiveStartShardId
      const all = shardsById(stream).filter((s) => after === undefined || after === null || s.shardId > after)
      const page = all.slice(0, limit)
      return {
        StreamDescription: {
          ...streamFields(stream),
          Shards: page.map(shardOut),
          HasMoreShards: all.length > page.length,
        },
      }
    },

    async DescribeStreamSummary(body) {
      const input = validate<StreamRef>(body, STREAM_REF)
      const stream = await requireStream(dp, input)
      return {
        StreamDescriptionSummary: {
          ...streamFields(stream),
          OpenShardCount: stream.shards.length,
          ConsumerCount: 0,
        },
      }
    },

    async ListStreams(body) {
      const input = validate<{ Limit?: number; ExclusiveStartStreamName?: string; NextToken?: string }>(body, LIST_STREAMS)
      const limit = Math.min(Math.floor(input.Limit ?? LIST_STREAMS_MAX), LIST_STREAMS_MAX)
      let after = input.ExclusiveStartStreamName ?? undefined
      if (input.NextToken !== undefined && input.NextToken !== null) after = readToken(input.NextToken, dp.now()).after
      const names = dp.shardMap.listStreams().slice().sort()
      const rest = after === undefined ? names : names.filter((n) => n > after!)
      const page = rest.slice(0, limit)
      const summaries = []
      for (const name of page) {
        const s = await dp.shardMap.stream(name)
        if (s)
          summaries.push({
            StreamName: s.name,
            StreamARN: s.arn,
            StreamStatus: s.status,
            StreamModeDetails: { StreamMode: 'PROVISIONED' },
            StreamCreationTimestamp: epochSeconds(s.createdAtMs),
          })
      }
      const hasMore = rest.length > page.length
      return {
        StreamNames: page,
        HasMoreStreams: hasMore,
        StreamSummaries: summaries,
        ...(hasMore && page.length > 0 ? { NextToken: writeToken({ stream: '', after: page[page.length - 1] }, dp.now()) } : {}),
      }
    },

    async ListShards(body) {
      const input = validate<
        StreamRef & { NextToken?: string; MaxResults?: number; ExclusiveStartShardId?: string; ShardFilter?: { Type: string; ShardId?: string } }
      >(body, LIST_SHARDS)
      const hasName = (input.StreamName ?? input.StreamARN) != null
      const hasToken = input.NextToken != null
      if (!hasName && !hasToken) throw KinesisErrors.listShardsNeedsStream()
      if (hasName && hasToken) throw KinesisErrors.listShardsTokenAndName()
      let ref: StreamRef = input
      let after = input.ExclusiveStartShardId ?? undefined
      if (hasToken) {
        const token = readToken(input.NextToken!, dp.now())
        ref = { StreamName: token.stream }
        after = token.after
      } else if (input.ShardFilter?.Type === 'AFTER_SHARD_ID') {
        if (input.ShardFilter.ShardId == null) throw KinesisErrors.shardFilterNeedsShardId()
        after = input.ShardFilter.ShardId
      }
      const stream = await requireStream(dp, ref)
      const limit = Math.min(Math.floor(input.MaxResults ?? LIST_SHARDS_MAX), LIST_SHARDS_MAX)
      const rest = shardsById(stream).filter((s) => after === undefined || s.shardId > after!)
      const page = rest.slice(0, limit)
      return {
        Shards: page.map(shardOut),
        ...(rest.length > page.length ? { NextToken: writeToken({ stream: stream.name, after: page[page.length - 1].shardId }, dp.now()) } : {}),
      }
    },
  }
}

function streamFields(stream: StreamInfo) {
  return {
    StreamName: stream.name,
    StreamARN: stream.arn,
    StreamStatus: stream.status,
    StreamModeDetails: { StreamMode: 'PROVISIONED' },
    RetentionPeriodHours: stream.retentionHours,
    StreamCreationTimestamp: epochSeconds(stream.createdAtMs),
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: 'NONE',
  }
}

function shardsById(stream: StreamInfo): ShardInfo[] {
  return stream.shards.slice().sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0))
}

function shardOut(s: ShardInfo) {
  return {
    ShardId: s.shardId,
    HashKeyRange: { StartingHashKey: s.startingHashKey, EndingHashKey: s.endingHashKey },
    SequenceNumberRange: { StartingSequenceNumber: s.startingSequenceNumber },
  }
}

/** JSON 1.1 timestamps travel as epoch seconds; Kinesis reports whole seconds for streams. */
function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000)
}

// Paging tokens are opaque to callers and expire after 300 s, as Kinesis's do.
interface Token {
  stream: string
  after: string
}

function writeToken(t: Token, nowMs: number): string {
  return Buffer.from(JSON.stringify({ s: t.stream, a: t.after, t: nowMs })).toString('base64')
}

function readToken(raw: string, nowMs: number): Token {
  let parsed: { s?: unknown; a?: unknown; t?: unknown }
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'))
  } catch {
    throw KinesisErrors.invalidNextToken()
  }
  if (typeof parsed?.s !== 'string' || typeof parsed.a !== 'string' || typeof parsed.t !== 'number') throw KinesisErrors.invalidNextToken()
  if (nowMs - parsed.t > NEXT_TOKEN_TTL_MS) throw KinesisErrors.expiredNextToken()
  return { stream: parsed.s, after: parsed.a }
}
