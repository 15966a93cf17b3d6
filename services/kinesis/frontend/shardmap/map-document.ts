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

/** What GET /peer/shardmap returns. */
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
 * Parse, verify and merge a peer's document into `into` (key -> entry, higher rev wins).
 * Throws on a document that is not a shard-map at all; bad entries are counted and dropped.
 */
export function processDocument(raw: string, into: Map<string, MapEntry> = new Map()): BootstrapSummary {
  const doc = JSON.parse(raw) as PeerMapDocument
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.entries) || typeof doc.version !== 'number') {
    throw new Error('not a shard-map document (want {member, version, entries[]})')
  }
  let verified = 0
  const rejectedKeys: string[] = []
  let rejected = 0
  for (const e of doc.entries) {
    if (!e || typeof e.key !== 'string' || typeof e.rev !== 'number' || entryChecksum(e.key, e.rev, e.value) !== e.checksum) {
      rejected++
      if (rejectedKeys.length < 5) rejectedKeys.push(String(e?.key))
      continue
    }
    verified++
    const have = into.get(e.key)
    if (!have || have.rev < e.rev) into.set(e.key, e)
  }
  const streams: BootstrapSummary['streams'] = []
  const backends: BootstrapSummary['backends'] = []
  const memberAcks: Record<string, number> = {}
  for (const e of into.values()) {
    if (e.key.startsWith('stream/')) streams.push({ stream: e.value as StreamInfo, rev: e.rev })
    else if (e.key.startsWith('backend/')) backends.push({ id: e.key.slice('backend/'.length), url: (e.value as { url: string }).url, rev: e.rev })
    else if (e.key.startsWith('ack/')) {
      const member = e.key.split('/', 2)[1]
      const v = (e.value as { version: number }).version
      memberAcks[member] = Math.min(memberAcks[member] ?? v, v)
    }
  }
  return { peerVersion: doc.version, bytes: Buffer.byteLength(raw), entries: doc.entries.length, verified, rejected, rejectedKeys, streams, backends, memberAcks }
}
