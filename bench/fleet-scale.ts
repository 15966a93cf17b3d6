// Fleet scale: the largest front-end fleet this machine holds with every shard-map ready and every
// peer thread alive (N - 1 real OS threads per front-end, N(N - 1) in the fleet), and what each
// front-end and each peer thread costs in resident memory.
//   npx tsc -p . && node dist/bench/fleet-scale.js [--record] [--steps 10,20,30,40] [--beyond 5]
//     [--max 60] [--bootstrap peers|metadata] [--thread-limit 4096] [--reserve-gib 3]
// The fleet boots at the first step (localPlatform.start(), as `outage-lab up`), then grows through
// scaleFleet() to each next step; past the last step it keeps growing by --beyond while it holds,
// up to --max. A step counts only when every member reports shard_map_state 'ready' and N - 1 live,
// connected peer threads. Growth stops at the first step that does not converge in time, or when
// the next step's predicted memory would leave less than --reserve-gib available (the machine is
// shared: the benchmark must not push others' work into the OOM killer). The thread limit is set
// high so it is not what stops the fleet.
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { startOutageLab } from './lib/outage-lab.js'
import { waitConverged, type MemberState } from './lib/fleet.js'
import { Cleanup } from './lib/cleanup.js'
import { machine, describeMachine, loadNow, memAvailableBytes } from './lib/machine.js'
import { table, int } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { cpuSeconds, median, MiB } from './lib/procfs.js'
import type { StartedLocalTopology } from '../harness/platform/local/started.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    steps: { type: 'string', default: '10,20,30,40' },
    beyond: { type: 'string', default: '5' },
    max: { type: 'string', default: '60' },
    bootstrap: { type: 'string', default: 'peers' },
    'thread-limit': { type: 'string', default: '4096' },
    'reserve-gib': { type: 'string', default: '3' },
    'step-timeout-s': { type: 'string', default: '180' },
    'max-minutes': { type: 'string', default: '25' },
  },
})
const STEPS = args.steps.split(',').map(Number)
const BEYOND = Number(args.beyond)
const MAX = Number(args.max)
const BOOTSTRAP = args.bootstrap as 'peers' | 'metadata'
const THREAD_LIMIT = Number(args['thread-limit'])
const RESERVE = Number(args['reserve-gib']) * 2 ** 30
const STEP_TIMEOUT_MS = Number(args['step-timeout-s']) * 1000
const DEADLINE = Date.now() + Number(args['max-minutes']) * 60_000
if (!STEPS.every((n, i) => Number.isInteger(n) && n >= 2 && (i === 0 || n > STEPS[i - 1])))
  throw new Error(`--steps: expected increasing integers >= 2, got ${args.steps}`)
if (BOOTSTRAP !== 'peers' && BOOTSTRAP !== 'metadata') throw new Error(`--bootstrap: expected peers or metadata, got ${args.bootstrap}`)

interface Step {
  n: number
  ok: boolean
  /** scaleFleet (or the first boot) until every new member answered /health. */
  startMs: number
  /** Then until every shard-map was ready with n - 1 live peer threads. */
  convergeMs: number
  members: MemberState[]
  peerThreads: number
  rssMeanMiB: number
  rssMinMiB: number
  rssMaxMiB: number
  fleetRssGiB: number
  threadsHealth: number
  threadsOs: number
  healthyAtEndpoint?: number
  /** Cores the whole fleet burns at rest (heartbeats of n(n-1) peer threads, health checks). */
  fleetCoresAtRest: number
  memAvailableGiB: number
  load: string
  why?: string
}

async function endpointHealthy(topo: StartedLocalTopology): Promise<number | undefined> {
  try {
    const res = await request(`${topo.endpoints().kinesis}/health`, { headersTimeout: 5_000, bodyTimeout: 5_000 })
    const body = (await res.body.json()) as { healthyMembers?: number }
    return body.healthyMembers
  } catch {
    return undefined
  }
}

async function restingCores(pids: number[], seconds: number): Promise<number> {
  const c0 = pids.reduce((s, p) => s + cpuSeconds(p), 0)
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  return (pids.reduce((s, p) => s + cpuSeconds(p), 0) - c0) / ((performance.now() - t0) / 1000)
}

/** Least-squares fit of y = a + b x. */
function fit(points: [number, number][]): { a: number; b: number } | undefined {
  if (points.length < 2) return undefined
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  if (sxx === 0) return undefined
  const b = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx
  return { a: my - b * mx, b }
}

const cleanup = new Cleanup()
const m = machine()
const began = performance.now()
console.log(`fleet-scale: ${describeMachine(m)}`)
const steps: Step[] = []
let stoppedBecause = ''
let enforcement: string

async function measureStep(topo: StartedLocalTopology, n: number, startMs: number, notReady: string[]): Promise<Step> {
  // Members scaleFleet gave up on are left running: they may still converge within the step.
  const conv = await waitConverged(topo, n, {
    timeoutMs: Math.min(STEP_TIMEOUT_MS, Math.max(1_000, DEADLINE - Date.now())),
    signal: cleanup.signal,
    intervalMs: 500,
  })
  const members = conv?.members ?? []
  const pids = members.flatMap((x) => (x.pid !== undefined ? [x.pid] : []))
  const cores = await restingCores(pids, 5)
  // Memory after the rest period: the peer threads' heaps have settled.
  const after = conv.ok ? await waitConverged(topo, n, { timeoutMs: 30_000, signal: cleanup.signal, intervalMs: 500 }) : conv
  const ms_ = after.members
  const mem = ms_.map((x) => x.rssBytes ?? NaN).filter(Number.isFinite)
  const notes = [
    ...(notReady.length ? [`scaleFleet reported not ready: ${notReady.join('; ')}`] : []),
    ...(!conv.ok ? [`not converged in ${Math.round(conv.ms / 1000)} s: ${summarize(conv.reasons)}`] : []),
    ...(conv.ok && !after.ok ? [`lost convergence at rest: ${summarize(after.reasons)}`] : []),
  ]
  return {
    n,
    ok: conv.ok && after.ok,
    startMs,
    convergeMs: conv.ok ? conv.ms : NaN,
    members: ms_,
    peerThreads: ms_.reduce((s, x) => s + (x.health?.peer_threads ?? 0), 0),
    rssMeanMiB: mem.reduce((s, x) => s + x, 0) / mem.length / MiB,
    rssMinMiB: Math.min(...mem) / MiB,
    rssMaxMiB: Math.max(...mem) / MiB,
    fleetRssGiB: mem.reduce((s, x) => s + x, 0) / 2 ** 30,
    threadsHealth: median(ms_.map((x) => x.health?.threads ?? NaN).filter(Number.isFinite)),
    threadsOs: median(ms_.map((x) => x.osThreads ?? NaN).filter(Number.isFinite)),
    healthyAtEndpoint: await endpointHealthy(topo),
    fleetCoresAtRest: cores,
    memAvailableGiB: memAvailableBytes() / 2 ** 30,
    load: loadNow(),
    why: notes.length ? notes.join('; ') : undefined,
  }
}

/** "12 members: shard-map building; 3 members: 38 peer threads of 39" from per-member reasons. */
function summarize(reasons: string[]): string {
  const counts = new Map<string, number>()
  for (const r of reasons) {
    const why = r.replace(/^[^:]+: /, '')
    counts.set(why, (counts.get(why) ?? 0) + 1)
  }
  return [...counts].map(([why, c]) => `${c} member${c === 1 ? '' : 's'}: ${why}`).join('; ')
}

function report(s: Step) {
  process.stderr.write(
    `  N=${s.n}: ${s.ok ? 'converged' : 'NOT converged'} start ${(s.startMs / 1000).toFixed(1)} s, converge ${(s.convergeMs / 1000).toFixed(1)} s, ` +
      `peer threads ${s.peerThreads}, RSS/front-end ${s.rssMeanMiB.toFixed(0)} MiB, fleet ${s.fleetRssGiB.toFixed(2)} GiB, ` +
      `available ${s.memAvailableGiB.toFixed(1)} GiB, cores at rest ${s.fleetCoresAtRest.toFixed(2)}, load ${s.load}${s.why ? ` (${s.why})` : ''}\n`,
  )
}

try {
  const first = STEPS[0]
  // The harness sizes a member's readiness timeout from the fleet it was created with (30 s + 2 s
  // per member): 50 s for 10, too short for a member joining 40 busy peers. Every step gets the
  // step's timeout instead, so convergence, not that default, decides whether a size holds.
  const boot = await startOutageLab(
    { frontends: first, threadLimit: THREAD_LIMIT, bootstrap: BOOTSTRAP, learnDelayMs: 0, frontendReadinessTimeoutMs: STEP_TIMEOUT_MS },
    cleanup,
  )
  const topo = boot.topo
  enforcement = topo.threadLimitEnforcement
  let step = await measureStep(topo, first, boot.startMs, [])
  steps.push(step)
  report(step)
  const plan = [...STEPS.slice(1)]
  while (step.ok) {
    let next = plan.shift()
    if (next === undefined) {
      if (BEYOND <= 0 || step.n + BEYOND > MAX) {
        stoppedBecause = `the plan ended at ${step.n} (steps ${args.steps}, then +${BEYOND} up to --max ${MAX})`
        break
      }
      next = step.n + BEYOND
    }
    if (Date.now() > DEADLINE) {
      stoppedBecause = `the time budget (--max-minutes ${args['max-minutes']}) ran out`
      break
    }
    // Predict the next step's memory from what the fleet costs now (fit over the steps so far).
    const f = fit(steps.filter((s) => s.ok).map((s) => [s.n - 1, s.rssMeanMiB * MiB]))
    const perThread = f?.b ?? 10 * MiB
    const base = f?.a ?? 60 * MiB
    const needed = (next * (next - 1) - step.n * (step.n - 1)) * perThread + (next - step.n) * base
    const available = memAvailableBytes()
    if (available - needed < RESERVE) {
      stoppedBecause =
        `memory guard: ${next} front-ends would need about ${(needed / 2 ** 30).toFixed(1)} GiB more, ` +
        `${(available / 2 ** 30).toFixed(1)} GiB is available and ${args['reserve-gib']} GiB is kept for the rest of the machine`
      break
    }
    const t0 = performance.now()
    const scaled = await topo.scaleFleet('main', next)
    step = await measureStep(
      topo,
      next,
      performance.now() - t0,
      scaled.notReady.map((x) => `${x.name}: ${x.reason}`),
    )
    steps.push(step)
    report(step)
    if (!step.ok) stoppedBecause = `${next} front-ends did not hold: ${step.why}`
    if (cleanup.signal.aborted) throw new Error('interrupted')
  }

  const held = steps.filter((s) => s.ok)
  const largest = held.at(-1)
  const f = fit(held.map((s) => [s.n - 1, s.rssMeanMiB * MiB]))
  const mem = (s: Step) => (Number.isFinite(s.rssMeanMiB) ? `${s.rssMeanMiB.toFixed(0)} (${s.rssMinMiB.toFixed(0)}-${s.rssMaxMiB.toFixed(0)})` : '-')
  const rows = steps.map((s) => [
    s.n,
    s.ok ? 'yes' : 'no',
    int(s.n * (s.n - 1)),
    int(s.peerThreads),
    `${Number.isFinite(s.threadsHealth) ? s.threadsHealth : '-'} / ${Number.isFinite(s.threadsOs) ? s.threadsOs : '-'}`,
    mem(s),
    s.n > 1 && f && Number.isFinite(s.rssMeanMiB) ? ((s.rssMeanMiB * MiB - f.a) / (s.n - 1) / MiB).toFixed(1) : '-',
    s.fleetRssGiB.toFixed(2),
    (s.startMs / 1000).toFixed(1),
    Number.isFinite(s.convergeMs) ? (s.convergeMs / 1000).toFixed(1) : '-',
    s.healthyAtEndpoint ?? '-',
    Number.isFinite(s.fleetCoresAtRest) ? s.fleetCoresAtRest.toFixed(2) : '-',
    s.memAvailableGiB.toFixed(1),
    s.load,
  ])
  const tableText = table(
    [
      'front-ends',
      'held',
      'peer threads expected',
      'peer threads alive',
      'threads per front-end (/health / kernel, median)',
      'RSS per front-end MiB mean (min-max)',
      'RSS per peer thread MiB',
      'fleet RSS GiB',
      'start s',
      'converge s',
      'healthy at endpoint',
      'fleet cores at rest',
      'MemAvailable GiB',
      'load average',
    ],
    rows,
  )
  const totalS = (performance.now() - began) / 1000
  const met = (largest?.n ?? 0) >= 40
  const body = [
    '## fleet-scale',
    '',
    `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}. Wall time ${totalS.toFixed(0)} s.`,
    '',
    `Fleet booted at ${STEPS[0]} front-ends with \`localPlatform.start()\` (as \`outage-lab up\`), then grown with \`scaleFleet()\` ` +
      `(${steps.map((s) => s.n).join(' -> ')}); bootstrap from **${BOOTSTRAP}**, learn delay 0, thread limit ${THREAD_LIMIT} per front-end ` +
      `(enforcement: ${enforcement}), 2 back-ends, one endpoint; a new member's readiness timeout is the step timeout (${STEP_TIMEOUT_MS / 1000} s; the harness default, 30 s + 2 s per member of the *initial* fleet, would be 50 s). ` +
      `A size *held* when, within ${STEP_TIMEOUT_MS / 1000} s, every front-end reported shard_map_state \`ready\` ` +
      'with N-1 live, connected peer threads (/health `peer_threads`, `connected_peers`), and again after 5 s at rest. ' +
      "RSS is VmRSS from /proc/<pid>/status; threads are /health `threads` and the kernel's `Threads:`. " +
      '"RSS per peer thread" is (RSS per front-end - fitted base) / (N-1), with the base and slope from a least-squares fit of mean RSS per front-end against N-1 over the sizes that held' +
      (f ? `: base ${(f.a / MiB).toFixed(1)} MiB, slope **${(f.b / MiB).toFixed(2)} MiB per peer thread**.` : '.') +
      ' "start" is the boot (first row) or scaleFleet() until the new members answered /health; "converge" is from then until every shard-map was ready with all peer threads; "fleet cores at rest" is the CPU the whole fleet burned over 5 s without client load.',
    '',
    tableText,
    '',
    `**Largest fleet held: ${largest ? `${largest.n} front-ends (${int(largest.n * (largest.n - 1))} peer threads)` : 'none'}.** ` +
      `Target 40 front-ends (1,560 peer threads): **${met ? 'met' : 'not met'}**. Growth stopped because ${stoppedBecause || 'of an error'}.`,
  ].join('\n')
  console.log(`\n${body}\n`)
  if (args.record) {
    recordSection('fleet-scale', body)
    console.log('recorded in bench/RESULTS.md')
  }
} catch (err) {
  cleanup.failed = true
  process.exitCode = 1
  console.error(`fleet-scale failed: ${(err as Error).stack ?? err}`)
  for (const s of steps) console.error(`  step ${s.n}: ${s.ok ? 'held' : s.why}`)
} finally {
  await cleanup.run()
}
