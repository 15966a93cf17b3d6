// How a stream's shards are laid out, as Kinesis does it: the 128-bit hash-key space (MD5 of the
// partition key) is split evenly, in decimal strings, and the last shard ends at 2^128 - 1.

export const HASH_KEY_SPACE = 1n << 128n

export interface HashKeyRange {
  startingHashKey: string
  endingHashKey: string
}

export function evenHashKeyRanges(shardCount: number): HashKeyRange[] {
  const n = BigInt(shardCount)
  const ranges: HashKeyRange[] = []
  for (let i = 0n; i < n; i++) {
    const start = (i * HASH_KEY_SPACE) / n
    const end = i === n - 1n ? HASH_KEY_SPACE - 1n : ((i + 1n) * HASH_KEY_SPACE) / n - 1n
    ranges.push({ startingHashKey: start.toString(), endingHashKey: end.toString() })
  }
  return ranges
}

/** "shardId-000000000007" */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`
}

/**
 * The sequence number just below every record of a shard. Sequence numbers are 56 digits:
 * "49", the shard index (12 digits), then 42 digits the back-end counts up (docs/internals.md),
 * so one shard's numbers never pass for another's.
 */
export function startingSequenceNumber(index: number): string {
  return `49${String(index).padStart(12, '0')}${'0'.repeat(42)}`
}
