// The member table: who is in the fleet, who is healthy, and whose turn it is. Health follows the
// thresholds a real load balancer uses: HEALTHY_THRESHOLD passes in a row admit a member,
// UNHEALTHY_THRESHOLD failures in a row eject it. New members start unhealthy, so a member that
// restarts slowly is not sent traffic before it can take it, and a member that becomes slow while
// serving is taken out: the loop that made the 2020 recovery metastable.

export interface MemberSpec {
  id: string
  /** Origin, "http://127.0.0.1:4100". */
  url: string
  cell?: string
}

export interface Member extends MemberSpec {
  healthy: boolean
  consecutiveFailures: number
  consecutiveSuccesses: number
  /** How long the last check took. */
  lastCheckMs: number | null
  lastCheckAtMs: number | null
  lastError: string | null
  ejections: number
  addedAtMs: number
  /**
   * Since when the member has failed every check (its first failure after a pass, or when it
   * joined: new members start unhealthy); null while it passes. The clock of fleet removal.
   */
  unhealthySinceMs: number | null
}

export type Transition = 'admitted' | 'ejected'

export interface MemberTableOptions {
  healthyThreshold: number
  unhealthyThreshold: number
  now?: () => number
}

export class MemberTable {
  readonly #opts: MemberTableOptions
  readonly #now: () => number
  #members = new Map<string, Member>()
  #healthy: Member[] = []
  #next = 0

  constructor(opts: MemberTableOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
  }

  /** Makes the table hold exactly these members; a member whose URL changed counts as a new one. */
  sync(specs: MemberSpec[]): { added: Member[]; removed: Member[] } {
    const wanted = new Map(specs.map((s) => [s.id, s]))
    const added: Member[] = []
    const removed: Member[] = []
    for (const [id, m] of this.#members) {
      const spec = wanted.get(id)
      if (!spec || spec.url !== m.url) {
        this.#members.delete(id)
        removed.push(m)
      }
    }
    for (const spec of specs) {
      if (this.#members.has(spec.id)) continue
      const m: Member = {
        id: spec.id,
        url: spec.url,
        cell: spec.cell,
        healthy: false,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        lastCheckMs: null,
        lastCheckAtMs: null,
        lastError: null,
        ejections: 0,
        addedAtMs: this.#now(),
        unhealthySinceMs: this.#now(),
      }
      this.#members.set(spec.id, m)
      added.push(m)
    }
    if (removed.length) this.#rebuild()
    return { added, removed }
  }

  get(id: string): Member | undefined {
    return this.#members.get(id)
  }

  /** Records a health check's outcome; returns the transition it caused, if any. */
  record(id: string, outcome: { ok: boolean; durationMs: number; error?: string }): Transition | undefined {
    const m = this.#members.get(id)
    if (!m) return undefined
    m.lastCheckMs = Math.round(outcome.durationMs)
    m.lastCheckAtMs = this.#now()
    if (outcome.ok) {
      m.unhealthySinceMs = null
      m.consecutiveSuccesses++
      m.consecutiveFailures = 0
      m.lastError = null
      if (!m.healthy && m.consecutiveSuccesses >= this.#opts.healthyThreshold) {
        m.healthy = true
        this.#rebuild()
        return 'admitted'
      }
    } else {
      m.unhealthySinceMs ??= m.lastCheckAtMs
      m.consecutiveFailures++
      m.consecutiveSuccesses = 0
      m.lastError = outcome.error ?? 'failed'
      if (m.healthy && m.consecutiveFailures >= this.#opts.unhealthyThreshold) {
        m.healthy = false
        m.ejections++
        this.#rebuild()
        return 'ejected'
      }
    }
    return undefined
  }

  /** Members out of rotation that have failed every check for at least ms. */
  unhealthyFor(ms: number): Member[] {
    const now = this.#now()
    return this.list().filter((m) => !m.healthy && m.unhealthySinceMs !== null && now - m.unhealthySinceMs >= ms)
  }

  /** A member removed from the fleet gets a whole window again once it rejoins. */
  restartClock(id: string): void {
    const m = this.#members.get(id)
    if (m) m.unhealthySinceMs = this.#now()
  }

  /** The next healthy member, round robin; undefined when none is healthy. */
  pick(exclude?: Member): Member | undefined {
    const list = this.#healthy
    const n = list.length
    if (n === 0) return undefined
    for (let i = 0; i < n; i++) {
      const m = list[this.#next++ % n]
      if (this.#next >= 1 << 30) this.#next = 0
      if (m !== exclude) return m
    }
    return undefined
  }

  list(): Member[] {
    return [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  get size(): number {
    return this.#members.size
  }

  get healthyCount(): number {
    return this.#healthy.length
  }

  #rebuild(): void {
    this.#healthy = this.list().filter((m) => m.healthy)
  }
}
