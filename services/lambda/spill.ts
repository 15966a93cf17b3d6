// The bounded agent's overflow: an append-only NDJSON file on the host's disk, one buffered entry a
// line. Appends are group-committed (every line that arrives while a write+fsync runs shares the
// next one), so spilling costs invocations nothing while CloudWatch is down. The flusher replays the
// file from a read offset; once everything written has been shipped the file is truncated.
// A spill left by a previous process is replayed from its start (at-least-once: entries shipped just
// before a crash, but not yet truncated, may be shipped twice).
import { open, mkdir, type FileHandle } from 'node:fs/promises'
import path from 'node:path'

export class SpillFile {
  readonly file: string
  #handle: FileHandle
  /** Bytes durably in the file. */
  #size: number
  #readOffset = 0
  #entries: number
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Writes and truncations run one after another on this chain. */
  #chain: Promise<void> = Promise.resolve()
  #writeScheduled = false
  #lastError: Error | undefined

  private constructor(file: string, handle: FileHandle, size: number, entries: number) {
    this.file = file
    this.#handle = handle
    this.#size = size
    this.#entries = entries
  }

  static async open(file: string): Promise<SpillFile> {
    await mkdir(path.dirname(file), { recursive: true })
    // a+: appends always land at the end; positioned reads still work for the replay.
    const handle = await open(file, 'a+')
    const { size } = await handle.stat()
    let entries = 0
    if (size > 0) {
      const data = await handle.readFile()
      for (const byte of data) if (byte === 0x0a) entries++
    }
    return new SpillFile(file, handle, size, entries)
  }

  /** Queues one serialized entry (ending with "\n"); it is on disk after the next group commit. */
  append(line: Buffer): void {
    this.#pending.push(line)
    this.#pendingBytes += line.length
    this.#entries++
    if (this.#writeScheduled) return
    this.#writeScheduled = true
    void this.#enqueue(async () => {
      this.#writeScheduled = false
      const batch = this.#pending
      const bytes = this.#pendingBytes
      this.#pending = []
      this.#pendingBytes = 0
      const data = Buffer.concat(batch, bytes)
      await this.#handle.write(data, 0, data.length)
      await this.#handle.datasync()
      this.#size += data.length
    })
  }

  /** Entries not yet shipped (on disk or waiting for the group commit). */
  get entries(): number {
    return this.#entries
  }
  /** Bytes not yet shipped (on disk or waiting for the group commit). */
  get unshippedBytes(): number {
    return this.#size - this.#readOffset + this.#pendingBytes
  }
  get hasData(): boolean {
    return this.unshippedBytes > 0
  }
  get lastError(): Error | undefined {
    return this.#lastError
  }

  /** Up to maxEntries complete lines from the read offset, and the offset just past them. */
  async read(maxEntries: number, chunkBytes = 1024 * 1024): Promise<{ lines: Buffer[]; end: number }> {
    const start = this.#readOffset
    const available = this.#size - start
    if (available <= 0) return { lines: [], end: start }
    let length = Math.min(available, chunkBytes)
    for (;;) {
      const buf = Buffer.allocUnsafe(length)
      const { bytesRead } = await this.#handle.read(buf, 0, length, start)
      const lines: Buffer[] = []
      let from = 0
      for (let i = 0; i < bytesRead && lines.length < maxEntries; i++) {
        if (buf[i] !== 0x0a) continue
        lines.push(buf.subarray(from, i + 1))
        from = i + 1
      }
      // One entry longer than the chunk: read more at once rather than stall the replay.
      if (lines.length === 0 && length < available) {
        length = Math.min(available, length * 2)
        continue
      }
      return { lines, end: start + from }
    }
  }

  /** The lines up to `end` were shipped: never read again; the file empties once all is shipped. */
  async consume(end: number, count: number): Promise<void> {
    this.#readOffset = Math.max(this.#readOffset, end)
    this.#entries -= count
    await this.#enqueue(async () => {
      if (this.#readOffset === this.#size && this.#pendingBytes === 0) {
        await this.#handle.truncate(0)
        await this.#handle.datasync()
        this.#size = 0
        this.#readOffset = 0
      }
    })
  }

  /** Waits for every queued append to be on disk. */
  async sync(): Promise<void> {
    await this.#enqueue(async () => {})
  }

  async close(): Promise<void> {
    await this.sync()
    await this.#handle.close()
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(op)
    // A failed write must not wedge the chain; the error is reported by lastError and the metric.
    this.#chain = run.catch((err: Error) => {
      this.#lastError = err
    })
    return this.#chain
  }
}
