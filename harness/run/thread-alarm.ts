// Remediation 2: a fine-grained alarm on thread consumption. Every sample it reads each front-end's
// scraped threads and thread limit; when one crosses the threshold (a share of its limit) the alarm
// goes to ALARM, before the OS refuses the next thread. The journal records when, and the analysis
// compares it with the first break (the lead time).

export interface ThreadAlarmOptions {
  /** Share of the thread limit, 0..1. */
  threshold: number
  /** The last scraped value of a series of a service, if any. */
  read: (service: string, metric: string) => number | undefined
  members: () => string[]
  emit: (detail: Record<string, unknown>) => void
}

export class ThreadAlarm {
  state: 'OK' | 'ALARM' = 'OK'
  readonly #o: ThreadAlarmOptions

  constructor(opts: ThreadAlarmOptions) {
    this.#o = opts
  }

  evaluate(): void {
    let worst: { member: string; threads: number; limit: number; share: number } | undefined
    for (const member of this.#o.members()) {
      const threads = this.#o.read(member, 'kinesis_frontend_threads')
      const limit = this.#o.read(member, 'kinesis_frontend_thread_limit')
      if (threads === undefined || limit === undefined || !(limit > 0)) continue
      const share = threads / limit
      if (!worst || share > worst.share) worst = { member, threads, limit, share }
    }
    if (!worst) return
    const next = worst.share >= this.#o.threshold ? 'ALARM' : 'OK'
    if (next === this.state) return
    this.state = next
    this.#o.emit({ name: 'thread-alarm', state: next, member: worst.member, threads: worst.threads, limit: worst.limit, threshold: this.#o.threshold })
  }
}
