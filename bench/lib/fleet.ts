// The state of a front-end fleet as its members report it (/health) and as the kernel sees it
// (/proc/<pid>/status), and a bounded wait for the whole fleet to hold a ready shard-map with a
// live thread for every peer.
import { request } from 'undici'
import type { StartedLocalTopology } from '../../harness/platform/local/started.js'
import { procStatus } from './procfs.js'

export interface MemberState {
  name: string
  pid?: number
  /** undefined when /health did not answer in time. */
  health?: {
    shard_map_state?: string
    threads?: number
    peers?: number
    peer_threads?: number
    connected_peers?: number
    pending_peers?: number
    thread_create_failures?: number
    last_error?: string
  }
  error?: string
  rssBytes?: number
  osThreads?: number
}

async function health(url: string, timeoutMs: number): Promise<{ body?: MemberState['health']; error?: string }> {
  try {
    const res = await request(`${url}/health`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.body.text()
    if (res.statusCode !== 200) return { error: `status ${res.statusCode}` }
    return { body: JSON.parse(text) }
  } catch (err) {
    const e = err as { code?: unknown; name?: string; message?: string }
    return { error: typeof e.code === 'string' ? e.code : (e.name ?? String(err)) }
  }
}

/** Every member of the fleet, probed in parallel (a busy member gets timeoutMs to answer). */
export async function fleetState(topo: StartedLocalTopology, fleet = 'main', timeoutMs = 5_000): Promise<MemberState[]> {
  const members = topo.endpoints().fleets[fleet]
  const pids = new Map(topo.services().map((s) => [s.name, s.pid]))
  return Promise.all(
    members.members.map(async (name, i) => {
      const h = await health(members.memberUrls[i], timeoutMs)
      const pid = pids.get(name)
      const ps = pid !== undefined ? procStatus(pid) : undefined
      return { name, pid, ...(h.body ? { health: h.body } : { error: h.error }), rssBytes: ps?.rssBytes, osThreads: ps?.threads }
    }),
  )
}

/** Why a member is not yet a full member of a fleet of n, or undefined when it is. */
export function shortfall(m: MemberState, n: number): string | undefined {
  if (!m.health) return `no /health (${m.error})`
  const h = m.health
  if (h.shard_map_state !== 'ready') return `shard-map ${h.shard_map_state}${h.last_error ? ` (${h.last_error})` : ''}`
  if (h.peer_threads !== n - 1) return `${h.peer_threads} peer threads of ${n - 1}`
  if (h.connected_peers !== undefined && h.connected_peers !== n - 1) return `${h.connected_peers} connected peers of ${n - 1}`
  return undefined
}

export type ConvergeOutcome = { ok: true; ms: number; members: MemberState[] } | { ok: false; ms: number; members: MemberState[]; reasons: string[] }

/** Polls until every member reports a ready shard-map and n-1 live, connected peer threads. */
export async function waitConverged(
  topo: StartedLocalTopology,
  n: number,
  opts: { timeoutMs: number; signal?: AbortSignal; fleet?: string; intervalMs?: number },
): Promise<ConvergeOutcome> {
  const t0 = performance.now()
  const deadline = Date.now() + opts.timeoutMs
  let members: MemberState[]
  let reasons: string[]
  for (;;) {
    members = await fleetState(topo, opts.fleet ?? 'main')
    reasons = members.flatMap((m) => {
      const why = shortfall(m, n)
      return why ? [`${m.name}: ${why}`] : []
    })
    if (members.length === n && reasons.length === 0) return { ok: true, ms: performance.now() - t0, members }
    if (Date.now() > deadline || opts.signal?.aborted) return { ok: false, ms: performance.now() - t0, members, reasons }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100))
  }
}
