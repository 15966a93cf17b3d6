// GetShardIterator and GetRecords on this back-end's shards: where an iterator starts, what a
// read returns, how far behind the reader is.
import { AwsErrors } from '../../kit/index.js'
import type { ShardStore } from './shard-store.js'
import type { StoredRecord } from './shard-log.js'
import type { IteratorCodec, IteratorPosition } from './iterators.js'
import { parseSequence, shardIdOf, shardIndexOf, startingSequenceNumber } from './sequence.js'
import type { IteratorType } from './validate.js'

const ACCOUNT = '000000000000'
/** GetRecords answers at most 10 MiB. */
export const GET_RECORDS_MAX_BYTES = 10 * 1024 * 1024

export interface IteratorRequest {
  stream: string
  shardId: string
  type: IteratorType
  startingSequenceNumber?: string
  timestampMs?: number
}

export interface RecordsPage {
  records: StoredRecord[]
  nextShardIterator: string
  millisBehindLatest: number
}

export class ShardReader {
  #store: ShardStore
  #codec: IteratorCodec
  #now: () => number

  constructor(store: ShardStore, codec: IteratorCodec, now: () => number = Date.now) {
    this.#store = store
    this.#codec = codec
    this.#now = now
  }

  async iterator(req: IteratorRequest): Promise<string> {
    const { stream, shardId, type } = req
    const shardIndex = shardIndexOf(shardId)!
    const seq = req.startingSequenceNumber
    const bySequence = type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER'
    if (type !== 'AT_TIMESTAMP' && bySequence !== (seq !== undefined)) {
      throw AwsErrors.InvalidArgumentException(
        'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
          `(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and ${seq === undefined ? 'no' : 'also a'} StartingSequenceNumber.`,
      )
    }
    const log = await this.#store.shard(stream, shardId, false)
    const at = (sequenceNumber: string, inclusive: boolean): IteratorPosition => ({ stream, shardId, sequenceNumber, inclusive })
    const latest = () => at(log && log.count > 0 ? log.sequenceAt(log.count - 1) : startingSequenceNumber(shardIndex), false)
    let pos: IteratorPosition
    switch (type) {
      case 'TRIM_HORIZON':
        pos = at(startingSequenceNumber(shardIndex), false)
        break
      case 'LATEST':
        pos = latest()
        break
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        if (typeof seq !== 'string') throw invalidSequence(String(seq), shardId, stream)
        const parsed = parseSequence(seq)
        if (!parsed) throw invalidSequence(seq, shardId, stream)
        if (parsed.shardIndex !== shardIndex) {
          throw AwsErrors.InvalidArgumentException(
            `Invalid StartingSequenceNumber. It encodes ${shardIdOf(parsed.shardIndex)}, while it was used in a call to a shard with ${shardId}`,
          )
        }
        pos = at(seq, type === 'AT_SEQUENCE_NUMBER')
        break
      }
      case 'AT_TIMESTAMP': {
        const ts = req.timestampMs
        if (ts === undefined)
          throw AwsErrors.InvalidArgumentException(
            'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
          )
        if (typeof ts !== 'number' || !Number.isFinite(ts)) throw AwsErrors.InvalidArgumentException(`Invalid timestampInMillis: ${JSON.stringify(ts)}`)
        const now = this.#now()
        if (ts > now) {
          throw AwsErrors.InvalidArgumentException(
            `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${ts}, currentTimestampInMillis: ${now}`,
          )
        }
        // Arrival times never decrease along a shard, so every later record arrives after ts too.
        const i = log ? log.indexAtTime(ts) : 0
        pos = log && i < log.count ? at(log.sequenceAt(i), true) : latest()
        break
      }
    }
    return this.#codec.issue(pos)
  }

  async getRecords(shardIterator: unknown, limit: number): Promise<RecordsPage> {
    const pos = this.#codec.open(shardIterator)
    const from = parseSequence(pos.sequenceNumber)
    if (!from || shardIndexOf(pos.shardId) === undefined) throw AwsErrors.InvalidArgumentException('Invalid ShardIterator.')
    const log = await this.#store.shard(pos.stream, pos.shardId, false)
    if (!log) return { records: [], nextShardIterator: this.#codec.issue(pos), millisBehindLatest: 0 }
    const start = log.indexFrom(from.ms, from.sub, pos.inclusive)
    const records = await log.read(start, limit, GET_RECORDS_MAX_BYTES)
    if (records.length === 0) return { records, nextShardIterator: this.#codec.issue(pos), millisBehindLatest: 0 }
    // By the records, not by index: a trim during the read may have shifted the index.
    const last = records[records.length - 1]
    const newest = log.count - 1
    const behind = newest >= 0 && log.sequenceAt(newest) !== last.sequenceNumber
    return {
      records,
      nextShardIterator: this.#codec.issue({ ...pos, sequenceNumber: last.sequenceNumber, inclusive: false }),
      millisBehindLatest: behind ? Math.max(0, log.arrivalAt(newest) - last.approximateArrivalTimestampMs) : 0,
    }
  }
}

function invalidSequence(seq: string, shardId: string, stream: string) {
  return AwsErrors.InvalidArgumentException(
    `StartingSequenceNumber ${seq} used in GetShardIterator on shard ${shardId} in stream ${stream} under account ${ACCOUNT} is invalid.`,
  )
}
