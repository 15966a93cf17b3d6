// Per-shard limits, the second of the front-end's three jobs: writes 1 MiB/s or 1,000 records/s,
// reads 5 GetRecords calls/s and 2 MiB/s. Token buckets holding one second of allowance, refilled
// continuously. A read's size is only known after it ran, so its bytes are charged afterwards and
// may drive the bucket below zero: the following calls are refused until it refills, which is
// how Kinesis treats one large GetRecords ("subsequent calls ... throw ... for the next seconds").
// The clock is injected so tests can move time without sleeping.

export type Clock = () => number

export interface ThrottleLimits {
  writeRecordsPerSec: number
  writeBytesPerSec: number
  readCallsPerSec: number
  readBytesPerSec: number
}

export const KINESIS_SHARD_LIMITS: ThrottleLimits = {
  writeRecordsPerSec: 1000,
  writeBytesPerSec: 1024 * 1024,
  readCallsPerSec: 5,
  readBytesPerSec: 2 * 1024 * 1024,
}

export interface ThrottleOptions {
  enabled: boolean
  clock?: Clock
  limits?: Partial<ThrottleLimits>
  /** Buckets idle this long are dropped (they would be full anyway). */
  idleMs?: number
}

interface Buckets {
  atMs: number
  writeRecords: number
  writeBytes: number
  readCalls: number
  readBytes: number
}

export class ShardThrottle {
  readonly enabled: boolean
  readonly limits: ThrottleLimits
  readonly #clock: Clock
  readonly #buckets = new Map<string, Buckets>()
  readonly #idleMs: number
  #sweptAtMs: number

  constructor(opts: ThrottleOptions) {
    this.enabled = opts.enabled
    this.limits = { ...KINESIS_SHARD_LIMITS, ...opts.limits }
    for (const [name, v] of Object.entries(this.limits)) {
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new RangeError(`throttle limit ${name}: expected a number > 0, got ${v}`)
    }
    this.#clock = opts.clock ?? Date.now
    this.#idleMs = opts.idleMs ?? 60_000
    this.#sweptAtMs = this.#clock()
  }

  /** Admits one record of `bytes` (data + partition key) to a shard, or refuses it whole. */
  admitWrite(shardKey: string, bytes: number): boolean {
    if (!this.enabled) return true
    const b = this.#refilled(shardKey)
    if (b.writeRecords < 1 || b.writeBytes < bytes) return false
    b.writeRecords -= 1
    b.writeBytes -= bytes
    return true
  }

  /** Admits one GetRecords call; refused while the call or byte allowance is spent. */
  admitRead(shardKey: string): boolean {
    if (!this.enabled) return true
    const b = this.#refilled(shardKey)
    if (b.readCalls < 1 || b.readBytes <= 0) return false
    b.readCalls -= 1
    return true
  }

  /** Charges the bytes a GetRecords call returned. */
  chargeRead(shardKey: string, bytes: number): void {
    if (!this.enabled || bytes <= 0) return
    this.#refilled(shardKey).readBytes -= bytes
  }

  /** Shards with a live bucket (for tests and metrics). */
  get trackedShards(): number {
    return this.#buckets.size
  }

  #refilled(key: string): Buckets {
    const now = this.#clock()
    if (now - this.#sweptAtMs > this.#idleMs) this.#sweep(now)
    const l = this.limits
    let b = this.#buckets.get(key)
    if (!b) {
      b = { atMs: now, writeRecords: l.writeRecordsPerSec, writeBytes: l.writeBytesPerSec, readCalls: l.readCallsPerSec, readBytes: l.readBytesPerSec }
      this.#buckets.set(key, b)
      return b
    }
    const elapsedSec = Math.max(0, now - b.atMs) / 1000
    if (elapsedSec > 0) {
      b.writeRecords = Math.min(l.writeRecordsPerSec, b.writeRecords + elapsedSec * l.writeRecordsPerSec)
      b.writeBytes = Math.min(l.writeBytesPerSec, b.writeBytes + elapsedSec * l.writeBytesPerSec)
      b.readCalls = Math.min(l.readCallsPerSec, b.readCalls + elapsedSec * l.readCallsPerSec)
      b.readBytes = Math.min(l.readBytesPerSec, b.readBytes + elapsedSec * l.readBytesPerSec)
      b.atMs = now
    }
    return b
  }

  #sweep(now: number): void {
    this.#sweptAtMs = now
    for (const [key, b] of this.#buckets) if (now - b.atMs > this.#idleMs) this.#buckets.delete(key)
  }
}
