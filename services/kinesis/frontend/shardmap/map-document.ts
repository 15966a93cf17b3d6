// A front-end's shard-map as peers exchange it (GET /peer/shardmap), and the work a peer thread
// does on it when it bootstraps from that peer: parse, verify every entry's checksum, merge.
//
// Entries:
//   backend/<id>                  -> { url }                       (who stores shards)
//   stream/<name>                 -> StreamInfo                    (shards, hash ranges, owners)
//   member/<id>                   -> { url, cell, version }        (this member's view of the fleet)
//   ack/<member>/<stream>/<shard> -> { owner, version }            (the map version at which that
//                                                                   member confirmed the shard's owner)
// The ack entries are the fence an ownership move waits for (a shard moves only once every member
// routes to the new owner). They make a member's map O(members x shards), so a bootstrap from
// peers costs O(members^2 x shards) per server: the work grows with fleet size x map size, which
// is why cold start from peers competes with serving and bootstrap from metadata (remediation 4)
// is cheap.
import { createHash } from 'node:crypto'
import type { StreamInfo } from './types.js'

export interface MapEntry {
  key: string
  /** The metadata version at which the value was read; the higher rev wins a merge. */
  rev: number
  value: unknown
  checksum: string
}

/** A member's whole map. On the wire (GET /peer/shardmap) it is NDJSON: a header line
 * {member, version, builtAtMs, entries: count}, then one entry per line (toNdjson), so a peer
 * thread verifies and merges entry by entry as bytes arrive and never holds the whole parsed map:
 * that keeps a peer thread's heap, hence the RSS of 39 threads per server, small. */
export interface PeerMapDocument {
  member: string
  version: number
  builtAtMs: number
  entries: MapEntry[]
}

export function entryChecksum(key: string, rev: number, value: unknown): string {
  return createHash('sha256').update(key).update('\n').update(String(rev)).update('\n').update(JSON.stringify(value)).digest('hex')
}

export function makeEntry(key: string, rev: number, value: unknown): MapEntry {
  return { key, rev, value, checksum: entryChecksum(key, rev, value) }
}

export interface MemberView {
  id: string
  url: string
  cell?: string
  /** The shard-map version this member last announced (0: not heard yet). */
  version: number
}

export interface MapContent {
  member: string
  version: number
  streams: Array<{ stream: StreamInfo; rev: number }>
  backends: Array<{ id: string; url: string; rev: number }>
  members: MemberView[]
}

export function buildDocument(c: MapContent): PeerMapDocument {
  const entries: MapEntry[] = []
  for (const b of c.backends) entries.push(makeEntry(`backend/${b.id}`, b.rev, { url: b.url }))
  for (const s of c.streams) entries.push(makeEntry(`stream/${s.stream.name}`, s.rev, s.stream))
  for (const m of c.members) {
    entries.push(makeEntry(`member/${m.id}`, c.version, { url: m.url, cell: m.cell ?? null, version: m.version }))
    for (const s of c.streams) {
      for (const shard of s.stream.shards) {
        entries.push(makeEntry(`ack/${m.id}/${s.stream.name}/${shard.shardId}`, s.rev, { owner: shard.owner, version: Math.min(m.version, c.version) }))
      }
    }
  }
  return { member: c.member, version: c.version, builtAtMs: Date.now(), entries }
}

export function toNdjson(doc: PeerMapDocument): string {
  const lines = [JSON.stringify({ member: doc.member, version: doc.version, builtAtMs: doc.builtAtMs, entries: doc.entries.length })]
  for (const e of doc.entries) lines.push(JSON.stringify(e))
  return lines.join('\n') + '\n'
}

/** What a peer thread posts to the main thread after processing a peer's whole map. */
export interface BootstrapSummary {
  peerVersion: number
  bytes: number
  entries: number
  verified: number
  rejected: number
  /** Keys of rejected entries (first few), for the log. */
  rejectedKeys: string[]
  /** The routing part the main thread merges: small, O(streams + backends). */
  streams: Array<{ stream: StreamInfo; rev: number }>
  backends: Array<{ id: string; url: string; rev: number }>
  /** Per member, the lowest shard ack seen: how far that member has converged. */
  memberAcks: Record<string, number>
}

/**
 * Parses, verifies and merges a peer's map as it arrives (push chunks, then end()). Routing
 * entries merge into `into` (key -> entry, the higher rev wins); ack and member entries are
 * verified and folded into per-member figures, not kept. A document that is not a shard-map
 * throws; a bad entry is counted and dropped.
 */
export class DocumentProcessor {
  #into: Map<string, MapEntry>
  #buf = ''
  #header: { member: string; version: number; entries: number } | undefined
  #bytes = 0
  #entries = 0
  #verified = 0
  #rejected = 0
  #rejectedKeys: string[] = []
  #acks: Record<string, number> = {}

  constructor(into: Map<string, MapEntry> = new Map()) {
    this.#into = into
  }

  push(chunk: string): void {
    this.#bytes += Buffer.byteLength(chunk)
    this.#buf += chunk
    let nl: number
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl)
      this.#buf = this.#buf.slice(nl + 1)
      if (line) this.#line(line)
    }
  }

  end(): BootstrapSummary {
    if (this.#buf) this.#line(this.#buf)
    this.#buf = ''
    if (!this.#header) throw new Error('not a shard-map document (empty)')
    if (this.#entries !== this.#header.entries) throw new Error(`truncated shard-map: ${this.#entries} of ${this.#header.entries} entries`)
    const streams: BootstrapSummary['streams'] = []
    const backends: BootstrapSummary['backends'] = []
    for (const e of this.#into.values()) {
      if (e.key.startsWith('stream/')) streams.push({ stream: e.value as StreamInfo, rev: e.rev })
      else if (e.key.startsWith('backend/')) backends.push({ id: e.key.slice('backend/'.length), url: (e.value as { url: string }).url, rev: e.rev })
    }
    return {
      peerVersion: this.#header.version,
      bytes: this.#bytes,
      entries: this.#entries,
      verified: this.#verified,
      rejected: this.#rejected,
      rejectedKeys: this.#rejectedKeys,
      streams,
      backends,
      memberAcks: this.#acks,
    }
  }

  #line(line: string): void {
    let parsed: any
    try {
      parsed = JSON.parse(line)
    } catch {
      parsed = undefined
    }
    if (!this.#header) {
      if (!parsed || typeof parsed.version !== 'number' || typeof parsed.entries !== 'number')
        throw new Error('not a shard-map document (want a {member, version, entries} header line)')
      this.#header = parsed
      return
    }
    this.#entries++
    const e = parsed as MapEntry | undefined
    if (!e || typeof e.key !== 'string' || typeof e.rev !== 'number' || entryChecksum(e.key, e.rev, e.value) !== e.checksum) {
      this.#rejected++
      if (this.#rejectedKeys.length < 5) this.#rejectedKeys.push(String(e?.key))
      return
    }
    this.#verified++
    if (e.key.startsWith('ack/')) {
      const member = e.key.split('/', 2)[1]
      const v = (e.value as { version: number }).version
      this.#acks[member] = Math.min(this.#acks[member] ?? v, v)
      return
    }
    if (e.key.startsWith('member/')) return
    const have = this.#into.get(e.key)
    if (!have || have.rev < e.rev) this.#into.set(e.key, e)
  }
}

/** A whole NDJSON document at once (tests, tools). */
export function processDocument(raw: string, into?: Map<string, MapEntry>): BootstrapSummary {
  const p = new DocumentProcessor(into)
  p.push(raw)
  return p.end()
}
