// Active health checks, one loop per member: GET HEALTH_PATH every HEALTH_INTERVAL_MS, failed when
// the answer is not 2xx, when the connection fails, when the whole answer (headers and body)
// takes longer than HEALTH_TIMEOUT_MS, or when a front-end says its shard-map is still building. A member whose event loop is blocked cannot answer, so it
// fails its checks: a slow member is a sick member, as for a real load balancer.
import type { Dispatcher } from 'undici'
import type { Member } from './members.js'

export interface CheckOutcome {
  ok: boolean
  durationMs: number
  error?: string
}

export interface HealthCheckerOptions {
  dispatcher: Dispatcher
  path: string
  intervalMs: number
  timeoutMs: number
  onOutcome: (member: Member, outcome: CheckOutcome) => void
}

export class HealthChecker {
  readonly #opts: HealthCheckerOptions
  readonly #loops = new Map<string, { timer?: NodeJS.Timeout; stop: AbortController }>()

  constructor(opts: HealthCheckerOptions) {
    this.#opts = opts
  }

  /** Starts checking a member at once (new members start unhealthy, so the first check matters). */
  watch(member: Member): void {
    if (this.#loops.has(member.id)) this.unwatch(member)
    const loop: { timer?: NodeJS.Timeout; stop: AbortController } = { stop: new AbortController() }
    this.#loops.set(member.id, loop)
    const tick = async () => {
      const started = performance.now()
      const outcome = await this.check(member, loop.stop.signal)
      if (loop.stop.signal.aborted) return
      this.#opts.onOutcome(member, outcome)
      // Checks never overlap: a check that timed out is followed by the next one right away.
      const wait = Math.max(0, this.#opts.intervalMs - (performance.now() - started))
      loop.timer = setTimeout(() => void tick(), wait)
    }
    void tick()
  }

  unwatch(member: Member): void {
    const loop = this.#loops.get(member.id)
    if (!loop) return
    this.#loops.delete(member.id)
    clearTimeout(loop.timer)
    loop.stop.abort()
  }

  stopAll(): void {
    for (const id of [...this.#loops.keys()]) {
      const loop = this.#loops.get(id)!
      this.#loops.delete(id)
      clearTimeout(loop.timer)
      loop.stop.abort()
    }
  }

  async check(member: Member, stop?: AbortSignal): Promise<CheckOutcome> {
    const { timeoutMs } = this.#opts
    const started = performance.now()
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout
    try {
      const res = await this.#opts.dispatcher.request({ origin: member.url, path: this.#opts.path, method: 'GET', signal })
      // The body counts too: a member that sends headers and then stalls is not healthy.
      const body = Buffer.from(await res.body.arrayBuffer())
      const durationMs = performance.now() - started
      if (durationMs > timeoutMs) return { ok: false, durationMs, error: `answered in ${Math.round(durationMs)} ms, over the ${timeoutMs} ms timeout` }
      if (res.statusCode < 200 || res.statusCode > 299) return { ok: false, durationMs, error: `status ${res.statusCode}` }
      // A front-end still building its shard-map would answer every call 503: not ready for
      // traffic. A broken one passes (its process is up and answers), as the 2020 servers did.
      if (buildingShardMap(body)) return { ok: false, durationMs, error: 'shard-map still building' }
      return { ok: true, durationMs }
    } catch (err) {
      const durationMs = performance.now() - started
      if (timeout.aborted) return { ok: false, durationMs, error: `no answer within ${timeoutMs} ms` }
      const e = err as { code?: string; message?: string }
      return { ok: false, durationMs, error: e.code ? `${e.code}: ${e.message}` : String(e.message ?? err) }
    }
  }
}

function buildingShardMap(body: Buffer): boolean {
  if (body.length === 0 || body.length > 65_536) return false
  try {
    return (JSON.parse(body.toString('utf8')) as { shard_map_state?: unknown })?.shard_map_state === 'building'
  } catch {
    return false
  }
}
