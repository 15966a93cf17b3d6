// wait: do nothing for a while (an operator's pause between steps); the run's stop cuts it short.
import { defineProvider } from '../provider.js'

export type WaitArgs = {
  forMs: number
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}

export const wait = defineProvider<'wait', WaitArgs>({
  name: 'wait',
  args: {
    keys: ['for'],
    shape: '{for}',
    read: (c, a, path) => ({ forMs: c.duration(a, 'for', path, { positive: true }) ?? 0 }),
  },
  async run(args, ctx) {
    await sleep(args.forMs, ctx.signal)
    return { waitedMs: args.forMs }
  },
})
