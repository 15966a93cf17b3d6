// Where a record goes: Kinesis hashes the partition key with MD5, reads the digest as a 128-bit
// unsigned integer (or takes the ExplicitHashKey), and picks the shard whose hash-key range
// contains it. Ranges are compared as fixed-width hex strings (string order = numeric order),
// which keeps BigInt out of the per-record path: a PutRecords of 500 costs 500 MD5s and a few
// string comparisons each.
import crypto from 'node:crypto'
import type { ShardInfo, StreamInfo } from './shardmap/types.js'

export const HASH_KEY_LIMIT = 1n << 128n

export interface StreamRoutes {
  /** Shards ordered by starting hash key. */
  shards: ShardInfo[]
  /** Ending hash key of shards[i], as 32 hex digits. */
  endings: string[]
  /** Shards by id. */
  byId: Map<string, ShardInfo>
}

// Keyed by the StreamInfo object: the shard-map hands out a new object when a stream changes.
const cache = new WeakMap<StreamInfo, StreamRoutes>()

export function routesOf(stream: StreamInfo): StreamRoutes {
  let routes = cache.get(stream)
  if (!routes) {
    const shards = [...stream.shards].sort((a, b) => compareDecimal(a.startingHashKey, b.startingHashKey))
    routes = { shards, endings: shards.map((s) => hex32(BigInt(s.endingHashKey))), byId: new Map(shards.map((s) => [s.shardId, s])) }
    cache.set(stream, routes)
  }
  return routes
}

/** The 128-bit hash key of a partition key, as 32 hex digits. */
export function hashKeyOf(partitionKey: string): string {
  // One-shot crypto.hash (Node >= 20.12) skips the Hash object createHash() builds per record.
  return crypto.hash('md5', partitionKey, 'hex')
}

/** An ExplicitHashKey (decimal, already pattern-checked) as 32 hex digits; undefined when >= 2^128. */
export function explicitHashKey(decimal: string): string | undefined {
  const n = BigInt(decimal)
  return n < HASH_KEY_LIMIT ? hex32(n) : undefined
}

/** The shard owning a hash key: the first whose ending key is >= it. */
export function shardFor(routes: StreamRoutes, hashKeyHex: string): ShardInfo | undefined {
  const { endings } = routes
  let lo = 0
  let hi = endings.length - 1
  if (hi < 0 || hashKeyHex > endings[hi]) return undefined
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (endings[mid] >= hashKeyHex) hi = mid
    else lo = mid + 1
  }
  return routes.shards[lo]
}

function hex32(n: bigint): string {
  return n.toString(16).padStart(32, '0')
}

function compareDecimal(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}
