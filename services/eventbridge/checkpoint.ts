// Where the consumer resumes after a restart. A shard's checkpoint is the last sequence number whose
// record and every record before it are finished (delivered, or given up), so a restart re-reads
// what was in flight: delivery is at least once, as EventBridge promises. Persisted under
// OUTAGE_LAB_DATA_DIR at most every intervalMs.
import { fileWriter, readJson } from './files.js'

interface InFlight {
  seq: string
  outstanding: number
}

interface ShardProgress {
  committed?: string
  inFlight: InFlight[]
}

export class Checkpoints {
  private readonly shards = new Map<string, ShardProgress>()
  private readonly writer?: ReturnType<typeof fileWriter>
  private dirty = false
  private timer?: NodeJS.Timeout

  private constructor(
    private readonly stream: string,
    file: string | undefined,
    intervalMs: number,
  ) {
    if (file) {
      this.writer = fileWriter(file)
      this.timer = setInterval(() => void this.save(), intervalMs)
      this.timer.unref()
    }
  }

  static async open(stream: string, file: string | undefined, intervalMs = 1000): Promise<Checkpoints> {
    const cp = new Checkpoints(stream, file, intervalMs)
    const doc = file ? await readJson<{ stream: string; shards: Record<string, string> }>(file) : undefined
    if (doc && doc.stream === stream) for (const [shard, seq] of Object.entries(doc.shards)) cp.shards.set(shard, { committed: seq, inFlight: [] })
    return cp
  }

  committed(shard: string): string | undefined {
    return this.shards.get(shard)?.committed
  }

  /** A record was read; returns the callback to call once per delivery as each finishes. */
  read(shard: string, seq: string, deliveries: number): () => void {
    const p = this.progress(shard)
    const entry: InFlight = { seq, outstanding: deliveries }
    p.inFlight.push(entry)
    if (deliveries === 0) this.advance(p)
    return () => {
      entry.outstanding--
      if (entry.outstanding === 0) this.advance(p)
    }
  }

  snapshot(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [shard, p] of this.shards) if (p.committed) out[shard] = p.committed
    return out
  }

  async save(): Promise<void> {
    if (!this.writer || !this.dirty) return
    this.dirty = false
    await this.writer.save({ stream: this.stream, shards: this.snapshot() })
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.save()
    await this.writer?.flush()
  }

  private progress(shard: string): ShardProgress {
    let p = this.shards.get(shard)
    if (!p) this.shards.set(shard, (p = { inFlight: [] }))
    return p
  }

  private advance(p: ShardProgress): void {
    while (p.inFlight.length > 0 && p.inFlight[0].outstanding <= 0) {
      p.committed = p.inFlight.shift()!.seq
      this.dirty = true
    }
  }
}
