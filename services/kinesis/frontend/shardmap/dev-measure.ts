// DEV MEASUREMENT, not part of any service: what one front-end pays to join a fleet of N.
//   node dist/services/kinesis/frontend/shardmap/dev-measure.js --fleet 40 --hosts 4 --shards 64 --bootstrap peers
// Starts a real metadata process and `hosts` real dev hosts; the rest of the fleet (N - 1 - hosts
// members) are registered as aliases of those hosts (extra member ids whose URL is a real host),
// so every member of the fleet answers GET /peer/shardmap with a real map of N members. Then one
// more member joins, and we report its base threads, its time to 'ready', its per-peer bootstrap
// times (fetch, process) from its /metrics, and its RSS per peer thread.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    fleet: { type: 'string', default: '12' },
    hosts: { type: 'string', default: '4' },
    shards: { type: 'string', default: '64' },
    bootstrap: { type: 'string', default: 'peers' },
  },
})
const N = Number(args.fleet)
const H = Math.min(Number(args.hosts), N - 1)
const SHARDS = Number(args.shards)
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const procs: ChildProcess[] = []

async function start(entry: string, env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(DIST, entry)], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LOG_LEVEL: 'info',
      ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  procs.push(proc)
  const lines = readline.createInterface({ input: proc.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`${entry} exited ${c}`)))
    lines.on('line', (l) => {
      try {
        const r = JSON.parse(l)
        if (r.msg === 'listening') resolve(r.port)
      } catch {}
    })
  })
  return { url: `http://127.0.0.1:${port}`, proc }
}

async function call(url: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`)
  return text.startsWith('{') ? JSON.parse(text) : text
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined as T)
    if (v !== undefined && ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'outage-lab-measure-'))
try {
  const md = await start('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir })
  await call(`${md.url}/backends/backend-a`, 'PUT', { url: 'http://127.0.0.1:9' })
  for (let left = SHARDS, i = 0; left > 0; i++, left -= 8) await call(`${md.url}/streams`, 'POST', { name: `stream-${i}`, shardCount: Math.min(8, left) })
  const env = {
    FLEET: 'measure',
    METADATA_URL: md.url,
    BOOTSTRAP: String(args.bootstrap),
    LEARN_DELAY_MS: '0',
    THREAD_LIMIT_ENFORCEMENT: 'process',
    THREAD_LIMIT: '100000',
  }
  const hosts: string[] = []
  for (let i = 1; i <= H; i++) hosts.push((await start('services/kinesis/frontend/shardmap/dev-host.js', { ...env, FRONTEND_ID: `fe-${i}` })).url)
  for (let i = H + 1; i <= N - 1; i++) await call(`${md.url}/fleets/measure/members/fe-${i}`, 'PUT', { url: hosts[i % H] })
  for (const h of hosts)
    await until(
      () => call(`${h}/health`),
      (s) => s.shard_map_state === 'ready' && s.peer_threads === N - 2,
    )
  console.error(`fleet of ${N - 1} up (${H} hosts, ${N - 1 - H} aliases), ${SHARDS} shards; joining fe-${N}`)

  const t0 = Date.now()
  const joiner = await start('services/kinesis/frontend/shardmap/dev-host.js', { ...env, FRONTEND_ID: `fe-${N}` })
  const ready = await until(
    () => call(`${joiner.url}/health`),
    (s) => s.shard_map_state === 'ready' && s.peer_threads === N - 1,
  )
  const readyMs = Date.now() - t0
  const metrics: string = await call(`${joiner.url}/metrics`)
  const sum = (phase: string, what: 'sum' | 'count') =>
    Number(new RegExp(`kinesis_frontend_peer_bootstrap_seconds_${what}\\{[^}]*phase="${phase}"[^}]*\\} ([0-9.e+-]+)`).exec(metrics)?.[1] ?? NaN)
  const doc = await (await fetch(`${hosts[0]}/peer/shardmap`)).text()
  // RSS per peer thread: the joiner against a lone member of another fleet (same code, no peers).
  const lone = await start('services/kinesis/frontend/shardmap/dev-host.js', { ...env, FLEET: 'alone', FRONTEND_ID: 'lone' })
  const loneHealth = await until(
    () => call(`${lone.url}/health`),
    (s) => s.shard_map_state === 'ready',
  )
  // V8's memory reducer hands freed heap pages back some seconds after the bootstrap burst.
  await new Promise((r) => setTimeout(r, 15_000))
  const settled = await call(`${joiner.url}/health`)
  const perThreadMb = (settled.rss_bytes - loneHealth.rss_bytes) / (N - 1) / 1e6
  console.log(
    JSON.stringify({
      fleet: N,
      shards: SHARDS,
      bootstrap: args.bootstrap,
      baseThreads: ready.base_threads,
      threadsReady: ready.threads,
      readyMs,
      peerMapBytes: Buffer.byteLength(doc),
      peerMapEntries: JSON.parse(doc.slice(0, doc.indexOf('\n'))).entries,
      fetchMsPerPeer: +((sum('fetch', 'sum') / sum('fetch', 'count')) * 1000).toFixed(1),
      processMsPerPeer: +((sum('process', 'sum') / sum('process', 'count')) * 1000).toFixed(1),
      rssLoneMb: +(loneHealth.rss_bytes / 1e6).toFixed(1),
      rssJoinerAtReadyMb: +(ready.rss_bytes / 1e6).toFixed(1),
      rssJoinerMb: +(settled.rss_bytes / 1e6).toFixed(1),
      rssPerPeerThreadMb: +perThreadMb.toFixed(2),
    }),
  )
} finally {
  for (const p of procs) p.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 1500))
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
