// The contract between the front-end's data plane (app.ts, api/) and its shard-map.
// The shard-map is the outage's root cause: the data plane only asks it two things, "may I
// serve?" and "where does this record go?".
import type { ThreadLimitEnforcement } from '../../../kit/outage-facts.js'
import type { HeapReport } from '../../../kit/memory.js'

export type ShardMapState = 'building' | 'ready' | 'broken'
export type { ThreadLimitEnforcement }

export interface ShardInfo {
  shardId: string
  startingHashKey: string
  endingHashKey: string
  startingSequenceNumber: string
  /** Back-end id that owns the shard. */
  owner: string
}

export interface StreamInfo {
  name: string
  arn: string
  status: 'CREATING' | 'ACTIVE' | 'DELETING'
  createdAtMs: number
  retentionHours: number
  shards: ShardInfo[]
}

export interface ShardMapStats {
  state: ShardMapState
  version: number
  /** Real OS threads of this process (/proc/self/task). */
  threads: number
  threadLimit: number
  enforcement: ThreadLimitEnforcement
  /** Other fleet members known from membership. */
  peers: number
  /** Live peer threads. */
  peerThreads: number
  /** Peers seen but still inside their learn delay. */
  pendingPeers: number
  /** Failed thread creations since start. */
  threadCreateFailures: number
  lastError?: string
  /** Other members in the latest membership read (peers may be more: a learned peer is kept until restart). */
  members?: number
  /** Learned peers no longer in membership: still needing a thread, the reason removals do not heal. */
  stalePeers?: string[]
  /** Peer threads whose bootstrap (bootstrap 'peers') is done or given up. */
  bootstrappedPeers?: number
  /** Peer threads currently connected to their peer. */
  connectedPeers?: number
  /** Threads of the process when the shard-map started, before any peer thread. */
  baseThreads?: number
  /** When the map entered its current state (epoch ms). */
  stateSinceMs?: number
  /** Times the fleet's health system removed this member from membership (each one a fresh bootstrap). */
  fleetRemovals?: number
}

export interface ShardMap {
  readonly state: ShardMapState
  /** Throws AwsErrors.InternalFailure while broken, AwsErrors.ServiceUnavailable while building. */
  requireUsable(): void
  /** A stream by name; on a miss, re-reads metadata once before answering undefined. */
  stream(name: string): Promise<StreamInfo | undefined>
  listStreams(): string[]
  /** The back-end URL that owns a shard. */
  backendUrl(owner: string): string
  /** Re-read the authoritative store now (after CreateStream). */
  refresh(): Promise<void>
  stats(): ShardMapStats
  /** Each live peer thread's isolate (GET /admin/memory's peerThreads): memory the process's own heap figures leave out. */
  peerThreadMemory?(opts: { fullGc: boolean }): Promise<PeerThreadMemory[]>
  close(): Promise<void>
}

/** A peer thread's heap, or why it has none to show (closing, or too busy to answer in time). */
export type PeerThreadMemory = { peer: string } & (HeapReport | { unanswered: true })
