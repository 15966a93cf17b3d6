// Everything a benchmark starts is stopped at its end: on success, on error and on Ctrl-C. Stops
// run newest first (the load before the services it loads). A second signal exits at once; the
// local backend's own exit hook still SIGKILLs its children then.
import os from 'node:os'

export class Cleanup {
  readonly #stops: { name: string; stop: () => Promise<void> }[] = []
  readonly #abort = new AbortController()
  /** Set when the benchmark failed: stops may keep logs for a post-mortem. */
  failed = false
  #running?: Promise<void>
  #onSignal = (signal: NodeJS.Signals) => {
    if (this.#running) {
      process.exit(128 + os.constants.signals[signal])
    }
    process.stderr.write(`\n${signal}: stopping everything the benchmark started...\n`)
    this.failed = true
    this.#abort.abort()
    void this.run().finally(() => process.exit(128 + os.constants.signals[signal]))
  }

  constructor() {
    process.on('SIGINT', this.#onSignal)
    process.on('SIGTERM', this.#onSignal)
  }

  /** Aborted on Ctrl-C: pass it to boots and load loops so they end early. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  add(name: string, stop: () => Promise<void>): void {
    this.#stops.push({ name, stop })
  }

  /** Stops one registered thing now (and forgets it). */
  async stopOne(name: string): Promise<void> {
    const i = this.#stops.findIndex((s) => s.name === name)
    if (i < 0) return
    const [s] = this.#stops.splice(i, 1)
    await s.stop()
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      while (this.#stops.length) {
        const s = this.#stops.pop()!
        try {
          await s.stop()
        } catch (err) {
          process.stderr.write(`cleanup: stopping ${s.name} failed: ${(err as Error).message}\n`)
        }
      }
      process.removeListener('SIGINT', this.#onSignal)
      process.removeListener('SIGTERM', this.#onSignal)
    })()
    return this.#running
  }
}
