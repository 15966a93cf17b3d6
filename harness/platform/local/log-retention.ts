// A bound on the run folder's service logs, for game days that run for hours: a log past maxBytes
// is copied to <name>.log.1 (replacing the older generation) and cut to zero, so each service
// keeps at most two generations. Copy-then-truncate, as logrotate's copytruncate: the services
// write their stdout straight to the file (it outlives the harness if need be) with O_APPEND, so
// their next line lands at the new end without any of them reopening anything. A line written
// between the copy and the cut is lost; that is the price of not routing every log line through
// the harness.
import fs from 'node:fs'
import path from 'node:path'
import { SERVICE_LOG_MAX_BYTES } from '../paths.js'

const CHECK_EVERY_MS = 5_000

export interface LogRetentionOptions {
  maxBytes?: number
  everyMs?: number
}

export class LogRetention {
  readonly dir: string
  readonly maxBytes: number
  /** Logs cut so far, for the run's log. */
  rotations = 0
  #timer: NodeJS.Timeout | undefined
  #everyMs: number

  constructor(dir: string, opts: LogRetentionOptions = {}) {
    this.dir = dir
    this.maxBytes = opts.maxBytes ?? SERVICE_LOG_MAX_BYTES
    this.#everyMs = opts.everyMs ?? CHECK_EVERY_MS
    if (!(this.maxBytes >= 1024)) throw new RangeError(`log retention: maxBytes must be at least 1024, got ${this.maxBytes}`)
  }

  start(): this {
    this.#timer ??= setInterval(() => this.check(), this.#everyMs)
    this.#timer.unref()
    return this
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Rotates every log over the bound; returns the ones it cut. */
  check(): string[] {
    const cut: string[] = []
    let names: string[]
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.log'))
    } catch {
      return cut
    }
    for (const name of names) {
      const file = path.join(this.dir, name)
      try {
        if (fs.statSync(file).size <= this.maxBytes) continue
        fs.copyFileSync(file, `${file}.1`)
        fs.truncateSync(file, 0)
        this.rotations++
        cut.push(name)
      } catch {
        // Gone or unreadable between the listing and the cut: the next check sees it again.
      }
    }
    return cut
  }
}
