// What flows between a peer thread and the main thread, and what a peer says on its stream.
// Shared by peer-thread.ts (the worker) and peer-link.ts (its handle on the main thread).
import type { BootstrapSummary } from './map-document.js'
import type { HeapReport } from '../../../kit/memory.js'

/** One NDJSON line of GET /peer/stream. */
export type PeerGossip =
  | { kind: 'hello'; member: string; version: number; atMs: number; heartbeatMs: number }
  | { kind: 'version'; member: string; version: number; atMs: number }
  | { kind: 'heartbeat'; member: string; version: number; atMs: number; seq: number }

/** A peer thread's lifecycle (mirrored by its PeerLink on the main thread). */
export type PeerThreadState = 'starting' | 'ready' | 'draining' | 'closed'

export interface PeerThreadData {
  selfId: string
  peerId: string
  peerUrl: string
  /** Fetch and process the peer's whole map before streaming (bootstrap 'peers'). */
  bootstrap: boolean
  /** The peer's heartbeat period: a stream silent for 3 of them is treated as dead. */
  heartbeatMs: number
  reconnectMinMs: number
  reconnectMaxMs: number
  /** Unreachable attempts after which a bootstrap from this peer is given up (an empty map). */
  bootstrapAttempts: number
  seed: string
  /** The run's internal credential, sent on GET /peer/shardmap and /peer/stream. */
  internalToken?: string
}

// 'rebootstrap': the peer was removed from the fleet and rejoined; what it holds now is a new map.
// 'memory': report this thread's isolate (GET /admin/memory); id pairs the answer with the ask.
export type MainToThread = { type: 'retarget'; url: string } | { type: 'drain' } | { type: 'rebootstrap' } | { type: 'memory'; id: number; fullGc: boolean }

export type ThreadToMain =
  | { type: 'state'; state: PeerThreadState }
  | { type: 'bootstrapped'; summary: BootstrapSummary; fetchMs: number; processMs: number; attempts: number }
  | { type: 'bootstrap-failed'; error: string; attempts: number }
  | { type: 'link'; connected: boolean; error?: string; attempt: number }
  | { type: 'gossip'; version: number; seq: number; lagMs: number; missed: number }
  | { type: 'memory'; id: number; heap: HeapReport }
