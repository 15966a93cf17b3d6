// The shards this back-end holds: one log per shard under
// <dataDir>/s-<stream>/<shardId>.log ("s-" keeps names like ".." from meaning a directory).
// Every log is replayed at start, so reads and sequence numbers continue where they were.
// Records older than the retention are trimmed from every log a few times per retention period
// (Kinesis's 24 h, compressed by the run's time scale), so the data stays bounded.
import fs from 'node:fs/promises'
import path from 'node:path'
import { ShardLog, syncDir, type RecoveryReport, type ShardLogOptions, type TrimReport } from './shard-log.js'
import { shardIndexOf } from './sequence.js'
import { KINESIS_RETENTION_HOURS } from '../../kit/outage-facts.js'

const LOG_FILE = /^(shardId-\d{12})\.log$/
/** Kinesis's default retention, 24 hours. */
export const DEFAULT_RETENTION_MS = KINESIS_RETENTION_HOURS * 3_600_000
/** Trims per retention period: a record outlives the retention by at most a quarter of it. */
const TRIMS_PER_RETENTION = 4

export interface ShardStoreOptions extends ShardLogOptions {
  /** Records that arrived longer ago than this are trimmed. */
  retentionMs?: number
}

export interface TrimObserver {
  trimmed(report: TrimReport): void
  failed(err: Error): void
}

export class ShardStore {
  readonly dir: string
  readonly retentionMs: number
  #now: () => number
  #opts: ShardLogOptions
  #observer: ShardLogOptions['onCommit']
  /** "stream/shardId" -> the log, or its opening in progress (two first appends must not race). */
  #logs = new Map<string, Promise<ShardLog>>()
  #trimObserver: TrimObserver | undefined
  #trimTimer: NodeJS.Timeout | undefined
  #trimming: Promise<TrimReport[]> | undefined

  private constructor(dir: string, opts: ShardStoreOptions) {
    this.dir = dir
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS
    this.#now = opts.now ?? Date.now
    this.#observer = opts.onCommit
    this.#opts = { now: opts.now, onCommit: (report) => this.#observer?.(report) }
  }

  #startTrimming(): void {
    this.#trimTimer = setInterval(
      () => {
        this.#trimming ??= this.trim().finally(() => (this.#trimming = undefined))
      },
      Math.max(1, Math.round(this.retentionMs / TRIMS_PER_RETENTION)),
    )
    this.#trimTimer.unref()
  }

  /** Who hears about every group commit (the metrics, which exist only once the app does). */
  observeCommits(observer: ShardLogOptions['onCommit']): void {
    this.#observer = observer
  }

  /** Who hears about every trim, and about a trim that failed (the metrics and the log). */
  observeTrims(observer: TrimObserver): void {
    this.#trimObserver = observer
  }

  static async open(dir: string, opts: ShardStoreOptions = {}): Promise<{ store: ShardStore; recovered: RecoveryReport[] }> {
    await fs.mkdir(dir, { recursive: true })
    const store = new ShardStore(dir, opts)
    const recovered: RecoveryReport[] = []
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.startsWith('s-')) continue
      const stream = entry.name.slice(2)
      for (const file of await fs.readdir(path.join(dir, entry.name))) {
        const m = LOG_FILE.exec(file)
        if (!m) continue
        const { log, recovery } = await ShardLog.open(path.join(dir, entry.name, file), shardIndexOf(m[1])!, store.#opts)
        store.#logs.set(key(stream, m[1]), Promise.resolve(log))
        recovered.push(recovery)
      }
    }
    store.#startTrimming()
    return { store, recovered }
  }

  /** The shard's log; created on the first append, undefined for a shard never written. */
  async shard(stream: string, shardId: string, create: boolean): Promise<ShardLog | undefined> {
    const k = key(stream, shardId)
    const known = this.#logs.get(k)
    if (known) return known
    if (!create) return undefined
    const opening = ShardLog.open(this.#file(stream, shardId), shardIndexOf(shardId)!, { ...this.#opts, create: true }).then((r) => r.log)
    this.#logs.set(k, opening)
    opening.catch(() => this.#logs.delete(k))
    return opening
  }

  shardCount(): number {
    return this.#logs.size
  }

  /** Bytes of every open shard log: what the retention keeps bounded. */
  async logBytes(): Promise<number> {
    let bytes = 0
    for (const p of this.#logs.values()) bytes += (await p.catch(() => undefined))?.bytes ?? 0
    return bytes
  }

  /**
   * Trims from every log the records older than the retention, one log at a time (each is a
   * copy of the log's retained tail). The timer calls it; a test may too.
   */
  async trim(): Promise<TrimReport[]> {
    const cutoff = this.#now() - this.retentionMs
    const reports: TrimReport[] = []
    for (const p of [...this.#logs.values()]) {
      const log = await p.catch(() => undefined)
      if (!log) continue
      try {
        const report = await log.trimBefore(cutoff)
        if (!report) continue
        reports.push(report)
        this.#trimObserver?.trimmed(report)
      } catch (err) {
        this.#trimObserver?.failed(err as Error)
      }
    }
    return reports
  }

  /** Drops a deleted stream's logs, so a stream created again under its name starts empty. */
  async dropStream(stream: string): Promise<number> {
    const prefix = `${stream}/`
    const dropped: Promise<ShardLog>[] = []
    for (const [k, log] of this.#logs) {
      if (k.startsWith(prefix)) {
        this.#logs.delete(k)
        dropped.push(log)
      }
    }
    await Promise.all(dropped.map(async (p) => (await p.catch(() => undefined))?.close()))
    await fs.rm(path.join(this.dir, `s-${stream}`), { recursive: true, force: true })
    await syncDir(this.dir)
    return dropped.length
  }

  async close(): Promise<void> {
    clearInterval(this.#trimTimer)
    await this.#trimming
    const logs = [...this.#logs.values()]
    this.#logs.clear()
    await Promise.all(logs.map(async (p) => (await p.catch(() => undefined))?.close()))
  }

  #file(stream: string, shardId: string): string {
    return path.join(this.dir, `s-${stream}`, `${shardId}.log`)
  }
}

const key = (stream: string, shardId: string) => `${stream}/${shardId}`
