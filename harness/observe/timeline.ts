// timeline.jsonl: one line per sample, { service, metric, value, atMs } with atMs from the start
// of the method (negative before it). Written as the run goes, so a run that dies keeps what it saw.
// In memory (the runner judges probes on it during the run; the report reads it back) it is a
// TimelineStore: a long run writes millions of rows, and one object per row, each with its own
// metric string, cost the harness gigabytes (bench/timeline-memory.ts).
import fs from 'node:fs'
import type { TimelineRow, TimelineRows } from '../analyze/journal.js'

export type { TimelineRow, TimelineRows }

const CHUNK_BITS = 16
const CHUNK_ROWS = 1 << CHUNK_BITS
const CHUNK_MASK = CHUNK_ROWS - 1

interface Chunk {
  service: Uint32Array
  metric: Uint32Array
  value: Float64Array
  atMs: Float64Array
}

/**
 * A string of its own. A scraped series' key can be a slice of the whole /metrics answer it was
 * parsed from, and keeping the slice keeps that answer: kilobytes per row.
 */
const ownCopy = (s: string): string => Buffer.from(s, 'utf8').toString('utf8')

/** Names kept once each, as small numbers. */
class Names {
  readonly #ids = new Map<string, number>()
  readonly list: string[] = []

  id(name: string): number {
    let id = this.#ids.get(name)
    if (id === undefined) {
      const own = ownCopy(name)
      id = this.list.length
      this.list.push(own)
      this.#ids.set(own, id)
    }
    return id
  }
}

/**
 * Rows in columns: service and metric as numbers into tables of names, value and atMs as doubles
 * (a null value as NaN). A row comes back as timeline.jsonl gives it back: JSON writes a value
 * that is not finite as null, and -0 as 0. Chunks of 64 Ki rows, so it grows without copying.
 * Iterating it gives the rows in the order they were written.
 */
export class TimelineStore implements TimelineRows {
  readonly #services = new Names()
  readonly #metrics = new Names()
  readonly #chunks: Chunk[] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  push(row: TimelineRow): void {
    const i = this.#length & CHUNK_MASK
    if (i === 0)
      this.#chunks.push({
        service: new Uint32Array(CHUNK_ROWS),
        metric: new Uint32Array(CHUNK_ROWS),
        value: new Float64Array(CHUNK_ROWS),
        atMs: new Float64Array(CHUNK_ROWS),
      })
    const c = this.#chunks[this.#chunks.length - 1]
    c.service[i] = this.#services.id(row.service)
    c.metric[i] = this.#metrics.id(row.metric)
    // As JSON writes them: no value that is not finite (null), no -0.
    c.value[i] = row.value === null || !Number.isFinite(row.value) ? NaN : row.value + 0
    c.atMs[i] = row.atMs + 0
    this.#length++
  }

  row(i: number): TimelineRow {
    if (!(i >= 0 && i < this.#length)) throw new RangeError(`row ${i} of ${this.#length}`)
    const c = this.#chunks[i >> CHUNK_BITS]
    const j = i & CHUNK_MASK
    const value = c.value[j]
    return { service: this.#services.list[c.service[j]], metric: this.#metrics.list[c.metric[j]], value: Number.isNaN(value) ? null : value, atMs: c.atMs[j] }
  }

  *[Symbol.iterator](): Iterator<TimelineRow> {
    for (let i = 0; i < this.#length; i++) yield this.row(i)
  }

  /** Bytes of the columns (the name tables aside): what the rows cost. */
  get columnBytes(): number {
    return this.#chunks.length * CHUNK_ROWS * (4 + 4 + 8 + 8)
  }
}

export class TimelineWriter {
  readonly file: string
  #fd: number
  #buffer: string[] = []
  rows = 0
  /** Every row so far, when kept: the runner judges probes on them during the run. */
  readonly kept: TimelineStore | undefined

  constructor(file: string, opts: { keep?: boolean } = {}) {
    this.file = file
    this.kept = opts.keep ? new TimelineStore() : undefined
    this.#fd = fs.openSync(file, 'a')
  }

  write(row: TimelineRow): void {
    this.#buffer.push(JSON.stringify(row))
    this.kept?.push(row)
    this.rows++
    if (this.#buffer.length >= 512) this.flush()
  }

  flush(): void {
    if (this.#buffer.length === 0 || this.#fd < 0) return
    fs.writeSync(this.#fd, this.#buffer.join('\n') + '\n')
    this.#buffer = []
  }

  close(): void {
    if (this.#fd < 0) return
    this.flush()
    fs.fsyncSync(this.#fd)
    fs.closeSync(this.#fd)
    this.#fd = -1
  }
}

const READ_BYTES = 1 << 20
const NEWLINE = 0x0a

/**
 * timeline.jsonl read back a line at a time: a long run's file is larger than the longest string
 * Node can hold, so it is never read whole.
 */
export function readTimeline(file: string): TimelineStore {
  const out = new TimelineStore()
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out
    throw err
  }
  const add = (buf: Buffer, start: number, end: number) => {
    const line = buf.toString('utf8', start, end)
    if (!line.trim()) return
    try {
      out.push(JSON.parse(line))
    } catch {
      // A torn last line from a killed run is skipped, not fatal.
    }
  }
  try {
    let buf = Buffer.alloc(READ_BYTES)
    let filled = 0
    for (;;) {
      if (filled === buf.length) {
        // One line longer than the buffer: make room for it.
        const bigger = Buffer.alloc(buf.length * 2)
        buf.copy(bigger, 0, 0, filled)
        buf = bigger
      }
      const n = fs.readSync(fd, buf, filled, buf.length - filled, null)
      if (n === 0) break
      filled += n
      let start = 0
      for (let nl = buf.indexOf(NEWLINE, start); nl >= 0 && nl < filled; nl = buf.indexOf(NEWLINE, start)) {
        add(buf, start, nl)
        start = nl + 1
      }
      buf.copy(buf, 0, start, filled)
      filled -= start
    }
    if (filled > 0) add(buf, 0, filled)
  } finally {
    fs.closeSync(fd)
  }
  return out
}
