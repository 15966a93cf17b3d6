// The access-pattern buffer: every API call appends a record here, and a shipper sends the buffer
// to a Kinesis stream with PutRecords (<= 500 records a call, failed records retried). It exists
// to ride out short Kinesis outages. What happens when it is full is the 2020 story:
//
// - default (the latent bug of 2020-11-25): append() waits for space. A request handler that
//   appends then hangs until the shipper frees space, which it cannot while Kinesis fails, so
//   sign-ins slow down and then time out some time after Kinesis broke: the time the buffer
//   takes to fill at the current call rate.
// - sustainKinesisErrors (remediation 9): the buffer stays bounded, a record that does not fit is
//   shed and counted, and append() never waits.
//
// Records being shipped still occupy the buffer: space frees only once Kinesis took them.

export interface AccessRecord {
  data: Buffer
  partitionKey: string
}

/** Ships one batch; resolves with the indexes of records Kinesis did not take, rejects when the whole call failed. */
export type ShipBatch = (batch: AccessRecord[]) => Promise<number[]>

/** What the buffer reports as it works (metrics, logs). */
export interface AccessLogEvents {
  shipped?(records: number): void
  shed?(records: number): void
  shipFailed?(err: unknown, records: number): void
  partiallyFailed?(failed: number, records: number): void
}

export interface AccessLogOptions {
  capacity: number
  flushIntervalMs: number
  /** PutRecords takes at most 500 records. */
  batchSize?: number
  sustainKinesisErrors: boolean
  ship: ShipBatch
  /** The shipper holds records until the stream exists. */
  ready?: () => boolean
  /** Longest wait between attempts after failures (the wait doubles from flushIntervalMs). */
  maxBackoffMs?: number
  events?: AccessLogEvents
}

export interface AccessLogStats {
  records: number
  capacity: number
  inFlight: number
  blockedRequests: number
  shipped: number
  shed: number
  shipFailures: number
  consecutiveFailures: number
  sustainKinesisErrors: boolean
}

export class AccessLog {
  readonly capacity: number
  readonly sustainKinesisErrors: boolean
  #queued: AccessRecord[] = []
  #inFlight = 0
  /** Handlers waiting for space, oldest first, each with the record it could not append. */
  #waiting: Array<{ record: AccessRecord; admit: () => void }> = []
  #opts: Required<Omit<AccessLogOptions, 'events' | 'ready'>> & Pick<AccessLogOptions, 'events' | 'ready'>
  #timer: NodeJS.Timeout | undefined
  #shipping: Promise<void> | undefined
  #consecutiveFailures = 0
  #nextAttemptAtMs = 0
  #closed = false
  #shipped = 0
  #shed = 0
  #shipFailures = 0

  constructor(opts: AccessLogOptions) {
    if (!(Number.isInteger(opts.capacity) && opts.capacity > 0)) throw new RangeError(`capacity must be a positive integer, got ${opts.capacity}`)
    if (!(opts.flushIntervalMs > 0)) throw new RangeError(`flushIntervalMs must be positive, got ${opts.flushIntervalMs}`)
    const batchSize = opts.batchSize ?? 500
    if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 500)) throw new RangeError(`batchSize must be an integer in [1, 500], got ${batchSize}`)
    this.#opts = { batchSize, maxBackoffMs: 2_000, ...opts }
    this.capacity = opts.capacity
    this.sustainKinesisErrors = opts.sustainKinesisErrors
  }

  /** Starts the periodic shipper. */
  start(): this {
    // Not unref'd: a backlog waiting for Kinesis is pending work; close() stops the timer.
    this.#timer ??= setInterval(() => this.#kick(), this.#opts.flushIntervalMs)
    return this
  }

  /**
   * Appends one record. Returns undefined when it fit (or was shed); a promise when the caller must
   * wait for space (default mode only). The wait has no timeout of its own: that is the bug.
   */
  append(record: AccessRecord): Promise<void> | undefined {
    if (this.#waiting.length === 0 && this.#size() < this.capacity) {
      this.#queued.push(record)
      if (this.#queued.length >= this.#opts.batchSize) this.#kick()
      return undefined
    }
    if (this.sustainKinesisErrors) {
      this.#shed++
      this.#opts.events?.shed?.(1)
      return undefined
    }
    return new Promise<void>((admit) => this.#waiting.push({ record, admit }))
  }

  stats(): AccessLogStats {
    return {
      records: this.#size(),
      capacity: this.capacity,
      inFlight: this.#inFlight,
      blockedRequests: this.#waiting.length,
      shipped: this.#shipped,
      shed: this.#shed,
      shipFailures: this.#shipFailures,
      consecutiveFailures: this.#consecutiveFailures,
      sustainKinesisErrors: this.sustainKinesisErrors,
    }
  }

  /** Ships what is buffered now, once (tests, and a last try at close). */
  async flush(): Promise<void> {
    await this.#shipping
    this.#nextAttemptAtMs = 0
    this.#kick()
    await this.#shipping
  }

  /** Stops shipping and lets every waiting handler go (their records are dropped with the process). */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#shipping
    for (const w of this.#waiting.splice(0)) w.admit()
  }

  #size(): number {
    return this.#queued.length + this.#inFlight
  }

  // One PutRecords at a time, like the single shipping thread of a web server.
  #kick(): void {
    if (this.#shipping || this.#closed || this.#queued.length === 0) return
    if (Date.now() < this.#nextAttemptAtMs) return
    if (this.#opts.ready && !this.#opts.ready()) return
    this.#shipping = this.#shipOnce().finally(() => {
      this.#shipping = undefined
      // More than a batch waiting: do not sit out a whole interval.
      if (this.#queued.length >= this.#opts.batchSize && this.#consecutiveFailures === 0) this.#kick()
    })
  }

  async #shipOnce(): Promise<void> {
    const batch = this.#queued.splice(0, this.#opts.batchSize)
    this.#inFlight = batch.length
    let failed: AccessRecord[]
    try {
      const failedIndexes = await this.#opts.ship(batch)
      failed = failedIndexes.map((i) => batch[i])
      if (failed.length > 0) this.#opts.events?.partiallyFailed?.(failed.length, batch.length)
    } catch (err) {
      failed = batch
      this.#shipFailures++
      this.#opts.events?.shipFailed?.(err, batch.length)
    }
    const took = batch.length - failed.length
    this.#shipped += took
    if (took > 0) this.#opts.events?.shipped?.(took)
    // Failed records go back to the head, in order: the buffer keeps them until Kinesis takes them.
    this.#inFlight = 0
    this.#queued.unshift(...failed)
    if (failed.length === batch.length) {
      this.#consecutiveFailures++
      this.#nextAttemptAtMs = Date.now() + Math.min(this.#opts.maxBackoffMs, this.#opts.flushIntervalMs * 2 ** (this.#consecutiveFailures - 1))
    } else {
      this.#consecutiveFailures = 0
      this.#nextAttemptAtMs = 0
    }
    this.#admitWaiting()
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#size() < this.capacity) {
      const w = this.#waiting.shift()!
      this.#queued.push(w.record)
      w.admit()
    }
  }
}
