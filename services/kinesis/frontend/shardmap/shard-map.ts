// Placeholder with the final signature so app.ts can compile against it; the implementation follows.
import type { ShardMap, StreamInfo } from './types.js'
import type { ShardMapOptions } from './options.js'

/** What GET /peer/shardmap returns: this member's whole map, every entry with its checksum. */
export interface PeerMapDocument {
  member: string
  version: number
  entries: Array<{ key: string; value: unknown; checksum: string }>
}

/** One line of GET /peer/stream. */
export type PeerGossip =
  | { kind: 'hello'; member: string; version: number; atMs: number }
  | { kind: 'version'; member: string; version: number; atMs: number }
  | { kind: 'heartbeat'; member: string; version: number; atMs: number; seq: number }

export interface FrontendShardMap extends ShardMap {
  /** Starts I/O: registers self in metadata, polls membership, spawns peer threads. */
  start(selfUrl?: string): void
  /** This member's id and heartbeat period (peer routes). */
  readonly selfId: string
  readonly peerHeartbeatMs: number
  /** The whole map as peers fetch it (bootstrap from peers). */
  peerDocument(): PeerMapDocument
  /** Called with the new version whenever this member's map version changes; returns unsubscribe. */
  onVersion(listener: (version: number) => void): () => void
  /** Stream info known so far (sync, no metadata read). */
  streamSync(name: string): StreamInfo | undefined
}

export function createShardMap(_opts: ShardMapOptions): FrontendShardMap {
  throw new Error('shard-map: implementation in progress')
}
