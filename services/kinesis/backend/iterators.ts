// Shard iterators: opaque to SDK users, but not to the fleet. The token is
// base64url(JSON payload) "." base64url(HMAC-SHA256(payload)): a front-end reads stream and shardId
// to route GetRecords without the secret; only a back-end (which has ITERATOR_SECRET) can mint
// one, so a forged or edited iterator is refused. Like Kinesis's, they expire after 5 minutes.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { AwsError, AwsErrors } from '../../kit/index.js'

export const ITERATOR_TTL_MS = 5 * 60_000

export interface IteratorPosition {
  stream: string
  shardId: string
  /** Records after this sequence number, or at it when inclusive. */
  sequenceNumber: string
  inclusive: boolean
}

interface Payload {
  stream: string
  shardId: string
  seq: string
  inc: 0 | 1
  /** Issued at, ms since the epoch. */
  iat: number
}

export class IteratorCodec {
  #secret: string
  #now: () => number
  #ttlMs: number

  constructor(secret: string, opts: { now?: () => number; ttlMs?: number } = {}) {
    if (!secret) throw new Error('an iterator secret is required')
    this.#secret = secret
    this.#now = opts.now ?? Date.now
    this.#ttlMs = opts.ttlMs ?? ITERATOR_TTL_MS
  }

  issue(pos: IteratorPosition): string {
    const payload: Payload = { stream: pos.stream, shardId: pos.shardId, seq: pos.sequenceNumber, inc: pos.inclusive ? 1 : 0, iat: this.#now() }
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
    return `${body}.${this.#sign(body).toString('base64url')}`
  }

  /** The position an iterator stands for; InvalidArgumentException if forged, ExpiredIteratorException if old. */
  open(token: unknown): IteratorPosition {
    if (typeof token !== 'string') throw invalid()
    const dot = token.indexOf('.')
    if (dot <= 0 || dot !== token.lastIndexOf('.')) throw invalid()
    const body = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1), 'base64url')
    const expected = this.#sign(body)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid()
    let p: Payload
    try {
      p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      throw invalid()
    }
    if (typeof p?.stream !== 'string' || typeof p.shardId !== 'string' || typeof p.seq !== 'string' || typeof p.iat !== 'number') throw invalid()
    const now = this.#now()
    if (now - p.iat > this.#ttlMs) {
      throw new AwsError(
        'ExpiredIteratorException',
        400,
        `Iterator expired. The iterator was created at time ${amzUtc(p.iat)} while right now it is ${amzUtc(now)} which is further in the future than the tolerated delay of ${this.#ttlMs} milliseconds.`,
      )
    }
    return { stream: p.stream, shardId: p.shardId, sequenceNumber: p.seq, inclusive: p.inc === 1 }
  }

  #sign(body: string): Buffer {
    return createHmac('sha256', this.#secret).update(body).digest()
  }
}

const invalid = () => AwsErrors.InvalidArgumentException('Invalid ShardIterator.')

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** Java's Date.toString() in UTC, as Kinesis prints times: "Wed Nov 25 13:15:02 UTC 2020". */
function amzUtc(ms: number): string {
  const d = new Date(ms)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
}
