// One peer thread: a real OS thread (worker_thread) per other member of the fleet, the 2020
// design at the root of the outage. It holds its own HTTP connection to that one peer, reads the
// peer's gossip (shard-map versions, heartbeats) and posts small summaries to the main thread.
// With bootstrap 'peers' it first fetches and processes the peer's whole map.
//
// Lifecycle: starting -> ready -> draining -> closed.
//   starting: the thread runs; with bootstrap 'peers', it is fetching/processing the peer's map.
//   ready:    the gossip loop runs (connected or reconnecting with backoff).
//   draining: the main thread asked it to stop; the connection is destroyed, timers cleared.
//   closed:   the last message; the thread's event loop is then empty and the thread exits.
//
// Thread races, and how they are settled:
// - 'drain' can arrive at any await (mid-bootstrap, mid-connect, mid-backoff). Every loop checks
//   `draining` after each await, and drain() destroys the in-flight request so the await settles
//   at once instead of after a timeout.
// - 'retarget' (the peer restarted on another port) can arrive while a request is in flight: the
//   request is destroyed and the loop reconnects to the new URL without backoff. A stale
//   request's late 'error' is ignored because it is no longer `current`.
// - Messages posted just before 'drain' reaches us are still delivered; the main thread drops
//   anything a draining link says except state changes (peer-link.ts).
// - The main thread also terminate()s a link that has not closed after a grace period, so a
//   thread stuck in a long synchronous merge cannot hold close() forever.
import http from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { DocumentProcessor, type BootstrapSummary } from './map-document.js'
import { seededRandom } from '../../../kit/prng.js'
import { internalHeaders } from '../../../kit/internal.js'
import { heapReport } from '../../../kit/memory.js'
import type { MainToThread, PeerGossip, PeerThreadData, PeerThreadState, ThreadToMain } from './peer-protocol.js'

if (!parentPort) throw new Error('peer-thread.ts runs only as a worker_thread of the shard-map')
const port = parentPort
const data = workerData as PeerThreadData

// One connection per thread: the bootstrap fetch and then the long-lived stream reuse it.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
// The peer routes are internal: both requests carry the run's credential (a header; nothing else changes).
const headers = internalHeaders(data.internalToken)
const jitter = seededRandom(`${data.seed}/${data.selfId}/${data.peerId}/reconnect`)

let state: PeerThreadState = 'starting'
let draining = false
let peerUrl = data.peerUrl
let current: http.ClientRequest | undefined
let wake: (() => void) | undefined
let rebootstrapWanted = false

const post = (msg: ThreadToMain) => port.postMessage(msg)

function setState(next: PeerThreadState): void {
  if (state === next || state === 'closed') return
  state = next
  post({ type: 'state', state })
}

port.on('message', (msg: MainToThread) => {
  if (msg.type === 'drain') drain()
  else if (msg.type === 'rebootstrap' && data.bootstrap) {
    // The gossip stream is to the old incarnation; end it and fetch the new map before resuming.
    rebootstrapWanted = true
    current?.destroy(new Error('peer rejoined'))
    wake?.()
  } else if (msg.type === 'memory') {
    post({ type: 'memory', id: msg.id, heap: heapReport({ fullGc: msg.fullGc }) })
  } else if (msg.type === 'retarget' && msg.url !== peerUrl) {
    peerUrl = msg.url
    current?.destroy(new Error('peer moved'))
    wake?.()
  }
})

function drain(): void {
  if (draining) return
  draining = true
  setState('draining')
  current?.destroy(new Error('draining'))
  wake?.()
}

/** Sleeps for ms, or less when drain/retarget wakes the thread. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      wake = undefined
      resolve()
    }
    wake = done
  })
}

function backoffMs(attempt: number): number {
  const base = Math.min(data.reconnectMaxMs, data.reconnectMinMs * 2 ** Math.min(attempt, 16))
  return Math.round(base / 2 + (base / 2) * jitter())
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`)
  }
}

/**
 * GET /peer/shardmap on this thread's connection, processing the map as it arrives: each chunk is
 * parsed, verified and merged before the next is read, so the thread never holds the whole map.
 */
function fetchAndProcess(): Promise<{ summary: BootstrapSummary; processMs: number }> {
  return new Promise((resolve, reject) => {
    const processor = new DocumentProcessor()
    let processMs = 0
    const work = (fn: () => void) => {
      const t0 = performance.now()
      fn()
      processMs += performance.now() - t0
    }
    const req = http.get(new URL('/peer/shardmap', peerUrl), { agent, headers, timeout: 30_000 }, (res) => {
      res.setEncoding('utf8')
      if (res.statusCode !== 200) {
        let body = ''
        res.on('data', (c: string) => (body += c))
        res.on('end', () => reject(new HttpStatusError(res.statusCode ?? 0, body)))
        return
      }
      res.on('data', (chunk: string) => {
        try {
          work(() => processor.push(chunk))
        } catch (err) {
          req.destroy(new BadDocument(describe(err)))
        }
      })
      res.on('error', reject)
      res.on('end', () => {
        try {
          let summary!: BootstrapSummary
          work(() => (summary = processor.end()))
          resolve({ summary, processMs })
        } catch (err) {
          reject(new BadDocument(describe(err)))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    current = req
  })
}

class BadDocument extends Error {}

const describe = (err: unknown) => {
  const e = err as NodeJS.ErrnoException
  return e.code ? `${e.code} ${e.message}` : String(e.message ?? err)
}

/** bootstrap 'peers': fetch the peer's whole map, verify every entry, merge. */
async function bootstrap(): Promise<void> {
  let unreachable = 0
  for (let attempt = 1; !draining; attempt++) {
    const t0 = performance.now()
    try {
      const { summary, processMs } = await fetchAndProcess()
      post({ type: 'bootstrapped', summary, fetchMs: performance.now() - t0 - processMs, processMs, attempts: attempt })
      return
    } catch (err) {
      if (draining) return
      if (err instanceof BadDocument) {
        post({ type: 'bootstrap-failed', error: `bad shard-map from ${data.peerId}: ${err.message}`, attempts: attempt })
        return
      }
      // A peer that answers but is not ready (503 while it reads metadata) is waited for; only a
      // peer we cannot reach counts towards giving up, so a dead member cannot wedge cold start.
      if (!(err instanceof HttpStatusError)) unreachable++
      if (unreachable >= data.bootstrapAttempts) {
        post({ type: 'bootstrap-failed', error: describe(err), attempts: attempt })
        return
      }
      await sleep(backoffMs(attempt))
    }
  }
}

/** The gossip loop: one long-lived GET /peer/stream, reconnected with backoff. */
async function gossip(): Promise<void> {
  let attempt = 0
  let lastSeq = -1
  while (!draining) {
    if (rebootstrapWanted) {
      rebootstrapWanted = false
      await bootstrap()
      if (draining) return
    }
    const target = peerUrl
    const outcome = await streamOnce((line) => {
      let msg: PeerGossip
      try {
        msg = JSON.parse(line) as PeerGossip
      } catch {
        return
      }
      if (typeof msg.version !== 'number') return
      attempt = 0
      let missed = 0
      if (msg.kind === 'heartbeat') {
        if (lastSeq >= 0 && msg.seq > lastSeq + 1) missed = msg.seq - lastSeq - 1
        lastSeq = msg.seq
      } else if (msg.kind === 'hello') lastSeq = -1
      post({ type: 'gossip', version: msg.version, seq: msg.kind === 'heartbeat' ? msg.seq : -1, lagMs: Math.max(0, Date.now() - msg.atMs), missed })
    })
    if (draining) return
    post({ type: 'link', connected: false, error: outcome, attempt: ++attempt })
    // A retarget or a rejoin during the request means "reconnect now", not "back off".
    if (peerUrl === target && !rebootstrapWanted) await sleep(backoffMs(attempt))
  }
}

/** Resolves with why the stream ended. */
function streamOnce(onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve) => {
    let settled = false
    let silence: NodeJS.Timeout | undefined
    const finish = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(silence)
      resolve(why)
    }
    // A peer that stops talking (SIGSTOPped, overloaded) without closing the socket is dead to us.
    const watchdog = () => {
      clearTimeout(silence)
      silence = setTimeout(() => req.destroy(new Error(`no gossip for ${3 * data.heartbeatMs} ms`)), 3 * data.heartbeatMs)
    }
    const req = http.get(new URL(`/peer/stream?from=${encodeURIComponent(data.selfId)}`, peerUrl), { agent, headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        res.on('end', () => finish(`HTTP ${res.statusCode}`))
        return
      }
      post({ type: 'link', connected: true, attempt: 0 })
      watchdog()
      res.setEncoding('utf8')
      let buf = ''
      res.on('data', (chunk: string) => {
        watchdog()
        buf += chunk
        let nl: number
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          if (line) onLine(line)
        }
      })
      res.on('end', () => finish('peer closed the stream'))
      res.on('error', (err) => finish(describe(err)))
    })
    req.on('error', (err) => finish(describe(err)))
    req.on('close', () => finish('connection closed'))
    current = req
  })
}

async function run(): Promise<void> {
  post({ type: 'state', state: 'starting' })
  if (data.bootstrap) await bootstrap()
  if (!draining) {
    setState('ready')
    await gossip()
  }
  current?.destroy()
  agent.destroy()
  setState('closed')
  // Nothing is left on this thread's loop now: the thread exits by itself; the port must be
  // closed last so the 'closed' message above is delivered first.
  port.close()
}

void run()
