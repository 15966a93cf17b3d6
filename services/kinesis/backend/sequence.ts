// Sequence numbers, 56 decimal digits like Kinesis's, fixed width so string order is numeric order:
//
//   "49" | shard index (12 digits) | milliseconds (15 digits) | counter within the ms (27 digits)
//
// The shard index makes one shard's numbers unusable on another (Kinesis refuses them too). The
// millisecond part is the record's arrival time, never less than the previous record's, so numbers
// stay monotonic if the clock steps back, and a restarted back-end (later clock) never hands out a
// number it may have used before a crash, not even one of a torn, unacknowledged record.

const SHARD_ID = /^shardId-(\d{12})$/
const SEQUENCE = /^49(\d{12})(\d{15})(\d{27})$/

export function shardIndexOf(shardId: string): number | undefined {
  const m = SHARD_ID.exec(shardId)
  return m ? Number(m[1]) : undefined
}

export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`
}

/** The 14 leading digits every sequence number of the shard shares. */
export function sequencePrefix(shardIndex: number): string {
  return `49${String(shardIndex).padStart(12, '0')}`
}

export function formatSequence(prefix: string, ms: number, sub: number): string {
  return prefix + String(ms).padStart(15, '0') + String(sub).padStart(27, '0')
}

/** The number just below every record of the shard (metadata hands it out as startingSequenceNumber). */
export function startingSequenceNumber(shardIndex: number): string {
  return sequencePrefix(shardIndex) + '0'.repeat(42)
}

export interface ParsedSequence {
  shardIndex: number
  ms: number
  /** Beyond 2^53 precision is lost, which only matters for numbers no back-end ever made. */
  sub: number
}

export function parseSequence(s: string): ParsedSequence | undefined {
  const m = SEQUENCE.exec(s)
  if (!m) return undefined
  return { shardIndex: Number(m[1]), ms: Number(m[2]), sub: Number(m[3]) }
}

export function compareSequence(msA: number, subA: number, msB: number, subB: number): number {
  return msA !== msB ? msA - msB : subA - subB
}
