// The remediation AWS announced for CloudWatch (docs/fidelity.md, remediation 8): every accepted datapoint is
// appended to a log on local disk and fsynced before PutMetricData answers, is readable at once by
// queries and alarms, and stays "pending" until Kinesis acknowledges it (the shipper). Entries
// older than the retention are dropped, pending or not (counted). The log survives a restart.
//
// Log format: JSON lines, {"k":"put","d":[{...datapoint, "at": storedAtMs}]} and
// {"k":"ack","ids":[...]}; a torn last line (a crash mid-write) is cut off on open. Compaction
// rewrites only what is still within the retention, via a temp file, fsync and rename.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Datapoint } from './datapoints.js'

interface Entry {
  datapoint: Datapoint
  storedAtMs: number
  shipped: boolean
}

export interface LocalStoreOptions {
  retentionMs: number
  now?: () => number
}

export class LocalStore {
  readonly file: string
  readonly #retentionMs: number
  readonly #now: () => number
  /** Insertion order = storage order, so expiry walks from the front. */
  readonly #entries = new Map<string, Entry>()
  readonly #pending = new Map<string, Datapoint>()
  #fh: fs.FileHandle
  #bytes: number
  #bytesAfterCompaction: number
  #expiredTotal = 0
  /** Entries dropped since the last compaction: their lines still sit in the file. */
  #deadEntries = 0
  // Serialises file work: appends that arrive while an fsync runs share the next one (group commit).
  #tail: Promise<void> = Promise.resolve()
  #queued: Buffer[] = []
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = []
  #flushScheduled = false
  #closed = false

  private constructor(file: string, fh: fs.FileHandle, bytes: number, opts: LocalStoreOptions) {
    this.file = file
    this.#fh = fh
    this.#bytes = bytes
    this.#bytesAfterCompaction = bytes
    this.#retentionMs = opts.retentionMs
    this.#now = opts.now ?? Date.now
  }

  static async open(file: string, opts: LocalStoreOptions): Promise<LocalStore> {
    await fs.mkdir(path.dirname(file), { recursive: true })
    let text = ''
    try {
      text = await fs.readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1)
    if (complete.length !== text.length) await fs.truncate(file, Buffer.byteLength(complete))
    const fh = await fs.open(file, 'a')
    const store = new LocalStore(file, fh, Buffer.byteLength(complete), opts)
    for (const line of complete.split('\n')) {
      if (line) store.#replay(line)
    }
    store.expire()
    return store
  }

  #replay(line: string): void {
    let rec: any
    try {
      rec = JSON.parse(line)
    } catch {
      return
    }
    if (rec.k === 'put' && Array.isArray(rec.d)) {
      for (const { at, ...datapoint } of rec.d) {
        this.#entries.set(datapoint.id, { datapoint, storedAtMs: at, shipped: false })
        this.#pending.set(datapoint.id, datapoint)
      }
    } else if (rec.k === 'ack' && Array.isArray(rec.ids)) {
      for (const id of rec.ids) this.#markShipped(id)
    }
  }

  get retentionMs(): number {
    return this.#retentionMs
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  get size(): number {
    return this.#entries.size
  }

  get expiredTotal(): number {
    return this.#expiredTotal
  }

  /** Every datapoint still within the retention (to serve queries after a restart). */
  live(): Datapoint[] {
    return [...this.#entries.values()].map((e) => e.datapoint)
  }

  /** The oldest pending datapoints, up to limit. */
  pending(limit: number): Datapoint[] {
    const out: Datapoint[] = []
    for (const p of this.#pending.values()) {
      if (out.length >= limit) break
      out.push(p)
    }
    return out
  }

  /** Appends and fsyncs; resolves only once the datapoints are durable. */
  async append(datapoints: Datapoint[]): Promise<void> {
    const at = this.#now()
    await this.#write(JSON.stringify({ k: 'put', d: datapoints.map((p) => ({ ...p, at })) }))
    for (const p of datapoints) {
      this.#entries.set(p.id, { datapoint: p, storedAtMs: at, shipped: false })
      this.#pending.set(p.id, p)
    }
  }

  /** Kinesis acknowledged these. The ack line is written too, but a lost one only means a re-ship, which consumers de-duplicate. */
  async markShipped(ids: string[]): Promise<void> {
    for (const id of ids) this.#markShipped(id)
    await this.#write(JSON.stringify({ k: 'ack', ids }))
  }

  #markShipped(id: string): void {
    const e = this.#entries.get(id)
    if (e) e.shipped = true
    this.#pending.delete(id)
  }

  /** Drops entries stored longer ago than the retention; returns how many pending ones were lost. Compacts when worth it. */
  expire(): number {
    const oldest = this.#now() - this.#retentionMs
    let dropped = 0
    let lostPending = 0
    for (const [id, e] of this.#entries) {
      if (e.storedAtMs >= oldest) break
      this.#entries.delete(id)
      if (this.#pending.delete(id)) lostPending++
      dropped++
    }
    this.#expiredTotal += lostPending
    this.#deadEntries += dropped
    // Rewrite only when it pays: at least as many dead entries as live ones, or the file doubled
    // since the last rewrite (acks and appends), so the cost per appended byte stays constant.
    const mostlyDead = this.#deadEntries > 0 && this.#deadEntries >= Math.max(1_000, this.#entries.size)
    const doubled = this.#bytes > Math.max(2 * this.#bytesAfterCompaction, 8 * 1024 * 1024)
    if (mostlyDead || doubled || (this.#entries.size === 0 && this.#deadEntries > 0)) void this.compact()
    return lostPending
  }

  /** Rewrites the log with only the live entries (temp file, fsync, rename, fsync of the directory). */
  compact(): Promise<void> {
    const job = this.#tail.then(async () => {
      if (this.#closed) return
      const lines: string[] = []
      const entries = [...this.#entries.values()]
      for (let i = 0; i < entries.length; i += 500) {
        lines.push(JSON.stringify({ k: 'put', d: entries.slice(i, i + 500).map((e) => ({ ...e.datapoint, at: e.storedAtMs })) }))
      }
      const shipped = entries.filter((e) => e.shipped).map((e) => e.datapoint.id)
      if (shipped.length > 0) lines.push(JSON.stringify({ k: 'ack', ids: shipped }))
      const body = lines.length > 0 ? `${lines.join('\n')}\n` : ''
      const tmp = `${this.file}.tmp`
      const out = await fs.open(tmp, 'w')
      try {
        await out.writeFile(body)
        await out.sync()
      } finally {
        await out.close()
      }
      await this.#fh.close()
      await fs.rename(tmp, this.file)
      const dir = await fs.open(path.dirname(this.file), 'r')
      await dir.sync().finally(() => dir.close())
      this.#fh = await fs.open(this.file, 'a')
      this.#bytes = this.#bytesAfterCompaction = Buffer.byteLength(body)
      this.#deadEntries = 0
    })
    this.#tail = job.catch(() => {})
    return job
  }

  #write(line: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('local store closed'))
    return new Promise((resolve, reject) => {
      this.#queued.push(Buffer.from(`${line}\n`))
      this.#waiters.push({ resolve, reject })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        this.#tail = this.#tail.then(() => this.#flush())
      }
    })
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false
    const buf = Buffer.concat(this.#queued.splice(0))
    const waiters = this.#waiters.splice(0)
    try {
      await this.#fh.write(buf)
      await this.#fh.datasync()
      this.#bytes += buf.length
      for (const w of waiters) w.resolve()
    } catch (err) {
      for (const w of waiters) w.reject(err)
    }
  }

  async close(): Promise<void> {
    await this.#tail
    this.#closed = true
    await this.#fh.close()
  }
}
