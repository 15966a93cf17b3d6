// An open-loop generator: calls arrive at a seeded Poisson rate whether or not earlier ones have
// answered, as customers do (a closed loop would slow down with the system and hide the outage).
// It is bounded twice: it stops by itself at its deadline, and it never holds more than
// maxInFlight calls (beyond that an arrival is recorded as ClientOverload and not sent).
import type { Random } from '../../services/kit/prng.js'
import type { ClientRecorder } from './recorder.js'

export interface OpenLoopOptions {
  service: string
  operation: string
  ratePerSec: number
  random: Random
  recorder: ClientRecorder
  /** One call; throw on failure (the recorder names the error). */
  call: () => Promise<unknown>
  maxInFlight: number
  /** Stops by itself after this long even if nobody calls stop(). */
  maxDurationMs: number
}

export class OpenLoop {
  readonly opts: OpenLoopOptions
  #timer?: NodeJS.Timeout
  #deadline?: NodeJS.Timeout
  #inFlight = new Set<Promise<unknown>>()
  #stopped = false
  sent = 0

  constructor(opts: OpenLoopOptions) {
    if (!(opts.ratePerSec > 0) || !Number.isFinite(opts.ratePerSec))
      throw new RangeError(`${opts.service}.${opts.operation}: ratePerSec must be a positive number, got ${opts.ratePerSec}`)
    this.opts = opts
  }

  start(): this {
    this.opts.recorder.register(this.opts.service)
    this.#deadline = setTimeout(() => void this.stop(), this.opts.maxDurationMs)
    this.#deadline.unref()
    this.#schedule()
    return this
  }

  #schedule(): void {
    if (this.#stopped) return
    // Exponential inter-arrival times: a Poisson process at ratePerSec.
    const gapMs = (-Math.log(1 - this.opts.random()) / this.opts.ratePerSec) * 1000
    this.#timer = setTimeout(() => {
      this.#fire()
      this.#schedule()
    }, gapMs)
  }

  #fire(): void {
    const { recorder, service, operation } = this.opts
    if (this.#inFlight.size >= this.opts.maxInFlight) {
      recorder.record({ service, operation, startedAtMs: recorder.now(), latencyMs: 0, ok: false, error: 'ClientOverload' })
      return
    }
    this.sent++
    const p = recorder.track(service, operation, this.opts.call).catch(() => undefined)
    this.#inFlight.add(p)
    void p.finally(() => this.#inFlight.delete(p))
  }

  /** Stops arrivals and waits (at most graceMs) for the calls in flight. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearTimeout(this.#deadline)
    const pending = [...this.#inFlight]
    if (pending.length === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, graceMs)))])
    clearTimeout(timer)
  }
}
