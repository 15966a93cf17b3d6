// Ships the local store's pending datapoints to Kinesis, oldest first, and keeps each until Kinesis
// acknowledged it. While Kinesis fails it retries every retryMs; after recovery the backlog drains.
import type { LocalStore } from './local-store.js'
import type { Datapoint } from './datapoints.js'
import type { PutOutcome } from './kinesis.js'
import { sleep } from './kinesis.js'

export interface ShipperOptions {
  store: LocalStore
  put: (datapoints: Datapoint[]) => Promise<PutOutcome>
  batch: number
  retryMs: number
  onShipped: (n: number) => void
  onError: (err: unknown) => void
  signal: AbortSignal
}

export class Shipper {
  readonly #opts: ShipperOptions
  #wake: (() => void) | undefined

  constructor(opts: ShipperOptions) {
    this.#opts = opts
  }

  /** New datapoints are pending: ship now rather than at the next retry tick. */
  notify(): void {
    this.#wake?.()
  }

  async run(): Promise<void> {
    const { store, signal } = this.#opts
    while (!signal.aborted) {
      const batch = store.pending(this.#opts.batch)
      if (batch.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
          void sleep(this.#opts.retryMs, signal).then(resolve)
        })
        this.#wake = undefined
        continue
      }
      let healthy = false
      try {
        const out = await this.#opts.put(batch)
        if (out.written.length > 0) {
          await store.markShipped(out.written.map((p) => p.id))
          this.#opts.onShipped(out.written.length)
        }
        healthy = out.failed.length === 0
        if (!healthy)
          this.#opts.onError(Object.assign(new Error(`${out.failed.length} datapoints refused by Kinesis`), { name: out.errorCode ?? 'PartialFailure' }))
      } catch (err) {
        if (signal.aborted) break
        this.#opts.onError(err)
      }
      if (!healthy) await sleep(this.#opts.retryMs, signal)
    }
  }
}
