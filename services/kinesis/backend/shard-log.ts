// One shard's append-only log file and its in-memory index.
//
// Group commit: appends queue up; one writer at a time takes the whole queue, gives its records
// sequence numbers, writes them with one write() and covers them with one fdatasync(). Only then
// are the records indexed (visible to readers) and their appends answered, so nothing a client
// saw acknowledged, or read, can be lost to a crash. Appends arriving while a write+fsync runs
// wait for the next one and share it: the busier the shard, the bigger the group.
//
// The index keeps, per record, its sequence-number parts, file offset and frame size (32 bytes a
// record); the data stays in the file (and the page cache), read back with one positioned read per
// GetRecords since a shard's records are contiguous.
import fs from 'node:fs/promises'
import path from 'node:path'
import { AwsErrors } from '../../kit/index.js'
import { FIXED_PAYLOAD_BYTES, HEADER_BYTES, checkFrame, frameBound, readFrame, writeFrame } from './frame.js'
import { compareSequence, formatSequence, sequencePrefix } from './sequence.js'

export interface AppendRecord {
  /** base64 */
  data: string
  partitionKey: string
}

export interface StoredRecord {
  sequenceNumber: string
  data: Buffer
  partitionKey: string
  approximateArrivalTimestampMs: number
}

export interface CommitReport {
  records: number
  bytes: number
  fsyncSeconds: number
}

export interface RecoveryReport {
  file: string
  records: number
  bytes: number
  /** Bytes of a torn tail cut off (0 for a clean log). */
  truncatedBytes: number
  reason?: string
}

export interface ShardLogOptions {
  now?: () => number
  onCommit?: (report: CommitReport) => void
}

interface PendingAppend {
  records: AppendRecord[]
  resolve: (sequenceNumbers: string[]) => void
  reject: (err: Error) => void
}

const SCAN_CHUNK_BYTES = 4 * 1024 * 1024

export class ShardLog {
  readonly file: string
  readonly shardIndex: number
  readonly prefix: string
  #fh: fs.FileHandle
  #now: () => number
  #onCommit?: (report: CommitReport) => void
  /** File size covered by fsync: where the next group goes. */
  #end = 0
  #count = 0
  #ms = new Float64Array(1024)
  #sub = new Float64Array(1024)
  #offset = new Float64Array(1024)
  #size = new Uint32Array(1024)
  /** The last sequence number handed out (also to a group whose write failed: never reused). */
  #lastMs = 0
  #lastSub = -1
  #pending: PendingAppend[] = []
  /** Set from the first queued append until the queue is empty again. */
  #draining: Promise<void> | undefined
  #broken: Error | undefined
  #closed = false

  private constructor(file: string, shardIndex: number, fh: fs.FileHandle, opts: ShardLogOptions) {
    this.file = file
    this.shardIndex = shardIndex
    this.prefix = sequencePrefix(shardIndex)
    this.#fh = fh
    this.#now = opts.now ?? Date.now
    this.#onCommit = opts.onCommit
  }

  /** Opens (creating it if asked) and replays the log; a torn tail is cut off. */
  static async open(file: string, shardIndex: number, opts: ShardLogOptions & { create?: boolean } = {}): Promise<{ log: ShardLog; recovery: RecoveryReport }> {
    let created = false
    try {
      await fs.access(file)
    } catch {
      if (!opts.create) throw Object.assign(new Error(`no log at ${file}`), { code: 'ENOENT' })
      await fs.mkdir(path.dirname(file), { recursive: true })
      created = true
    }
    const fh = await fs.open(file, 'a+')
    const log = new ShardLog(file, shardIndex, fh, opts)
    if (created) {
      // The new file's directory entries must be durable before the first append is acknowledged.
      await syncDir(path.dirname(file))
      await syncDir(path.dirname(path.dirname(file)))
    }
    const recovery = await log.#recover()
    return { log, recovery }
  }

  get count(): number {
    return this.#count
  }

  /** Appends in order; resolves with their sequence numbers once they are on disk. */
  append(records: AppendRecord[]): Promise<string[]> {
    if (this.#broken) return Promise.reject(this.#broken)
    if (this.#closed) return Promise.reject(AwsErrors.ServiceUnavailable(`shard log ${this.file} is closed`))
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, resolve, reject })
      // setImmediate, not at once: requests parsed in the same I/O turn join the first group.
      this.#draining ??= new Promise<void>((done) => setImmediate(() => void this.#drain().then(done)))
    })
  }

  // --- reading -------------------------------------------------------------------------------

  sequenceAt(i: number): string {
    return formatSequence(this.prefix, this.#ms[i], this.#sub[i])
  }

  arrivalAt(i: number): number {
    return this.#ms[i]
  }

  /** Index of the first record after (or at, when inclusive) the given sequence-number parts. */
  indexFrom(ms: number, sub: number, inclusive: boolean): number {
    let lo = 0
    let hi = this.#count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const c = compareSequence(this.#ms[mid], this.#sub[mid], ms, sub)
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Index of the first record that arrived at or after timestampMs (arrival times never decrease). */
  indexAtTime(timestampMs: number): number {
    let lo = 0
    let hi = this.#count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#ms[mid] < timestampMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Up to `limit` records from index `start`, with at most maxBytes of data and keys (always one when there is one). */
  async read(start: number, limit: number, maxBytes: number): Promise<StoredRecord[]> {
    const count = this.#count
    let end = start
    let bytes = 0
    while (end < count && end - start < limit) {
      const recordBytes = this.#size[end] - HEADER_BYTES - FIXED_PAYLOAD_BYTES
      if (end > start && bytes + recordBytes > maxBytes) break
      bytes += recordBytes
      end++
    }
    if (end <= start) return []
    const from = this.#offset[start]
    const length = this.#offset[end - 1] + this.#size[end - 1] - from
    const buf = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const { bytesRead } = await this.#fh.read(buf, got, length - got, from + got)
      if (bytesRead === 0) throw AwsErrors.InternalFailure(`shard log ${this.file} is shorter than its index`)
      got += bytesRead
    }
    const out: StoredRecord[] = new Array(end - start)
    let off = 0
    for (let i = 0; i < out.length; i++) {
      const f = readFrame(buf, off)
      out[i] = { sequenceNumber: formatSequence(this.prefix, f.ms, f.sub), data: f.data, partitionKey: f.partitionKey, approximateArrivalTimestampMs: f.ms }
      off += f.bytes
    }
    return out
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#draining) await this.#draining
    await this.#fh.close()
  }

  // --- group commit ----------------------------------------------------------------------------

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const group = this.#pending
        this.#pending = []
        if (this.#broken) {
          for (const p of group) p.reject(this.#broken)
          continue
        }
        await this.#commit(group).catch((err) => {
          const failure = AwsErrors.InternalFailure(`append to ${this.file} failed: ${(err as Error).message}`)
          for (const p of group) p.reject(failure)
        })
      }
    } finally {
      // Cleared in the same turn that saw the queue empty: an append queued after this starts a
      // new drain, one queued before it was taken by the loop.
      this.#draining = undefined
    }
  }

  async #commit(group: PendingAppend[]): Promise<void> {
    let bound = 0
    let n = 0
    for (const p of group) {
      n += p.records.length
      for (const r of p.records) bound += frameBound(r.partitionKey, r.data)
    }
    this.#reserve(this.#count + n)
    const buf = Buffer.allocUnsafe(bound)
    const now = this.#now()
    const fileStart = this.#end
    let ms = this.#lastMs
    let sub = this.#lastSub
    let off = 0
    let i = this.#count
    const answers: string[][] = new Array(group.length)
    for (let g = 0; g < group.length; g++) {
      const records = group[g].records
      const seqs: string[] = new Array(records.length)
      for (let j = 0; j < records.length; j++) {
        if (now > ms) {
          ms = now
          sub = 0
        } else sub++
        const start = off
        off = writeFrame(buf, off, ms, sub, records[j].partitionKey, records[j].data)
        // Staged past #count: readers do not see these until the fsync covered them.
        this.#ms[i] = ms
        this.#sub[i] = sub
        this.#offset[i] = fileStart + start
        this.#size[i] = off - start
        i++
        seqs[j] = formatSequence(this.prefix, ms, sub)
      }
      answers[g] = seqs
    }
    this.#lastMs = ms
    this.#lastSub = sub
    let fsyncSeconds: number
    try {
      let written = 0
      while (written < off) {
        const { bytesWritten } = await this.#fh.write(buf, written, off - written)
        written += bytesWritten
      }
      const t0 = performance.now()
      await this.#fh.datasync()
      fsyncSeconds = (performance.now() - t0) / 1000
    } catch (err) {
      const failure = AwsErrors.InternalFailure(`append to ${this.file} failed: ${(err as Error).message}`)
      // Cut what may have reached the file, so the log and the index agree again; if even that
      // fails the shard stops taking writes until a restart recovers it from disk.
      try {
        await this.#fh.truncate(fileStart)
        await this.#fh.datasync()
      } catch {
        this.#broken = failure
      }
      for (const p of group) p.reject(failure)
      return
    }
    this.#end = fileStart + off
    this.#count = i
    this.#onCommit?.({ records: n, bytes: off, fsyncSeconds })
    for (let g = 0; g < group.length; g++) group[g].resolve(answers[g])
  }

  #reserve(capacity: number): void {
    if (capacity <= this.#ms.length) return
    let size = this.#ms.length
    while (size < capacity) size *= 2
    const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size)
      b.set(a.subarray(0, this.#count))
      return b
    }
    this.#ms = grow(this.#ms, (k) => new Float64Array(k))
    this.#sub = grow(this.#sub, (k) => new Float64Array(k))
    this.#offset = grow(this.#offset, (k) => new Float64Array(k))
    this.#size = grow(this.#size, (k) => new Uint32Array(k))
  }

  // --- recovery --------------------------------------------------------------------------------

  async #recover(): Promise<RecoveryReport> {
    const { size } = await this.#fh.stat()
    let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(size, HEADER_BYTES)))
    let bufStart = 0 // file offset of buf[0]
    let have = 0 // valid bytes in buf
    let p = 0 // parse position in buf
    let reason: string | undefined
    for (;;) {
      const check = checkFrame(buf, p, have)
      if (check.ok) {
        const f = readFrame(buf, p)
        if (this.#count > 0 && compareSequence(f.ms, f.sub, this.#ms[this.#count - 1], this.#sub[this.#count - 1]) <= 0) {
          reason = 'sequence number out of order'
          break
        }
        this.#reserve(this.#count + 1)
        this.#ms[this.#count] = f.ms
        this.#sub[this.#count] = f.sub
        this.#offset[this.#count] = bufStart + p
        this.#size[this.#count] = check.bytes
        this.#count++
        p += check.bytes
        continue
      }
      if (check.reason !== 'short') {
        reason = check.reason === 'crc' ? 'CRC mismatch' : 'impossible frame length'
        break
      }
      if (bufStart + have >= size) {
        if (p < have) reason = 'incomplete frame'
        break
      }
      // Need more bytes: keep the unparsed rest, grow for a frame bigger than the buffer, read on.
      const rest = have - p
      const need = rest >= HEADER_BYTES ? HEADER_BYTES + buf.readUInt32LE(p) : HEADER_BYTES
      const next = need > buf.length ? Buffer.allocUnsafe(need) : buf
      buf.copy(next, 0, p, have)
      buf = next
      bufStart += p
      have = rest
      p = 0
      const { bytesRead } = await this.#fh.read(buf, have, Math.min(buf.length - have, size - bufStart - have), bufStart + have)
      if (bytesRead === 0) break
      have += bytesRead
    }
    const good = bufStart + p
    if (this.#count > 0) {
      this.#lastMs = this.#ms[this.#count - 1]
      this.#lastSub = this.#sub[this.#count - 1]
    }
    if (good < size) {
      await this.#fh.truncate(good)
      await this.#fh.datasync()
    }
    this.#end = good
    return { file: this.file, records: this.#count, bytes: good, truncatedBytes: size - good, ...(reason ? { reason } : {}) }
  }
}

export async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r')
  try {
    await dh.sync()
  } finally {
    await dh.close()
  }
}
