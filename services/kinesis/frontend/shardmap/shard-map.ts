// The front-end's shard-map: the cache the outage broke.
//
// Three sources, as at AWS in 2020:
//   1. membership, from metadata's GET /fleets/:fleet/members, polled every membershipPollMs;
//   2. the authoritative config (streams, shard ownership, back-ends), GET /shardmap, re-read when
//      the membership/store version moves, on refresh(), or when a peer gossips a newer version;
//   3. messages from every other member, each read and processed by that peer's own OS thread
//      (peer-thread.ts): one worker_thread per learned peer, so threads grow O(fleet size).
//
// Why removing capacity does not heal a broken map (the mechanism, not a flag):
//   A peer, once learned, is never forgotten by a running server. Membership polls only ADD
//   peers; a peer that disappears from membership keeps its place in `#learned` (its thread keeps
//   reconnecting to a server that is gone), because peer removals are processed only by a fresh
//   bootstrap, i.e. a process start, whose initial snapshot is the only full membership read that
//   replaces the learned set. Construction needs one thread per learned peer, so after the fleet
//   grew past the limit, every retry (every retryMs) needs as many threads as before the capacity
//   was removed, and fails the same way. Only a restart (a new initial snapshot) or raising the
//   OS limit (pids.max is re-read on each attempt) lets construction succeed.
//
// States: 'building' until the config was read, the first membership snapshot taken and (with
// bootstrap 'peers') every initial peer's whole map fetched and processed; then 'ready'.
// 'broken' as soon as one peer thread cannot be created; data-plane calls then fail with
// InternalFailure naming the cause.
import { SHARE_ENV } from 'node:worker_threads'
import { AwsErrors } from '../../../kit/errors.js'
import { leaveWorkersTheirResourceLimits } from '../../../kit/memory.js'
import { THREAD_LIMIT_ENFORCEMENTS } from '../../../kit/outage-facts.js'
import { MetadataClient, type Member, type Membership, type AuthoritativeMap } from './metadata-client.js'
import { PeerLink } from './peer-link.js'
import { ThreadLimit, ThreadCreateError, countThreads } from './thread-limit.js'
import { learnDelayMs } from './learn-delay.js'
import { buildDocument, toNdjson, type BootstrapSummary, type PeerMapDocument } from './map-document.js'
import { registerShardMapMetrics, type ShardMapMetrics } from './metrics.js'
import type { PeerThreadData } from './peer-protocol.js'
import type { ShardMapOptions, ShardMapLogger } from './options.js'
import type { PeerThreadMemory, ShardMap, ShardMapState, ShardMapStats, StreamInfo } from './types.js'

/** "'cgroup', 'docker' or 'process'" */
const ENFORCEMENT_EXPECTED = THREAD_LIMIT_ENFORCEMENTS.map((e) => `'${e}'`)
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1')

export type { PeerMapDocument } from './map-document.js'
export type { PeerGossip } from './peer-protocol.js'

const PEER_THREAD = new URL('./peer-thread.js', import.meta.url)

// Small heaps: the machine must hold 40 front-ends x 39 peer threads (1,560) in 24 GiB. A peer
// thread streams a peer's map entry by entry (map-document.ts), so its live heap stays small even
// for a 3 MB map (40 members x 400 shards). These limits are the smallest that let a thread
// bootstrap such a map; larger heaps with whole-document parsing did not fit that budget
// (dev-measure.ts measures it; the figures are in bench/RESULTS.md, "Figures moved from code comments").
// The service's own V8 flags would override them (kit/memory.ts, leaveWorkersTheirResourceLimits).
const PEER_THREAD_LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, codeRangeSizeMb: 4, stackSizeMb: 1 }

export interface FrontendShardMap extends ShardMap {
  /** Starts I/O: registers self in metadata, polls membership, spawns peer threads. */
  start(selfUrl?: string): void
  readonly selfId: string
  readonly peerHeartbeatMs: number
  /** The shard-map version (metadata version it was built from). */
  readonly version: number
  /** The whole map as peers fetch it (GET /peer/shardmap), NDJSON. Throws ServiceUnavailable before the first config read. */
  peerDocumentNdjson(): string
  peerDocument(): PeerMapDocument
  /** The authoritative map as last read; a shard-map cache fleet member hands it out. */
  authoritative(): AuthoritativeMap | undefined
  /** Called with the new version whenever this member's map version changes; returns unsubscribe. */
  onVersion(listener: (version: number) => void): () => void
  /** Stream info known now (no metadata read). */
  streamSync(name: string): StreamInfo | undefined
}

interface LearnedPeer {
  id: string
  url: string
  cell?: string | null
  learnedAtMs: number
  /** Its registration time in membership: a new one means it was removed and rejoined. */
  registeredAtMs?: number
  /** Learned from the initial snapshot (at once) or later (after its learn delay). */
  initial: boolean
}

export function createShardMap(opts: ShardMapOptions): FrontendShardMap {
  validate(opts)
  return new PeerShardMap(opts)
}

function validate(o: ShardMapOptions): void {
  const bad = (field: string, want: string, got: unknown) => {
    throw new TypeError(`createShardMap: ${field} must be ${want}, got ${JSON.stringify(got)}`)
  }
  for (const f of ['metadataUrl', 'fleet', 'selfId'] as const) if (typeof o[f] !== 'string' || !o[f]) bad(f, 'a non-empty string', o[f])
  if (!/^https?:\/\//.test(o.metadataUrl)) bad('metadataUrl', 'an http(s) URL', o.metadataUrl)
  if (o.bootstrap !== 'peers' && o.bootstrap !== 'metadata') bad('bootstrap', "'peers' or 'metadata'", o.bootstrap)
  if (!(THREAD_LIMIT_ENFORCEMENTS as readonly string[]).includes(o.enforcement)) bad('enforcement', ENFORCEMENT_EXPECTED, o.enforcement)
  for (const f of ['learnDelayMs'] as const) if (!Number.isInteger(o[f]) || o[f] < 0) bad(f, 'an integer >= 0', o[f])
  for (const f of ['membershipPollMs', 'peerHeartbeatMs', 'retryMs', 'threadLimit'] as const)
    if (!Number.isInteger(o[f]) || o[f] < 1) bad(f, 'an integer >= 1', o[f])
  if (!o.logger || !o.metrics) bad('logger/metrics', 'given', null)
}

class PeerShardMap implements FrontendShardMap {
  readonly selfId: string
  readonly peerHeartbeatMs: number
  #opts: ShardMapOptions
  #log: ShardMapLogger
  #client: MetadataClient
  #limit: ThreadLimit
  #metrics: ShardMapMetrics

  #state: ShardMapState = 'building'
  #stateSinceMs = Date.now()
  #startedAtMs = 0
  #selfUrl: string | undefined
  #started = false
  #closed = false
  #registered = false
  /** Set while a member removed from the fleet drains its peer threads before it registers again. */
  #rejoining: Promise<void> | undefined
  #leaving = false
  #removals = 0

  // Source 2: the authoritative config (and what peers' maps added on top).
  #version = 0
  #configRead = false
  #streams = new Map<string, { stream: StreamInfo; rev: number }>()
  #backends = new Map<string, { url: string; rev: number }>()
  #refreshing: Promise<void> | undefined
  #lastAuthoritative: AuthoritativeMap | undefined
  #cacheCursor = 0
  #lastGossipRefreshMs = 0

  // Source 1: membership.
  #membershipVersion: number | undefined
  #members = new Map<string, Member>()
  #initialSnapshot = false
  #learned = new Map<string, LearnedPeer>()
  #pending = new Map<string, { timer: NodeJS.Timeout; dueAtMs: number }>()

  // Source 3: one thread per learned peer.
  #links = new Map<string, PeerLink>()
  #initialBootstrapDone = false
  #brokenCause: string | undefined
  #lastError: string | undefined
  #failures = 0

  #pollTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #listeners = new Set<(version: number) => void>()
  #doc: { key: string; doc: PeerMapDocument; ndjson: string } | undefined
  /** Threads of the process before any peer thread existed (measured at start). */
  #baseThreads = 0

  constructor(opts: ShardMapOptions) {
    // Before any peer thread is made, so each keeps its own resourceLimits.
    leaveWorkersTheirResourceLimits()
    this.#opts = opts
    this.selfId = opts.selfId
    this.peerHeartbeatMs = opts.peerHeartbeatMs
    this.#log = opts.logger
    this.#client = new MetadataClient(opts)
    this.#limit = new ThreadLimit(opts)
    if (this.#limit.warning) this.#log.warn({ enforcement: opts.enforcement }, this.#limit.warning)
    this.#metrics = registerShardMapMetrics(opts.metrics, () => this.stats())
  }

  get state(): ShardMapState {
    return this.#state
  }

  get version(): number {
    return this.#version
  }

  start(selfUrl?: string): void {
    if (this.#started) return
    const url = selfUrl ?? this.#opts.selfUrl
    if (!url) throw new TypeError('shard-map start(): selfUrl is required (ADVERTISE_URL) when not given in the options')
    this.#selfUrl = url
    this.#started = true
    this.#startedAtMs = Date.now()
    this.#baseThreads = countThreads()
    this.#log.info(
      {
        selfId: this.selfId,
        fleet: this.#opts.fleet,
        cell: this.#opts.cell,
        bootstrap: this.#opts.bootstrap,
        threads: this.#baseThreads,
        threadLimit: this.#limit.current(),
        enforcement: this.#limit.enforcement,
        pidsMax: this.#limit.pidsMaxPath,
      },
      'shard-map starting',
    )
    const hb = this.#opts.metadataHeartbeatMs ?? this.#opts.membershipPollMs * 2
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), hb)
    this.#heartbeatTimer.unref()
    void this.#poll()
  }

  // --- the data plane's questions -------------------------------------------------------------

  requireUsable(): void {
    if (this.#state === 'ready') return
    if (this.#state === 'broken') throw AwsErrors.InternalFailure(`shard-map construction failed: ${this.#brokenCause}`)
    throw AwsErrors.ServiceUnavailable(`shard-map is still building: ${this.#buildingReason()}`)
  }

  async stream(name: string): Promise<StreamInfo | undefined> {
    const hit = this.#streams.get(name)
    if (hit) return hit.stream
    try {
      await this.refresh()
    } catch (err) {
      this.#log.warn({ err: String(err), stream: name }, 'shard-map re-read after a miss failed')
    }
    return this.#streams.get(name)?.stream
  }

  streamSync(name: string): StreamInfo | undefined {
    return this.#streams.get(name)?.stream
  }

  listStreams(): string[] {
    return [...this.#streams.keys()].sort()
  }

  backendUrl(owner: string): string {
    const b = this.#backends.get(owner)
    if (!b) throw AwsErrors.InternalFailure(`shard-map has no back-end ${owner}`)
    return b.url
  }

  refresh(): Promise<void> {
    this.#refreshing ??= (this.#opts.cacheFleet ? this.#fromCacheFleet(this.#opts.cacheFleet) : this.#client.shardMap())
      .then((m) => this.#applyAuthoritative(m))
      .finally(() => (this.#refreshing = undefined))
    return this.#refreshing
  }

  /** The authoritative map as last read (what a cache-fleet member hands out). */
  authoritative(): AuthoritativeMap | undefined {
    return this.#lastAuthoritative
  }

  // Remediation 5: the map comes from a member of the dedicated cache fleet, tried in turn.
  async #fromCacheFleet(fleet: string): Promise<AuthoritativeMap> {
    const { members } = await this.#client.fleetMembers(fleet)
    if (members.length === 0) throw new Error(`shard-map cache fleet ${fleet} has no members`)
    const start = this.#cacheCursor++ % members.length
    let last: unknown
    for (let i = 0; i < members.length; i++) {
      const m = members[(start + i) % members.length]
      try {
        return await this.#client.authoritativeFrom(m.url)
      } catch (err) {
        last = err
      }
    }
    throw new Error(`no member of shard-map cache fleet ${fleet} answered: ${String(last)}`)
  }

  stats(): ShardMapStats {
    const threadLimit = this.#limit.current()
    const stale = [...this.#learned.keys()].filter((id) => this.#members.size > 0 && !this.#members.has(id))
    return {
      state: this.#state,
      version: this.#version,
      threads: countThreads(),
      threadLimit,
      enforcement: this.#limit.enforcement,
      peers: this.#learned.size,
      peerThreads: [...this.#links.values()].filter((l) => l.state !== 'closed').length,
      pendingPeers: this.#pending.size,
      threadCreateFailures: this.#failures,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      members: Math.max(0, this.#members.size - (this.#members.has(this.selfId) ? 1 : 0)),
      stalePeers: stale,
      bootstrappedPeers: [...this.#links.values()].filter((l) => l.bootstrapped).length,
      connectedPeers: [...this.#links.values()].filter((l) => l.connected).length,
      baseThreads: this.#baseThreads,
      stateSinceMs: this.#stateSinceMs,
      fleetRemovals: this.#removals,
    }
  }

  async peerThreadMemory(opts: { fullGc: boolean }): Promise<PeerThreadMemory[]> {
    const links = [...this.#links.values()].filter((l) => l.state !== 'closed')
    return Promise.all(links.map(async (l) => ({ peer: l.peerId, ...((await l.memory(opts)) ?? { unanswered: true as const }) })))
  }

  // --- what peers read ------------------------------------------------------------------------

  onVersion(listener: (version: number) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  peerDocument(): PeerMapDocument {
    return this.#document().doc
  }

  peerDocumentNdjson(): string {
    return this.#document().ndjson
  }

  #document(): { doc: PeerMapDocument; ndjson: string } {
    if (!this.#configRead) throw AwsErrors.ServiceUnavailable(`shard-map of ${this.selfId} has not read metadata yet`)
    const members = [
      { id: this.selfId, url: this.#selfUrl ?? '', cell: this.#opts.cell, version: this.#version },
      ...[...this.#learned.values()].map((p) => ({ id: p.id, url: p.url, cell: p.cell ?? undefined, version: this.#links.get(p.id)?.version ?? 0 })),
    ]
    // Rebuilt only when something in it changed: every peer bootstrapping fetches it.
    const key = `${this.#version}|${members.map((m) => `${m.id}@${m.url}@${m.version}`).join(',')}`
    if (this.#doc?.key !== key) {
      const doc = buildDocument({
        member: this.selfId,
        version: this.#version,
        streams: [...this.#streams.values()],
        backends: [...this.#backends].map(([id, b]) => ({ id, url: b.url, rev: b.rev })),
        members,
      })
      this.#doc = { key, doc, ndjson: toNdjson(doc) }
    }
    return this.#doc
  }

  // --- sources 1 and 2: metadata --------------------------------------------------------------

  async #poll(): Promise<void> {
    if (this.#closed) return
    try {
      if (this.#rejoining) await this.#rejoining
      if (!this.#registered) {
        await this.#client.register(this.selfId, this.#selfUrl!)
        this.#registered = true
        this.#log.info({ selfId: this.selfId, url: this.#selfUrl }, 'registered in fleet membership')
      }
      const membership = await this.#client.members()
      const versionMoved = membership.version !== this.#membershipVersion
      this.#onMembership(membership)
      if (versionMoved || !this.#configRead) await this.refresh()
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'metadata unreachable; shard-map keeps what it has')
    } finally {
      if (!this.#closed) {
        this.#pollTimer = setTimeout(() => void this.#poll(), this.#opts.membershipPollMs)
        this.#pollTimer.unref()
      }
    }
  }

  async #heartbeat(): Promise<void> {
    if (!this.#registered || this.#closed) return
    try {
      await this.#client.heartbeat(this.selfId)
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'membership heartbeat failed')
    }
  }

  #onMembership(m: Membership): void {
    if (this.#initialSnapshot && !this.#opts.cacheFleet && !m.members.some((x) => x.id === this.selfId)) return this.#removedFromFleet(m.version)
    this.#membershipVersion = m.version
    this.#members = new Map(m.members.map((x) => [x.id, x]))
    // With a dedicated cache fleet, other members are nobody's business here: no peer, no thread.
    const others = this.#opts.cacheFleet ? [] : m.members.filter((x) => x.id !== this.selfId)
    if (!this.#initialSnapshot) {
      // The initial fleet boots together: everything in the first snapshot is learned at once.
      this.#initialSnapshot = true
      for (const peer of others)
        this.#learned.set(peer.id, { id: peer.id, url: peer.url, cell: peer.cell, registeredAtMs: peer.registeredAtMs, learnedAtMs: Date.now(), initial: true })
      this.#log.info({ peers: others.map((p) => p.id) }, 'initial membership snapshot')
      this.#construct()
      return
    }
    for (const peer of others) {
      const known = this.#learned.get(peer.id)
      if (known) {
        if (known.url !== peer.url) {
          // Same member, new address (it restarted): its thread follows it.
          known.url = peer.url
          this.#links.get(peer.id)?.retarget(peer.url)
        }
        if (peer.registeredAtMs !== undefined && known.registeredAtMs !== undefined && peer.registeredAtMs !== known.registeredAtMs) {
          // It was removed from the fleet and rejoined: with bootstrap 'peers', its whole map is
          // fetched and processed again, work every member does for every rejoin.
          known.registeredAtMs = peer.registeredAtMs
          if (this.#opts.bootstrap === 'peers') this.#links.get(peer.id)?.rebootstrap()
        }
      } else if (!this.#pending.has(peer.id)) {
        const delay = learnDelayMs(this.#opts.seed, this.selfId, peer.id, this.#opts.learnDelayMs)
        const timer = setTimeout(() => this.#learn(peer.id), delay)
        timer.unref()
        this.#pending.set(peer.id, { timer, dueAtMs: Date.now() + delay })
        this.#log.info({ peer: peer.id, learnDelayMs: delay }, 'new member seen; learning it after its delay')
      }
    }
    // A member that left before we learned it is simply not learned. A learned one stays (see top).
    for (const [id, p] of this.#pending) {
      if (!this.#members.has(id)) {
        clearTimeout(p.timer)
        this.#pending.delete(id)
      }
    }
  }

  /**
   * The fleet's health system took this member out of membership (the endpoint removes members
   * that stay unhealthy too long). A member that is not in the fleet has no business holding a
   * map of it: it rejoins as a new member does, with a fresh snapshot and, with bootstrap 'peers',
   * every peer's whole map fetched again. That is what sets a slow recovery back in 2020: cold
   * starts that took too long got servers removed, and their next cold start began from nothing.
   */
  #removedFromFleet(version: number): void {
    if (this.#leaving) return
    this.#removals++
    this.#metrics.fleetRemovals.inc()
    if (this.#opts.onRemovedFromFleet) {
      this.#leaving = true
      this.#log.warn(
        { selfId: this.selfId, membershipVersion: version, state: this.#state, peerThreads: this.#links.size },
        'removed from the fleet; leaving for a replacement',
      )
      this.#opts.onRemovedFromFleet()
      return
    }
    this.#log.warn(
      { selfId: this.selfId, membershipVersion: version, state: this.#state, peerThreads: this.#links.size, removals: this.#removals },
      'removed from the fleet; rejoining with a fresh bootstrap',
    )
    for (const p of this.#pending.values()) clearTimeout(p.timer)
    this.#pending.clear()
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    const links = [...this.#links.values()]
    this.#links.clear()
    this.#learned.clear()
    this.#brokenCause = undefined
    this.#initialSnapshot = false
    this.#initialBootstrapDone = false
    this.#registered = false
    this.#membershipVersion = undefined
    this.#startedAtMs = Date.now()
    this.#setState('building')
    // The old threads must be gone before the new ones are made: both together could cross the
    // thread limit for a reason that is not the fleet's size.
    this.#rejoining = Promise.all(links.map((l) => l.drain())).then(() => {
      this.#rejoining = undefined
    })
  }

  #learn(id: string): void {
    this.#pending.delete(id)
    const member = this.#members.get(id)
    if (this.#closed || !member || this.#learned.has(id)) return
    this.#learned.set(id, { id, url: member.url, cell: member.cell, registeredAtMs: member.registeredAtMs, learnedAtMs: Date.now(), initial: false })
    this.#log.info({ peer: id, peers: this.#learned.size }, 'learned new peer')
    this.#construct()
  }

  #applyAuthoritative(m: AuthoritativeMap): void {
    this.#lastAuthoritative = m
    const streams = new Map<string, { stream: StreamInfo; rev: number }>()
    for (const s of m.streams) streams.set(s.name, { stream: s, rev: m.version })
    const backends = new Map<string, { url: string; rev: number }>()
    for (const [id, url] of Object.entries(m.backends ?? {})) backends.set(id, { url, rev: m.version })
    // What a peer knew from a newer read than this one survives it.
    for (const [name, s] of this.#streams) if (s.rev > m.version && !streams.has(name)) streams.set(name, s)
    for (const [id, b] of this.#backends) if (b.rev > m.version && !backends.has(id)) backends.set(id, b)
    this.#streams = streams
    this.#backends = backends
    this.#configRead = true
    this.#setVersion(Math.max(this.#version, m.version))
    this.#updateState()
  }

  #setVersion(v: number): void {
    if (v === this.#version) return
    this.#version = v
    for (const l of this.#listeners) l(v)
  }

  // --- source 3: peer threads -----------------------------------------------------------------

  /**
   * Construction: one thread per learned peer. Synchronous on purpose: a thread is either made
   * here or the map is broken, with no await in between for membership to change under us.
   */
  #construct(): void {
    if (this.#closed) return
    for (const [id, peer] of this.#learned) {
      if (this.#links.has(id)) continue
      const data: PeerThreadData = {
        selfId: this.selfId,
        peerId: id,
        peerUrl: peer.url,
        bootstrap: this.#opts.bootstrap === 'peers',
        heartbeatMs: this.#opts.peerHeartbeatMs,
        reconnectMinMs: Math.min(250, this.#opts.retryMs),
        reconnectMaxMs: Math.max(2_000, this.#opts.retryMs * 2),
        bootstrapAttempts: 3,
        seed: String(this.#opts.seed),
        ...(this.#opts.internalToken !== undefined ? { internalToken: this.#opts.internalToken } : {}),
      }
      let worker
      try {
        // execArgv [] keeps the parent's loaders/flags (a test runner's TypeScript hooks) out of
        // the peer threads, which run plain compiled JS; SHARE_ENV avoids a copy of env per thread.
        worker = this.#limit.spawn(PEER_THREAD, { workerData: data, resourceLimits: PEER_THREAD_LIMITS, execArgv: [], env: SHARE_ENV })
      } catch (err) {
        this.#constructionFailed(id, err)
        return
      }
      this.#links.set(id, new PeerLink(id, worker, data.bootstrap, this.#linkEvents))
    }
    this.#updateState()
  }

  #constructionFailed(peerId: string, err: unknown): void {
    const e = err instanceof ThreadCreateError ? err : new ThreadCreateError('ERR_WORKER_INIT_FAILED', String((err as Error)?.message ?? err))
    this.#failures++
    this.#metrics.threadCreateFailures.inc()
    const cause = `cannot create peer thread for ${peerId} (${e.summary})`
    const fresh = this.#brokenCause !== cause
    this.#brokenCause = cause
    this.#lastError = cause
    const detail = {
      peer: peerId,
      code: e.code,
      threads: countThreads(),
      threadLimit: this.#limit.current(),
      peers: this.#learned.size,
      peerThreads: this.#links.size,
      failures: this.#failures,
    }
    if (fresh) this.#log.error(detail, `shard-map construction failed: ${cause}`)
    else this.#log.debug(detail, 'shard-map construction retry failed')
    this.#setState('broken')
    this.#retryTimer ??= setTimeout(() => {
      this.#retryTimer = undefined
      this.#construct()
    }, this.#opts.retryMs)
    this.#retryTimer.unref()
  }

  #linkEvents = {
    bootstrapped: (link: PeerLink, summary: BootstrapSummary | undefined, d: { fetchMs?: number; processMs?: number; error?: string }) => {
      if (summary) {
        this.#mergeFromPeer(summary)
        this.#metrics.peerBootstrapSeconds.observe({ phase: 'fetch' }, (d.fetchMs ?? 0) / 1000)
        this.#metrics.peerBootstrapSeconds.observe({ phase: 'process' }, (d.processMs ?? 0) / 1000)
        this.#log.debug(
          { peer: link.peerId, entries: summary.entries, bytes: summary.bytes, rejected: summary.rejected, fetchMs: d.fetchMs, processMs: d.processMs },
          'bootstrapped from peer',
        )
        if (summary.rejected > 0)
          this.#log.warn({ peer: link.peerId, rejected: summary.rejected, keys: summary.rejectedKeys }, 'peer map entries failed their checksum')
      } else {
        this.#log.warn({ peer: link.peerId, error: d.error }, 'gave up bootstrapping from an unreachable peer')
      }
      this.#updateState()
    },
    gossip: (_link: PeerLink, version: number) => {
      // Gossip is how a member hears of a change before its next poll; metadata stays the truth.
      if (version > this.#version && Date.now() - this.#lastGossipRefreshMs >= this.#opts.membershipPollMs) {
        this.#lastGossipRefreshMs = Date.now()
        this.refresh().catch((err) => this.#log.debug({ err: String(err) }, 'gossip-triggered refresh failed'))
      }
    },
    lost: (link: PeerLink, why: string) => {
      if (this.#links.get(link.peerId) === link) this.#links.delete(link.peerId)
      if (this.#closed) return
      this.#log.warn({ peer: link.peerId, why }, 'peer thread died; replacing it')
      this.#construct()
    },
  }

  #mergeFromPeer(s: BootstrapSummary): void {
    let changed = false
    for (const { stream, rev } of s.streams) {
      const have = this.#streams.get(stream.name)
      if (!have || have.rev < rev) {
        this.#streams.set(stream.name, { stream, rev })
        changed = true
      }
    }
    for (const b of s.backends) {
      const have = this.#backends.get(b.id)
      if (!have || have.rev < b.rev) {
        this.#backends.set(b.id, { url: b.url, rev: b.rev })
        changed = true
      }
    }
    if (changed) this.#setVersion(Math.max(this.#version, s.peerVersion))
    if (s.peerVersion > this.#version) this.refresh().catch((err) => this.#log.debug({ err: String(err) }, 'refresh after peer bootstrap failed'))
  }

  // --- state ----------------------------------------------------------------------------------

  #updateState(): void {
    if (this.#closed) return
    const missing = [...this.#learned.keys()].filter((id) => !this.#links.has(id))
    if (this.#brokenCause) {
      if (missing.length > 0) return this.#setState('broken')
      this.#log.info({ failures: this.#failures, peerThreads: this.#links.size }, 'shard-map construction succeeded again')
      this.#brokenCause = undefined
    }
    if (!this.#configRead || !this.#initialSnapshot || missing.length > 0) return this.#setState('building')
    if (this.#opts.bootstrap === 'peers' && !this.#opts.cacheFleet && !this.#initialBootstrapDone) {
      if (![...this.#links.values()].every((l) => l.bootstrapped)) return this.#setState('building')
      this.#initialBootstrapDone = true
    }
    this.#setState('ready')
  }

  #setState(next: ShardMapState): void {
    if (next === this.#state) return
    const from = this.#state
    this.#state = next
    this.#stateSinceMs = Date.now()
    const detail: Record<string, unknown> = {
      from,
      to: next,
      peers: this.#learned.size,
      peerThreads: this.#links.size,
      threads: countThreads(),
      threadLimit: this.#limit.current(),
    }
    if (next === 'ready' && from === 'building') detail.buildMs = Date.now() - this.#startedAtMs
    this.#log.info(detail, `shard-map ${next}`)
  }

  #buildingReason(): string {
    if (!this.#configRead) return 'metadata not read yet'
    if (!this.#initialSnapshot) return 'no membership snapshot yet'
    const links = [...this.#links.values()]
    return `${links.filter((l) => l.bootstrapped).length}/${this.#learned.size} peers bootstrapped`
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#pollTimer)
    clearInterval(this.#heartbeatTimer)
    clearTimeout(this.#retryTimer)
    for (const p of this.#pending.values()) clearTimeout(p.timer)
    this.#pending.clear()
    await Promise.all([...this.#links.values()].map((l) => l.drain()))
    this.#links.clear()
  }
}
