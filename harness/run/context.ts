// What every phase of a run shares: its clock (ms from the method's start), its journal events,
// the phase it is in, and the interrupt (Ctrl-C) every wait gives way to.
import type { JournalEvent } from '../analyze/index.js'
import type { Progress } from './progress.js'

/** Ctrl-C (or the caller's abort) reached a phase: rollbacks are skipped, teardown still runs. */
export class RunInterrupted extends Error {
  constructor() {
    super('interrupted')
    this.name = 'RunInterrupted'
  }
}

export class RunContext {
  readonly events: JournalEvent[] = []
  readonly abort = new AbortController()
  /** Wall-clock ms of the method's start; the run's time origin. */
  private t0 = Number.POSITIVE_INFINITY
  /** Events before the origin is known keep their wall time; `settleOrigin()` turns it into atMs. */
  readonly #wall = new WeakMap<JournalEvent, number>()

  constructor(
    readonly progress: Progress,
    signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', () => this.abort.abort(), { once: true })
  }

  get signal(): AbortSignal {
    return this.abort.signal
  }

  get hasOrigin(): boolean {
    return Number.isFinite(this.t0)
  }

  clock(): number {
    return this.hasOrigin ? Date.now() - this.t0 : -1e9
  }

  /** Sets the time origin; events recorded before it get their times relative to it. */
  setOrigin(wallMs: number): void {
    this.t0 = wallMs
    for (const e of this.events) if (this.#wall.has(e)) e.atMs = this.#wall.get(e)! - this.t0
  }

  /** A run that never reached the origin (bad boot, Ctrl-C while seeding) counts from its end. */
  settleOrigin(): void {
    this.setOrigin(this.hasOrigin ? this.t0 : Date.now())
  }

  emit(kind: string, detail: Record<string, unknown>): void {
    const e = { atMs: this.hasOrigin ? Math.round(this.clock()) : 0, kind, detail }
    if (!this.hasOrigin) this.#wall.set(e, Date.now())
    this.events.push(e)
    this.progress.event(e)
  }

  /** Recorded without telling the terminal (teardown's warnings). */
  record(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ atMs: Math.round(this.clock()), kind, detail })
  }

  phase(name: string): void {
    this.checkInterrupt()
    this.emit('phase', { phase: name })
    this.progress.phase(name)
  }

  checkInterrupt(): void {
    if (this.abort.signal.aborted) throw new RunInterrupted()
  }

  async sleepUntil(atMs: number): Promise<void> {
    const wait = atMs - this.clock()
    if (wait <= 0) return this.checkInterrupt()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait)
      this.abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
    this.checkInterrupt()
  }
}
