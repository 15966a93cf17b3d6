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
//
// Retention: trimBefore() drops the records that arrived before a time by compaction, as Kinesis
// drops records older than the stream's retention. The retained tail is copied to <file>.compact,
// fsynced and renamed over the log; the file handle and the index then change in one synchronous
// step, so a reader sees either the old file with the old offsets or the new one with the new.
// Appends go on while the bulk is copied (the old file only grows past it); for the last step (the
// bytes appended meanwhile, fsync, rename, swap) compaction takes the group commit's turn, and
// appends queue until it is done.
import fs from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'
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

export interface TrimReport {
  file: string
  records: number
  /** Bytes the log file shrank by. */
  bytes: number
  /** Bytes copied to the compacted file (the retained tail). */
  retainedBytes: number
  seconds: number
  /** Of which appends waited: the last step, with the group commit held. */
  heldSeconds: number
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

/** An open file and the reads using it: a file replaced by compaction closes after its last read. */
interface Handle {
  fh: fs.FileHandle
  reads: number
  retired: boolean
}

const SCAN_CHUNK_BYTES = 4 * 1024 * 1024
const COPY_CHUNK_BYTES = 4 * 1024 * 1024
const MIN_INDEX_CAPACITY = 1024
export const COMPACT_SUFFIX = '.compact'
const COMPACT_FLAGS = fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_APPEND

export class ShardLog {
  readonly file: string
  readonly shardIndex: number
  readonly prefix: string
  #handle: Handle
  #now: () => number
  #onCommit?: (report: CommitReport) => void
  /** File size covered by fsync: where the next group goes. */
  #end = 0
  #count = 0
  #ms = new Float64Array(MIN_INDEX_CAPACITY)
  #sub = new Float64Array(MIN_INDEX_CAPACITY)
  #offset = new Float64Array(MIN_INDEX_CAPACITY)
  #size = new Uint32Array(MIN_INDEX_CAPACITY)
  /** The last sequence number handed out (also to a group whose write failed: never reused). */
  #lastMs = 0
  #lastSub = -1
  #pending: PendingAppend[] = []
  /** Set from the first queued append until the queue is empty again. */
  #draining: Promise<void> | undefined
  /** Set while a compaction runs (one at a time). */
  #compacting: Promise<TrimReport | undefined> | undefined
  /** Set for a compaction's last step: no new group starts, appends wait in #pending. */
  #holdGroups = false
  #broken: Error | undefined
  #closed = false

  private constructor(file: string, shardIndex: number, fh: fs.FileHandle, opts: ShardLogOptions) {
    this.file = file
    this.shardIndex = shardIndex
    this.prefix = sequencePrefix(shardIndex)
    this.#handle = { fh, reads: 0, retired: false }
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
    // The copy of a compaction a crash interrupted before its rename: the log is still whole.
    await fs.rm(file + COMPACT_SUFFIX, { force: true })
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

  /** Bytes of the log file (all of them covered by fsync). */
  get bytes(): number {
    return this.#end
  }

  /** Appends in order; resolves with their sequence numbers once they are on disk. */
  append(records: AppendRecord[]): Promise<string[]> {
    if (this.#broken) return Promise.reject(this.#broken)
    if (this.#closed) return Promise.reject(AwsErrors.ServiceUnavailable(`shard log ${this.file} is closed`))
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, resolve, reject })
      this.#kick()
    })
  }

  #kick(): void {
    if (this.#draining || this.#holdGroups || this.#pending.length === 0) return
    // setImmediate, not at once: requests parsed in the same I/O turn join the first group.
    this.#draining = new Promise<void>((done) => setImmediate(() => void this.#drain().then(done)))
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
    // Taken with the offsets, in the same turn: a compaction may swap file and offsets meanwhile,
    // and these offsets hold in this file.
    const handle = this.#handle
    handle.reads++
    const buf = Buffer.allocUnsafe(length)
    try {
      let got = 0
      while (got < length) {
        const { bytesRead } = await handle.fh.read(buf, got, length - got, from + got)
        if (bytesRead === 0) throw AwsErrors.InternalFailure(`shard log ${this.file} is shorter than its index`)
        got += bytesRead
      }
    } finally {
      handle.reads--
      if (handle.retired && handle.reads === 0) void handle.fh.close().catch(() => undefined)
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
    while (this.#draining || this.#compacting) await (this.#draining ?? this.#compacting?.catch(() => undefined))
    this.#handle.retired = true
    if (this.#handle.reads === 0) await this.#handle.fh.close()
  }

  // --- retention -------------------------------------------------------------------------------

  /**
   * Drops every record that arrived before cutoffMs, rewriting the log without them. Undefined
   * when nothing was old enough (or the log is closed). Sequence numbers go on from the last one
   * handed out, even when every record went.
   */
  trimBefore(cutoffMs: number): Promise<TrimReport | undefined> {
    if (this.#closed || this.#broken || this.#count === 0 || this.#ms[0] >= cutoffMs) return Promise.resolve(undefined)
    if (this.#compacting)
      return this.#compacting.then(
        () => this.trimBefore(cutoffMs),
        () => this.trimBefore(cutoffMs),
      )
    const compacting = this.#compact(cutoffMs).finally(() => {
      this.#compacting = undefined
      this.#holdGroups = false
      this.#kick()
    })
    this.#compacting = compacting
    return compacting
  }

  async #compact(cutoffMs: number): Promise<TrimReport | undefined> {
    const t0 = performance.now()
    const k = this.indexAtTime(cutoffMs)
    if (k === 0) return undefined
    // Records before k stay as they are until this compaction removes them: `from` holds.
    const from = k < this.#count ? this.#offset[k] : this.#end
    const tmp = this.file + COMPACT_SUFFIX
    const old = this.#handle
    let fh: fs.FileHandle | undefined
    let held: number
    try {
      // O_APPEND like the log's own handle: the group commit writes without a position.
      const out = await fs.open(tmp, COMPACT_FLAGS)
      fh = out
      const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(64 * 1024, this.#end - from)))
      // The bulk, while groups go on being written after it.
      let copied = from
      const copyTo = async (end: number) => {
        while (copied < end) {
          const { bytesRead } = await old.fh.read(buf, 0, Math.min(buf.length, end - copied), copied)
          if (bytesRead === 0) throw new Error(`shard log ${this.file} is shorter than its index`)
          for (let w = 0; w < bytesRead;) w += (await out.write(buf, w, bytesRead - w)).bytesWritten
          copied += bytesRead
        }
      }
      await copyTo(this.#end)
      await out.datasync()
      // The rest, with the group commit held: the group being written finishes, no other starts.
      held = performance.now()
      this.#holdGroups = true
      while (this.#draining) await this.#draining
      if (this.#broken) throw this.#broken
      await copyTo(this.#end)
      await fh.datasync()
      await fs.rename(tmp, this.file)
    } catch (err) {
      // The log is untouched: keep it, whole, and try again at the next trim.
      await fh?.close().catch(() => undefined)
      await fs.rm(tmp, { force: true }).catch(() => undefined)
      throw AwsErrors.InternalFailure(`compaction of ${this.file} failed: ${(err as Error).message}`)
    }
    const retained = this.#end - from
    // From the rename on, the name is the new file: switch to it in this same turn.
    this.#handle = { fh, reads: 0, retired: false }
    old.retired = true
    if (old.reads === 0) void old.fh.close().catch(() => undefined)
    const n = this.#count - k
    this.#ms.copyWithin(0, k, this.#count)
    this.#sub.copyWithin(0, k, this.#count)
    this.#offset.copyWithin(0, k, this.#count)
    this.#size.copyWithin(0, k, this.#count)
    for (let i = 0; i < n; i++) this.#offset[i] -= from
    this.#count = n
    this.#end = retained
    this.#shrink()
    try {
      await syncDir(path.dirname(this.file))
    } catch (err) {
      // A crash could bring back the old file under the name, while appends would go to the new
      // one: stop taking writes until a restart recovers the shard from what is on disk.
      this.#broken = AwsErrors.InternalFailure(`compaction of ${this.file}: directory fsync failed: ${(err as Error).message}`)
    }
    const end = performance.now()
    return { file: this.file, records: k, bytes: from, retainedBytes: retained, seconds: (end - t0) / 1000, heldSeconds: (end - held) / 1000 }
  }

  /** Gives memory back once trimming left the index mostly empty. */
  #shrink(): void {
    let size = this.#ms.length
    while (size > MIN_INDEX_CAPACITY && this.#count * 4 <= size) size >>>= 1
    if (size === this.#ms.length) return
    this.#ms = this.#ms.slice(0, size)
    this.#sub = this.#sub.slice(0, size)
    this.#offset = this.#offset.slice(0, size)
    this.#size = this.#size.slice(0, size)
  }

  // --- group commit ----------------------------------------------------------------------------

  async #drain(): Promise<void> {
    try {
      // A waiting compaction goes next: the queue it leaves is taken by the drain it kicks.
      while (this.#pending.length > 0 && !this.#holdGroups) {
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
        const { bytesWritten } = await this.#handle.fh.write(buf, written, off - written)
        written += bytesWritten
      }
      const t0 = performance.now()
      await this.#handle.fh.datasync()
      fsyncSeconds = (performance.now() - t0) / 1000
    } catch (err) {
      const failure = AwsErrors.InternalFailure(`append to ${this.file} failed: ${(err as Error).message}`)
      // Cut what may have reached the file, so the log and the index agree again; if even that
      // fails the shard stops taking writes until a restart recovers it from disk.
      try {
        await this.#handle.fh.truncate(fileStart)
        await this.#handle.fh.datasync()
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
    const { size } = await this.#handle.fh.stat()
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
      const { bytesRead } = await this.#handle.fh.read(buf, have, Math.min(buf.length - have, size - bufStart - have), bufStart + have)
      if (bytesRead === 0) break
      have += bytesRead
    }
    const good = bufStart + p
    if (this.#count > 0) {
      this.#lastMs = this.#ms[this.#count - 1]
      this.#lastSub = this.#sub[this.#count - 1]
    }
    if (good < size) {
      await this.#handle.fh.truncate(good)
      await this.#handle.fh.datasync()
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
