// The posted updates, durable: one JSON line per update, appended and fsynced before the poster
// hears "posted" (a dashboard that forgets an acknowledged update after a crash misleads exactly
// when it matters). On open the file is replayed; a torn last line (a write the poster was never
// told had succeeded) is cut off so the next append starts on a clean line.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { ComponentStatus } from './components.js'

export type PostingPath = 'primary' | 'backup'

export interface Update {
  id: number
  postedAt: string
  postedAtMs: number
  message: string
  component: string | null
  status: ComponentStatus | null
  path: PostingPath
  /** Who posted: the Cognito username (or sub) on the primary path, "backup-key" on the backup path. */
  operator: string
}

export type UpdateDraft = Pick<Update, 'message' | 'component' | 'status' | 'path' | 'operator'>

export interface UpdateLogOptions {
  now?: () => number
  /** Told about lines that could not be read back (skipped). */
  onSkippedLine?: (lineNumber: number, reason: string) => void
}

export class UpdateLog {
  private readonly updates: Update[] = []
  private tail: Promise<unknown> = Promise.resolve()
  private readonly now: () => number

  private constructor(
    readonly file: string,
    private readonly fh: fs.FileHandle,
    opts: UpdateLogOptions,
  ) {
    this.now = opts.now ?? Date.now
  }

  static async open(file: string, opts: UpdateLogOptions = {}): Promise<UpdateLog> {
    await fs.mkdir(path.dirname(file), { recursive: true })
    let text = ''
    let existed = true
    try {
      text = await fs.readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      existed = false
    }
    const fh = await fs.open(file, 'a')
    const log = new UpdateLog(file, fh, opts)
    try {
      const complete = text.lastIndexOf('\n') + 1
      if (complete < text.length) {
        await fh.truncate(Buffer.byteLength(text.slice(0, complete)))
        await fh.sync()
      }
      text
        .slice(0, complete)
        .split('\n')
        .forEach((line, i) => {
          if (line === '') return
          const update = parseUpdate(line)
          if (typeof update === 'string') opts.onSkippedLine?.(i + 1, update)
          else log.updates.push(update)
        })
      log.updates.sort((a, b) => a.id - b.id)
      // A new file's directory entry must be durable too, or the first update can vanish with it.
      if (!existed) await syncDir(path.dirname(file))
    } catch (err) {
      await fh.close()
      throw err
    }
    return log
  }

  /** Oldest first. */
  list(): readonly Update[] {
    return this.updates
  }

  get size(): number {
    return this.updates.length
  }

  last(): Update | undefined {
    return this.updates[this.updates.length - 1]
  }

  /** Resolves once the update is on disk; appends are written one at a time, in call order. */
  append(draft: UpdateDraft): Promise<Update> {
    const next = this.tail.then(async () => {
      const postedAtMs = this.now()
      const update: Update = { id: (this.last()?.id ?? 0) + 1, postedAt: new Date(postedAtMs).toISOString(), postedAtMs, ...draft }
      await this.fh.write(JSON.stringify(update) + '\n')
      await this.fh.datasync()
      this.updates.push(update)
      return update
    })
    // A failed write must not wedge every later one.
    this.tail = next.catch(() => {})
    return next
  }

  async close(): Promise<void> {
    await this.tail
    await this.fh.close()
  }
}

function parseUpdate(line: string): Update | string {
  let u: any
  try {
    u = JSON.parse(line)
  } catch {
    return 'not JSON'
  }
  const ok =
    Number.isSafeInteger(u?.id) &&
    typeof u.message === 'string' &&
    typeof u.postedAt === 'string' &&
    Number.isFinite(u.postedAtMs) &&
    (u.path === 'primary' || u.path === 'backup') &&
    typeof u.operator === 'string'
  if (!ok) return 'not an update record'
  return {
    id: u.id,
    postedAt: u.postedAt,
    postedAtMs: u.postedAtMs,
    message: u.message,
    component: u.component ?? null,
    status: u.status ?? null,
    path: u.path,
    operator: u.operator,
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
