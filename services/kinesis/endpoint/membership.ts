// Where the member list comes from: a static list (ENDPOINT_MEMBERS) or the metadata service's
// membership vending (GET /fleets/:fleet/members[?cell=]) polled every MEMBERSHIP_POLL_MS. When
// metadata cannot be reached the last list stands: losing the membership service must not empty
// the fleet.
import type { Dispatcher } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { MemberSpec } from './members.js'

export interface MembershipSource {
  start(onMembers: (members: MemberSpec[]) => void): void
  stop(): void
}

export function staticMembership(urls: string[]): MembershipSource {
  return {
    start(onMembers) {
      // The id is what an operator reads in /admin/members and metrics: host:port says which process.
      onMembers(urls.map((url) => ({ id: new URL(url).host, url })))
    },
    stop() {},
  }
}

export interface MetadataMembershipOptions {
  dispatcher: Dispatcher
  metadataUrl: string
  fleet: string
  cell?: string
  pollMs: number
  log: FastifyBaseLogger
  onError?: () => void
}

export function metadataMembership(opts: MetadataMembershipOptions): MembershipSource {
  const path = `/fleets/${encodeURIComponent(opts.fleet)}/members${opts.cell ? `?cell=${encodeURIComponent(opts.cell)}` : ''}`
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let failing = false
  const stop = new AbortController()
  return {
    start(onMembers) {
      const poll = async () => {
        try {
          const res = await opts.dispatcher.request({
            origin: opts.metadataUrl,
            path,
            method: 'GET',
            signal: AbortSignal.any([AbortSignal.timeout(Math.max(1000, opts.pollMs * 4)), stop.signal]),
          })
          const text = await res.body.text()
          if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`)
          onMembers(parseMembers(JSON.parse(text), opts.cell))
          if (failing) opts.log.info({ metadataUrl: opts.metadataUrl }, 'membership polls succeed again')
          failing = false
        } catch (err) {
          if (stopped) return
          opts.onError?.()
          // One line when polls start failing, not one per poll.
          if (!failing) opts.log.warn({ err: (err as Error).message, metadataUrl: opts.metadataUrl }, 'membership poll failed; keeping the last member list')
          failing = true
        }
        if (!stopped) timer = setTimeout(() => void poll(), opts.pollMs)
      }
      void poll()
    },
    stop() {
      stopped = true
      clearTimeout(timer)
      stop.abort()
    },
  }
}

function parseMembers(body: unknown, cell: string | undefined): MemberSpec[] {
  const list = (body as { members?: unknown })?.members
  if (!Array.isArray(list)) throw new Error('membership answer has no members array')
  const out: MemberSpec[] = []
  for (const m of list) {
    if (typeof m?.id !== 'string' || typeof m?.url !== 'string') throw new Error(`membership answer has a member without id and url: ${JSON.stringify(m)}`)
    // Metadata filters by cell already; this guards against a metadata that ignores the query.
    if (cell && m.cell !== undefined && m.cell !== null && m.cell !== cell) continue
    out.push({ id: m.id, url: new URL(m.url).origin, cell: typeof m.cell === 'string' ? m.cell : undefined })
  }
  return out
}
