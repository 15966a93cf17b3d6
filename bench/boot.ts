// Boot time: from the start of localPlatform.start() (what `outage-lab up` runs) until every service
// is healthy, for a fleet of 12 front-ends; each repetition boots a fresh topology and stops it.
//   npx tsc -p . && node dist/bench/boot.js [--record] [--frontends 12] [--reps 3] [--bootstrap peers]
// Three moments per boot, all from the start of start():
//   started    start() resolved: every process answered /health 200 in dependency order and the
//              endpoint can route (one member admitted) — where `outage-lab up` says ready;
//   converged  every front-end's shard-map is 'ready' with N-1 live, connected peer threads (it
//              can serve the data plane); watched from the first 'service-started' event on, so it
//              is not rounded up to start();
//   admitted   the endpoint has admitted all N members (its health checks need HEALTHY_THRESHOLD
//              consecutive passes, 1 s apart by default).
// "All services healthy" is the later of started and converged; the target is judged on it.
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { startOutageLab } from './lib/outage-lab.js'
import { shortfall, type MemberState } from './lib/fleet.js'
import { Cleanup } from './lib/cleanup.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { median, cpuSeconds } from './lib/procfs.js'
import type { TopologyEvent } from '../harness/platform/started.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    frontends: { type: 'string', default: '12' },
    reps: { type: 'string', default: '3' },
    bootstrap: { type: 'string', default: 'peers' },
    'thread-limit': { type: 'string', default: '4096' },
    'timeout-s': { type: 'string', default: '120' },
  },
})
const N = Number(args.frontends)
const REPS = Number(args.reps)
const BOOTSTRAP = args.bootstrap as 'peers' | 'metadata'
const THREAD_LIMIT = Number(args['thread-limit'])
const TIMEOUT_MS = Number(args['timeout-s']) * 1000
const TARGET_S = 5
if (BOOTSTRAP !== 'peers' && BOOTSTRAP !== 'metadata') throw new Error(`--bootstrap: expected peers or metadata, got ${args.bootstrap}`)

async function getJson<T>(url: string, timeoutMs = 2_000): Promise<T | undefined> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.body.text()
    return res.statusCode === 200 ? (JSON.parse(text) as T) : undefined
  } catch {
    return undefined
  }
}

interface Boot {
  startedMs: number
  convergedMs: number
  admittedMs: number
  /** CPU seconds every process of the topology had used when the shard-maps were ready. */
  cpuSeconds: number
  load: string
}

/** Watches the front-ends as they appear, until all N hold a ready shard-map with N-1 peers. */
function watchConvergence(t0: number, signal: AbortSignal) {
  const urls = new Map<string, string>()
  const pids = new Set<number>()
  let convergedMs = NaN
  let cpuAtConverged = NaN
  const onEvent = (e: TopologyEvent) => {
    const d = e.detail as { name?: string; url?: string; pid?: number }
    if (e.kind === 'service-started' && d.pid !== undefined) pids.add(d.pid)
    if (e.kind === 'service-started' && d.name?.startsWith('kinesis-frontend-') && d.url) urls.set(d.name, d.url)
  }
  const done = (async () => {
    while (!signal.aborted && performance.now() - t0 < TIMEOUT_MS) {
      if (urls.size === N) {
        const states: MemberState[] = await Promise.all(
          [...urls].map(async ([name, url]) => ({ name, health: await getJson<MemberState['health']>(`${url}/health`) })),
        )
        if (states.every((s) => shortfall(s, N) === undefined)) {
          convergedMs = performance.now() - t0
          cpuAtConverged = [...pids].reduce((sum, pid) => sum + cpuSeconds(pid), 0)
          return
        }
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  return { onEvent, done, convergedMs: () => convergedMs, cpuSeconds: () => cpuAtConverged }
}

const cleanup = new Cleanup()
const m = machine()
const began = performance.now()
console.log(`boot: ${describeMachine(m)}`)
const boots: Boot[] = []
let enforcement = ''

try {
  for (let rep = 1; rep <= REPS; rep++) {
    const watching = new AbortController()
    const t0 = performance.now()
    const watch = watchConvergence(t0, watching.signal)
    const { topo, startMs } = await startOutageLab({ frontends: N, threadLimit: THREAD_LIMIT, bootstrap: BOOTSTRAP, learnDelayMs: 0 }, cleanup, {
      onEvent: watch.onEvent,
    })
    enforcement = topo.threadLimitEnforcement
    // start() is timed inside startOutageLab around localPlatform.start() alone; t0 here is a
    // moment earlier (the run directory is made first), so the other two are measured from t0
    // minus that difference.
    const offset = performance.now() - t0 - startMs
    let admittedMs = NaN
    while (performance.now() - t0 < TIMEOUT_MS && !cleanup.signal.aborted) {
      const h = await getJson<{ healthyMembers?: number }>(`${topo.endpoints().kinesis}/health`)
      if (h?.healthyMembers === N) {
        admittedMs = performance.now() - t0 - offset
        break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    await watch.done
    watching.abort()
    const boot = { startedMs: startMs, convergedMs: watch.convergedMs() - offset, admittedMs, cpuSeconds: watch.cpuSeconds(), load: loadNow() }
    boots.push(boot)
    process.stderr.write(
      `  boot ${rep}: started ${(boot.startedMs / 1000).toFixed(2)} s, converged ${(boot.convergedMs / 1000).toFixed(2)} s, admitted ${(boot.admittedMs / 1000).toFixed(2)} s, CPU ${boot.cpuSeconds.toFixed(1)} s (load ${boot.load})\n`,
    )
    await cleanup.stopOne('outage-lab topology')
    if (cleanup.signal.aborted) throw new Error('interrupted')
  }

  const s = (x: number) => (Number.isFinite(x) ? (x / 1000).toFixed(2) : 'timed out')
  const healthy = (b: Boot) => Math.max(b.startedMs, b.convergedMs)
  const cores = m.cores
  const cpu = (b: Boot) => (Number.isFinite(b.cpuSeconds) ? `${b.cpuSeconds.toFixed(1)} (${(b.cpuSeconds / cores).toFixed(1)})` : '-')
  const rows: (string | number)[][] = boots.map((b, i) => [i + 1, s(b.startedMs), s(b.convergedMs), s(healthy(b)), s(b.admittedMs), cpu(b), b.load])
  const med = (f: (b: Boot) => number) => median(boots.map(f))
  rows.push([
    '**median**',
    s(med((b) => b.startedMs)),
    s(med((b) => b.convergedMs)),
    `**${s(med(healthy))}**`,
    s(med((b) => b.admittedMs)),
    cpu({ cpuSeconds: med((b) => b.cpuSeconds) } as Boot),
    '',
  ])
  const tableText = table(
    [
      'boot',
      'start() resolved s',
      'all shard-maps ready s',
      'all services healthy s',
      'endpoint admitted all s',
      `topology CPU s until shard-maps ready (/ ${m.cores} cores)`,
      'load average after',
    ],
    rows,
  )
  const medianHealthy = med(healthy)
  const totalS = (performance.now() - began) / 1000
  const body = [
    '## boot',
    '',
    `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}. Wall time ${totalS.toFixed(0)} s.`,
    '',
    `Each boot: a fresh \`localPlatform.start()\` of \`kinesisTopology\` (what \`outage-lab up\` runs) with metadata, 2 back-ends, ${N} front-ends ` +
      `(thread limit ${THREAD_LIMIT}, enforcement ${enforcement}, bootstrap from **${BOOTSTRAP}**, learn delay 0) and the endpoint, then a full stop. ` +
      'Times from the start of start(): *start() resolved* = every process answered /health 200 in dependency order and the endpoint admitted a member ' +
      '(where `outage-lab up` reports ready); *all shard-maps ready* = every front-end reports shard_map_state `ready` with ' +
      `${N - 1} live, connected peer threads (polled every 50 ms from the first front-end's start); *all services healthy* = the later of the two; ` +
      '*endpoint admitted all* = the endpoint counts all members healthy (2 consecutive passing checks, 1 s apart). ' +
      `*Topology CPU* = user + system CPU seconds of every process of the topology when the shard-maps were ready; divided by the ${m.cores} cores it is the wall time the boot needs even on an otherwise idle machine with perfect parallelism.`,
    '',
    tableText,
    '',
    `**Target: all services healthy in under ${TARGET_S} s with ${N} front-ends: ${medianHealthy < TARGET_S * 1000 ? 'met' : 'not met'}** (median ${s(medianHealthy)} s of ${boots.length} boots).`,
  ].join('\n')
  console.log(`\n${body}\n`)
  if (args.record) {
    recordSection('boot', body)
    console.log('recorded in bench/RESULTS.md')
  }
} catch (err) {
  cleanup.failed = true
  process.exitCode = 1
  console.error(`boot failed: ${(err as Error).stack ?? err}`)
} finally {
  await cleanup.run()
}
