// What EventBridge has promised and not yet done: events accepted by PutEvents that the consumer has
// not read back from the stream yet (tracked by event id, so order and shards do not matter). The
// deliveries still pending are the delivery queue's to count.

/** How long a read-back id is remembered in case its PutRecords answer is handled after it. */
const EARLY_READ_MEMORY_MS = 60_000

export class Unprocessed {
  private readonly ids = new Map<string, number>()
  // The consumer may read a record back before the PutEvents that wrote it has handled its
  // PutRecords answer (the record is durable before the answer leaves Kinesis). Such ids are
  // remembered for a while so accepted() does not count them as waiting forever.
  private readonly early = new Map<string, number>()

  constructor(private readonly now: () => number = Date.now) {}

  accepted(id: string, atMs: number): void {
    if (this.early.delete(id)) return
    this.ids.set(id, atMs)
  }

  /** The consumer read the event back (events accepted before a restart land in `early` and age out). */
  processed(id: string): void {
    if (this.ids.delete(id)) return
    const now = this.now()
    this.early.set(id, now)
    for (const [old, at] of this.early) {
      if (now - at <= EARLY_READ_MEMORY_MS) break
      this.early.delete(old)
    }
  }

  get size(): number {
    return this.ids.size
  }

  /** Age of the oldest event still waiting, 0 when none. */
  oldestAgeMs(nowMs: number): number {
    for (const at of this.ids.values()) return Math.max(0, nowMs - at)
    return 0
  }
}
