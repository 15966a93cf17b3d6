// The main thread's handle on one peer thread: mirrors its lifecycle (starting -> ready ->
// draining -> closed), keeps what the thread last reported, and turns the thread's messages into
// calls on the shard-map. The thread itself is made by ThreadLimit.spawn(), never here, so every
// thread creation goes through the one place that knows the limit.
import type { Worker } from 'node:worker_threads'
import type { BootstrapSummary } from './map-document.js'
import type { HeapReport } from '../../../kit/memory.js'
import type { MainToThread, PeerThreadState, ThreadToMain } from './peer-protocol.js'

export interface PeerLinkEvents {
  bootstrapped(link: PeerLink, summary: BootstrapSummary | undefined, detail: { fetchMs?: number; processMs?: number; error?: string }): void
  gossip(link: PeerLink, version: number): void
  /** The thread ended without being asked to (crash, resource limit): the map must replace it. */
  lost(link: PeerLink, why: string): void
}

export class PeerLink {
  readonly peerId: string
  state: PeerThreadState = 'starting'
  /** Bootstrap done (or given up); true from the start when bootstrapping from metadata. */
  bootstrapped: boolean
  connected = false
  /** The peer's shard-map version as it last gossiped it (0: not heard yet). */
  version = 0
  heartbeats = 0
  missedHeartbeats = 0
  lastError: string | undefined
  readonly createdAtMs = Date.now()
  #worker: Worker
  #events: PeerLinkEvents
  #closed: Promise<void>
  #memoryAsks = new Map<number, (heap: HeapReport | undefined) => void>()
  #nextAsk = 0

  constructor(peerId: string, worker: Worker, needsBootstrap: boolean, events: PeerLinkEvents) {
    this.peerId = peerId
    this.bootstrapped = !needsBootstrap
    this.#worker = worker
    this.#events = events
    // The thread's own messages are not needed to keep the process alive; the map's timers are.
    worker.unref()
    worker.on('message', (msg: ThreadToMain) => this.#onMessage(msg))
    // 'error' is followed by 'exit'; keep the reason for the 'exit' handler.
    worker.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.code ? `${err.code} ${err.message}` : err.message
    })
    this.#closed = new Promise((resolve) => {
      worker.once('exit', (code) => {
        for (const settle of [...this.#memoryAsks.values()]) settle(undefined)
        const unexpected = this.state !== 'draining' && this.state !== 'closed'
        this.state = 'closed'
        this.connected = false
        if (unexpected) this.#events.lost(this, this.lastError ?? `thread exited with code ${code}`)
        resolve()
      })
    })
  }

  /** The peer restarted elsewhere (new URL for the same member id). */
  retarget(url: string): void {
    this.#send({ type: 'retarget', url })
  }

  /** The peer rejoined the fleet: fetch and process its whole map again (bootstrap 'peers' only). */
  rebootstrap(): void {
    this.#send({ type: 'rebootstrap' })
  }

  /**
   * The thread's isolate: its own heap, which the process's figures leave out. Undefined when the
   * thread is closing or does not answer within timeoutMs (busy in a long synchronous merge).
   */
  memory(opts: { fullGc?: boolean; timeoutMs?: number } = {}): Promise<HeapReport | undefined> {
    if (this.state === 'draining' || this.state === 'closed') return Promise.resolve(undefined)
    const id = this.#nextAsk++
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), opts.timeoutMs ?? 2_000)
      const settle = (heap: HeapReport | undefined) => {
        clearTimeout(timer)
        this.#memoryAsks.delete(id)
        resolve(heap)
      }
      this.#memoryAsks.set(id, settle)
      this.#send({ type: 'memory', id, fullGc: !!opts.fullGc })
    })
  }

  /** Asks the thread to stop; terminates it if it has not exited after graceMs. */
  async drain(graceMs = 1_000): Promise<void> {
    if (this.state === 'closed') return this.#closed
    this.state = 'draining'
    this.#send({ type: 'drain' })
    const timer = setTimeout(() => void this.#worker.terminate(), graceMs)
    await this.#closed
    clearTimeout(timer)
  }

  #send(msg: MainToThread): void {
    if (this.state === 'closed') return
    try {
      this.#worker.postMessage(msg)
    } catch {
      // The port closes as the thread exits; the 'exit' handler settles the state.
    }
  }

  #onMessage(msg: ThreadToMain): void {
    // Race: the thread may have posted before our 'drain' reached it. Once draining, only its own
    // state reports matter.
    if (msg.type === 'state') {
      if (this.state !== 'draining' || msg.state === 'closed') this.state = msg.state === 'draining' ? 'draining' : msg.state
      return
    }
    if (msg.type === 'memory') return this.#memoryAsks.get(msg.id)?.(msg.heap)
    if (this.state === 'draining' || this.state === 'closed') return
    switch (msg.type) {
      case 'bootstrapped':
        this.bootstrapped = true
        this.#events.bootstrapped(this, msg.summary, { fetchMs: msg.fetchMs, processMs: msg.processMs })
        break
      case 'bootstrap-failed':
        this.bootstrapped = true
        this.lastError = msg.error
        this.#events.bootstrapped(this, undefined, { error: msg.error })
        break
      case 'link':
        this.connected = msg.connected
        if (msg.error) this.lastError = msg.error
        break
      case 'gossip':
        this.connected = true
        this.heartbeats++
        this.missedHeartbeats += msg.missed
        this.version = msg.version
        this.#events.gossip(this, msg.version)
        break
    }
  }
}
