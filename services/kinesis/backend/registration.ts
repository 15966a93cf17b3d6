// A back-end announces itself to metadata (PUT /backends/:id) so shards can be assigned to it,
// and keeps trying until metadata answers: the two may start in any order.
import { request, type Dispatcher } from 'undici'
import type { FastifyBaseLogger } from 'fastify'

export interface Registration {
  readonly registered: boolean
  stop(): void
}

export interface RegistrationOptions {
  metadataUrl: string
  id: string
  url: string
  dispatcher: Dispatcher
  log: FastifyBaseLogger
  minDelayMs?: number
  maxDelayMs?: number
}

export function registerWithMetadata(opts: RegistrationOptions): Registration {
  const { minDelayMs = 100, maxDelayMs = 2_000 } = opts
  let registered = false
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let attempt = 0
  const target = `${opts.metadataUrl.replace(/\/+$/, '')}/backends/${encodeURIComponent(opts.id)}`

  const tryOnce = async () => {
    attempt++
    let problem: string
    try {
      const res = await request(target, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: opts.url }),
        dispatcher: opts.dispatcher,
      })
      const text = await res.body.text()
      if (res.statusCode === 200) {
        registered = true
        opts.log.info({ metadata: opts.metadataUrl, url: opts.url, attempts: attempt }, 'registered with metadata')
        return
      }
      problem = `metadata answered ${res.statusCode}: ${text.slice(0, 200)}`
    } catch (err) {
      problem = (err as Error).message
    }
    if (stopped) return
    // The first failure is worth a warning; the rest of the retry loop is expected noise.
    opts.log[attempt === 1 ? 'warn' : 'debug']({ metadata: opts.metadataUrl, attempt, problem }, 'registration with metadata failed; retrying')
    timer = setTimeout(() => void tryOnce(), Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 10)))
  }
  void tryOnce()

  return {
    get registered() {
      return registered
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
