// timeline.jsonl: one line per sample, { service, metric, value, atMs } with atMs from the start
// of the method (negative before it). Written as the run goes, so a run that dies keeps what it saw.
import fs from 'node:fs'

export interface TimelineRow {
  service: string
  metric: string
  value: number | null
  atMs: number
}

export class TimelineWriter {
  readonly file: string
  #fd: number
  #buffer: string[] = []
  rows = 0
  /** Every row so far, when kept: the runner judges probes on them during the run. */
  readonly kept: TimelineRow[] | undefined

  constructor(file: string, opts: { keep?: boolean } = {}) {
    this.file = file
    this.kept = opts.keep ? [] : undefined
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

export function readTimeline(file: string): TimelineRow[] {
  if (!fs.existsSync(file)) return []
  const out: TimelineRow[] = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      out.push(JSON.parse(line))
    } catch {
      // A torn last line from a killed run is skipped, not fatal.
    }
  }
  return out
}
