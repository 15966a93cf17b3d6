// A durable local spool: the resilient variant acknowledges an event only once it is on disk, so
// a Kinesis outage costs delay, never data. Two files in the spool directory:
//
//   events.log   one JSON event per line, appended and fsynced before the caller is answered.
//                Never rewritten: it is also the ledger of every event this service acknowledged.
//   shipped      the byte offset in events.log up to which events reached Kinesis, replaced
//                atomically (write a temporary file, fsync, rename, fsync the directory).
//
// Appends that arrive together share one write and one fsync (group commit), in arrival order.
// After a crash, `open()` drops a torn last line (its fsync never returned, so it was never
// acknowledged) and the shipper resumes from `shipped`: events between the last shipped offset
// and the crash are sent again, so delivery is at-least-once (a reader may see an id twice).
import fs from 'node:fs'
import path from 'node:path'

export interface SpooledEvent {
  id: string
  [key: string]: unknown
}

interface Entry {
  event: SpooledEvent
  /** Byte offset of the end of its line in events.log. */
  end: number
}

export class Spool {
  private fd = -1
  private size = 0
  private shippedOffset = 0
  /** Events appended and not shipped yet, in order. */
  private readonly pending: Entry[] = []
  /** Every id in events.log, in order (the ledger). */
  private readonly ids: string[] = []
  private queue: { event: SpooledEvent; line: Buffer; done: (err?: Error) => void }[] = []
  private flushing = false
  private readonly waiters = new Set<() => void>()

  private constructor(readonly dir: string) {}

  get logFile(): string {
    return path.join(this.dir, 'events.log')
  }

  get shippedFile(): string {
    return path.join(this.dir, 'shipped')
  }

  /** Opens (or creates) the spool in `dir`, replaying what a previous process left. */
  static open(dir: string): Spool {
    const s = new Spool(dir)
    fs.mkdirSync(dir, { recursive: true })
    s.fd = fs.openSync(s.logFile, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND)
    const data = fs.readFileSync(s.logFile)
    // The last complete line ends at the last newline; anything after it is a torn append.
    const complete = data.lastIndexOf(0x0a) + 1
    if (complete < data.length) {
      fs.ftruncateSync(s.fd, complete)
      fs.fsyncSync(s.fd)
    }
    s.size = complete
    try {
      s.shippedOffset = Math.min(complete, Number(fs.readFileSync(s.shippedFile, 'utf8').trim()) || 0)
    } catch {
      s.shippedOffset = 0
    }
    let start = 0
    while (start < complete) {
      const nl = data.indexOf(0x0a, start)
      const end = nl + 1
      const event = JSON.parse(data.subarray(start, nl).toString('utf8')) as SpooledEvent
      s.ids.push(event.id)
      if (end > s.shippedOffset) s.pending.push({ event, end })
      start = end
    }
    return s
  }

  /** Resolves once the event is on disk (fsynced): only then may it be acknowledged. */
  append(event: SpooledEvent): Promise<void> {
    const line = Buffer.from(JSON.stringify(event) + '\n')
    return new Promise((resolve, reject) => {
      this.queue.push({ event, line, done: (err) => (err ? reject(err) : resolve()) })
      if (!this.flushing) this.flush()
    })
  }

  private flush(): void {
    this.flushing = true
    const batch = this.queue
    this.queue = []
    const buf = Buffer.concat(batch.map((b) => b.line))
    fs.write(this.fd, buf, 0, buf.length, null, (err) => {
      if (err) return this.flushed(batch, err)
      fs.fdatasync(this.fd, (err2) => {
        if (!err2) {
          for (const b of batch) {
            this.size += b.line.length
            this.pending.push({ event: b.event, end: this.size })
            this.ids.push(b.event.id)
          }
        }
        this.flushed(batch, err2 ?? undefined)
      })
    })
  }

  private flushed(batch: { done: (err?: Error) => void }[], err?: Error): void {
    for (const b of batch) b.done(err)
    if (!err) for (const w of this.waiters) w()
    if (this.queue.length > 0) this.flush()
    else this.flushing = false
  }

  /** The oldest events not shipped yet, at most `max`, in the order they were acknowledged. */
  unshipped(max: number): SpooledEvent[] {
    return this.pending.slice(0, max).map((e) => e.event)
  }

  get backlog(): number {
    return this.pending.length
  }

  /** Bytes of events not shipped yet. */
  get backlogBytes(): number {
    return this.size - this.shippedOffset
  }

  /** The first `n` unshipped events reached the stream: moves the durable offset past them. */
  markShipped(n: number): void {
    if (n <= 0) return
    const done = this.pending.splice(0, n)
    this.shippedOffset = done[done.length - 1].end
    const tmp = `${this.shippedFile}.tmp`
    const fd = fs.openSync(tmp, 'w')
    try {
      fs.writeSync(fd, String(this.shippedOffset))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.shippedFile)
    const dfd = fs.openSync(this.dir, 'r')
    try {
      fs.fsyncSync(dfd)
    } finally {
      fs.closeSync(dfd)
    }
  }

  /** Every id ever acknowledged (the ledger), in order. */
  acknowledged(): readonly string[] {
    return this.ids
  }

  /** Calls `fn` after each append reaches the disk, until the returned function is called. */
  onAppend(fn: () => void): () => void {
    this.waiters.add(fn)
    return () => this.waiters.delete(fn)
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }
}
