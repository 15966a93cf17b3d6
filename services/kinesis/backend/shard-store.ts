// The shards this back-end holds: one log per shard under
// <dataDir>/s-<stream>/<shardId>.log ("s-" keeps names like ".." from meaning a directory).
// Every log is replayed at start, so reads and sequence numbers continue where they were.
import fs from 'node:fs/promises'
import path from 'node:path'
import { ShardLog, syncDir, type RecoveryReport, type ShardLogOptions } from './shard-log.js'
import { shardIndexOf } from './sequence.js'

const LOG_FILE = /^(shardId-\d{12})\.log$/

export class ShardStore {
  readonly dir: string
  #opts: ShardLogOptions
  #observer: ShardLogOptions['onCommit']
  /** "stream/shardId" -> the log, or its opening in progress (two first appends must not race). */
  #logs = new Map<string, Promise<ShardLog>>()

  private constructor(dir: string, opts: ShardLogOptions) {
    this.dir = dir
    this.#observer = opts.onCommit
    this.#opts = { now: opts.now, onCommit: (report) => this.#observer?.(report) }
  }

  /** Who hears about every group commit (the metrics, which exist only once the app does). */
  observeCommits(observer: ShardLogOptions['onCommit']): void {
    this.#observer = observer
  }

  static async open(dir: string, opts: ShardLogOptions = {}): Promise<{ store: ShardStore; recovered: RecoveryReport[] }> {
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
    const logs = [...this.#logs.values()]
    this.#logs.clear()
    await Promise.all(logs.map(async (p) => (await p.catch(() => undefined))?.close()))
  }

  #file(stream: string, shardId: string): string {
    return path.join(this.dir, `s-${stream}`, `${shardId}.log`)
  }
}

const key = (stream: string, shardId: string) => `${stream}/${shardId}`
