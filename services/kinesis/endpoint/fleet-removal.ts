// The fleet's health system: a member that stays unhealthy too long is taken out of the fleet's
// membership in metadata, so every component stops counting on it. In 2020 this is what turned a
// fast restart into a slow recovery: servers restarted all at once were slow to build their
// shard-maps, were judged unhealthy and removed from the fleet, and each had to start its cold
// start over (the front-end rejoins with a fresh bootstrap when it finds itself removed).
import type { Dispatcher } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { Member, MemberTable } from './members.js'

export interface FleetRemovalOptions {
  table: MemberTable
  dispatcher: Dispatcher
  metadataUrl: string
  fleet: string
  afterMs: number
  log: FastifyBaseLogger
  onRemoved: (member: Member) => void
}

export function startFleetRemoval(opts: FleetRemovalOptions): { stop(): void } {
  const inFlight = new Set<string>()
  const stop = new AbortController()
  // Checked often against the table's clock, so a removal lands within a fraction of a check interval.
  const timer = setInterval(
    () => {
      for (const m of opts.table.unhealthyFor(opts.afterMs)) {
        if (inFlight.has(m.id)) continue
        inFlight.add(m.id)
        void remove(m).finally(() => inFlight.delete(m.id))
      }
    },
    Math.max(50, Math.min(500, Math.floor(opts.afterMs / 4))),
  )
  timer.unref()

  async function remove(m: Member): Promise<void> {
    const path = `/fleets/${encodeURIComponent(opts.fleet)}/members/${encodeURIComponent(m.id)}`
    try {
      const res = await opts.dispatcher.request({
        origin: opts.metadataUrl,
        path,
        method: 'DELETE',
        signal: AbortSignal.any([AbortSignal.timeout(5_000), stop.signal]),
      })
      const text = await res.body.text()
      if (res.statusCode !== 200 && res.statusCode !== 404) throw new Error(`DELETE ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`)
      opts.log.warn(
        { member: m.id, url: m.url, unhealthyForMs: m.unhealthySinceMs === null ? 0 : Date.now() - m.unhealthySinceMs, lastError: m.lastError },
        'member removed from the fleet: unhealthy too long',
      )
      opts.onRemoved(m)
    } catch (err) {
      if (!stop.signal.aborted) opts.log.warn({ member: m.id, err: (err as Error).message }, 'could not remove an unhealthy member from the fleet')
    }
  }

  return {
    stop() {
      clearInterval(timer)
      stop.abort()
    },
  }
}
