// A long game day (issue 16's soak): `outage-lab up` (the flagship's topology) under its steady
// workload, the customers program docker-compose.yml runs (harness/workload/container.ts), for
// --minutes; or, with --via run, `outage-lab run bench/soak.yaml`, the same topology and workload
// as an experiment that also records its timeline. Every --every seconds this process samples every
// service of the run: resident memory, what V8 holds (GET /admin/memory), open file descriptors and
// threads (each service's pids cgroup names it), and the run folder's disk use (service logs,
// back-end and other data, a run's timeline). The targets: every service's RSS grows less than 10%
// from the first sample after the warm-up to the last, descriptors stay flat, disk use is bounded.
// The live heap (after a forced full collection) is read at the base and after the last sample.
//   npx tsc -p . && node dist/bench/soak.js [--minutes 30] [--every 30] [--warmup 120] [--via up|run] [--no-live-heap] [--record]
import fs from 'node:fs'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { parseArgs } from 'node:util'
import { procStatus, residentParts, MiB, type ResidentParts } from './lib/procfs.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { processesOfHarness } from '../harness/platform/local/run-state.js'
import { PACKAGE_ROOT } from '../harness/platform/paths.js'
import { readEndpointsFile } from '../harness/control/endpoints-file.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    every: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '120' },
    out: { type: 'string', default: path.join(PACKAGE_ROOT, 'runs', 'soak') },
    // up: `outage-lab up` and the customers program (docker-compose.yml's customers), a game day as
    // users run one; run: `outage-lab run bench/soak.yaml`, which also records the run's timeline.
    via: { type: 'string', default: 'up' },
    record: { type: 'boolean', default: false },
    // A forced full collection shrinks the heap V8 then regrows over minutes: without it the RSS
    // series is the services' own, at the price of no live-heap figure.
    'live-heap': { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const MINUTES = Number(args.minutes)
const EVERY_S = Number(args.every)
const WARMUP_S = Number(args.warmup)
if (!(MINUTES > 0 && EVERY_S > 0 && WARMUP_S >= 0)) throw new Error('--minutes, --every and --warmup take positive numbers')
const VIA = args.via
if (VIA !== 'up' && VIA !== 'run') throw new Error(`--via takes up or run, not ${VIA}`)
const RSS_TARGET = 0.1
/** Descriptors are flat when their trend over the soak (least squares, every sample) adds fewer than this many: sockets come and go with the load, a leak climbs. */
const FD_TREND_LIMIT = 2

interface ServiceSample {
  rssBytes: number
  fds: number
  threads: number
  processes: number
  /** The live heap after a full collection (GET /admin/memory?gc=full), at the base and after the last sample only. */
  liveHeapBytes?: number
  /** What V8 holds, read without a collection (GET /admin/memory): committed heap, its new and old spaces, and buffers outside it. */
  heap?: { totalBytes: number; newSpaceBytes: number; oldSpaceBytes: number; externalBytes: number; peerThreadsBytes: number }
  /** Resident memory by the shape of its mappings (bench/lib/procfs.ts residentParts). */
  parts?: ResidentParts
}
interface Sample {
  atS: number
  services: Record<string, ServiceSample>
  harnessRssBytes: number
  disk: { logs: number; data: number; timeline: number }
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The service a process of the run belongs to: the last part of its pids cgroup (<runId>/<service>), else its entry file. */
function serviceOf(pid: number): string {
  const pids = /^\d+:pids:(.*)$/m.exec(read(`/proc/${pid}/cgroup`) ?? '')?.[1] ?? ''
  const parts = pids.split('/').filter(Boolean)
  if (parts.length >= 3 && parts[parts.length - 3] === 'outage-lab') return parts[parts.length - 1]
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0')[1]?.replace(/.*dist\//, '') || `pid ${pid}`
}

function bytesUnder(dir: string): number {
  let n = 0
  const walk = (d: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) n += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0
    }
  }
  walk(dir)
  return n
}

/** A lab service's own port and the run's admin token, from its environment (this bench runs as the run's user). */
function adminOf(pid: number): { port: string; token: string } | undefined {
  const env = Object.fromEntries((read(`/proc/${pid}/environ`) ?? '').split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  return env.PORT && env.OUTAGE_LAB_ADMIN_TOKEN ? { port: env.PORT, token: env.OUTAGE_LAB_ADMIN_TOKEN } : undefined
}

interface MemoryAnswer {
  heapUsedBytes: number
  heapTotalBytes: number
  externalBytes: number
  heapSpaces?: Record<string, { sizeBytes: number }>
  /** A front-end's peer threads: each an isolate with its own heap, outside heapTotalBytes. */
  peerThreads?: { heapTotalBytes?: number }[]
}

/** GET /admin/memory of every lab service (`?gc=full`: after a full collection), each answer handed to `use`. */
async function readMemory(s: Sample, pids: Map<number, string>, gc: boolean, use: (v: ServiceSample, m: MemoryAnswer) => void): Promise<void> {
  await Promise.all(
    [...pids].map(async ([pid, name]) => {
      const admin = adminOf(pid)
      if (!admin || !s.services[name]) return
      try {
        const res = await fetch(`http://127.0.0.1:${admin.port}/admin/memory${gc ? '?gc=full' : ''}`, {
          headers: { authorization: `Bearer ${admin.token}` },
          signal: AbortSignal.timeout(5_000),
        })
        if (res.ok) use(s.services[name], (await res.json()) as MemoryAnswer)
      } catch {
        // A service that does not answer has no figure in this sample.
      }
    }),
  )
}

/** The live heap, read after /proc (a full collection shrinks what RSS shows): at the base, and once more after the last sample. */
const liveHeaps = (s: Sample, pids: Map<number, string>) => readMemory(s, pids, true, (v, m) => (v.liveHeapBytes = (v.liveHeapBytes ?? 0) + m.heapUsedBytes))

/** Where each service's memory sits, every sample, without a collection. */
const heapShapes = (s: Sample, pids: Map<number, string>) =>
  readMemory(s, pids, false, (v, m) => {
    const h = (v.heap ??= { totalBytes: 0, newSpaceBytes: 0, oldSpaceBytes: 0, externalBytes: 0, peerThreadsBytes: 0 })
    h.totalBytes += m.heapTotalBytes
    h.newSpaceBytes += m.heapSpaces?.new_space?.sizeBytes ?? 0
    h.oldSpaceBytes += m.heapSpaces?.old_space?.sizeBytes ?? 0
    h.externalBytes += m.externalBytes
    h.peerThreadsBytes += (m.peerThreads ?? []).reduce((sum, p) => sum + (p.heapTotalBytes ?? 0), 0)
  })

function sample(harnessPid: number, startedMs: number, outDir: string, pids: Map<number, string>): Sample {
  const services: Record<string, ServiceSample> = {}
  pids.clear()
  for (const pid of processesOfHarness(harnessPid)) {
    const st = procStatus(pid)
    if (!st) continue
    let fds = 0
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`).length
    } catch {}
    const name = serviceOf(pid)
    pids.set(pid, name)
    const s = (services[name] ??= { rssBytes: 0, fds: 0, threads: 0, processes: 0 })
    s.rssBytes += st.rssBytes
    const parts = residentParts(pid)
    if (parts) {
      const into = (s.parts ??= { v8PagesBytes: 0, mallocArenasBytes: 0, otherAnonymousBytes: 0, fileBytes: 0 })
      for (const k of Object.keys(parts) as (keyof ResidentParts)[]) into[k] += parts[k]
    }
    s.fds += fds
    s.threads += st.threads
    s.processes++
  }
  return {
    atS: Math.round((Date.now() - startedMs) / 1000),
    services,
    harnessRssBytes: procStatus(harnessPid)?.rssBytes ?? 0,
    disk: {
      logs: bytesUnder(path.join(outDir, 'logs')),
      data: bytesUnder(path.join(outDir, 'data')),
      timeline: fs.statSync(path.join(outDir, 'timeline.jsonl'), { throwIfNoEntry: false })?.size ?? 0,
    },
  }
}

const m = machine()
console.log(`soak: ${describeMachine(m)}; ${MINUTES} min, a sample every ${EVERY_S} s, baseline after ${WARMUP_S} s`)
const outDir = path.resolve(args.out)
fs.rmSync(outDir, { recursive: true, force: true })
const cli = path.join(PACKAGE_ROOT, 'dist/harness/cli.js')
const endpointsFile = path.join(outDir, 'endpoints.json')
const child = spawn(
  process.execPath,
  VIA === 'run'
    ? [cli, 'run', path.join(PACKAGE_ROOT, 'bench/soak.yaml'), '--set', `duration=${MINUTES}m`, '--out', outDir]
    : [cli, 'up', '--run-dir', outDir, '--endpoints-file', endpointsFile],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } },
)
let stderr = ''
child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
let customers: ChildProcess | undefined
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    customers?.kill('SIGTERM')
    child.kill(sig)
  })

/** `up`'s steady workload: the customers program against the services in the endpoints file, once `up` has written it. */
async function startCustomers(): Promise<ChildProcess> {
  const deadline = Date.now() + 180_000
  while (!fs.existsSync(endpointsFile)) {
    if (Date.now() > deadline) throw new Error(`outage-lab up wrote no ${endpointsFile} in 180 s: ${stderr.slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
  const e = readEndpointsFile(endpointsFile)
  const log = fs.openSync(path.join(outDir, 'customers.log'), 'a')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...(e.kinesisEndpoint ? { KINESIS_URL: e.kinesisEndpoint } : {}),
    OUTAGE_LAB_SEED: '1',
    OUTAGE_LAB_CREDENTIALS: `${e.credentials.accessKeyId}:${e.credentials.secretAccessKey}`,
  }
  for (const [k, name] of Object.entries({
    COGNITO_URL: 'cognito',
    CLOUDWATCH_URL: 'cloudwatch',
    EVENTBRIDGE_URL: 'eventbridge',
    LAMBDA_URL: 'lambda',
    AUTOSCALER_URL: 'autoscaler',
    STATUS_PAGE_URL: 'status-page',
  }))
    if (e.services[name]) env[k] = e.services[name]
  return spawn(process.execPath, [path.join(PACKAGE_ROOT, 'dist/harness/workload/container.js')], { stdio: ['ignore', log, log], env })
}
if (VIA === 'up') customers = await startCustomers()

const startedMs = Date.now()
const samples: Sample[] = []
const pids = new Map<number, string>()
let done = false
void exited.then(() => (done = true))
while (!done) {
  await Promise.race([new Promise((r) => setTimeout(r, EVERY_S * 1000)), exited])
  if (done) break
  const s = sample(child.pid!, startedMs, outDir, pids)
  if (Object.keys(s.services).length) {
    await heapShapes(s, pids)
    const isBase = !samples.some((b) => b.atS >= WARMUP_S) && s.atS >= WARMUP_S
    if (isBase && args['live-heap']) await liveHeaps(s, pids)
    // The last sample: its full collection comes after every figure of the soak is read.
    const isLast = s.atS >= MINUTES * 60
    if (isLast && args['live-heap']) await liveHeaps(s, pids)
    samples.push(s)
    const heapMiB = (f: (h: NonNullable<ServiceSample['heap']>) => number) =>
      (Object.values(s.services).reduce((sum, v) => sum + (v.heap ? f(v.heap) : 0), 0) / MiB).toFixed(0)
    console.log(
      `  ${s.atS}s: ${Object.keys(s.services).length} services (RSS ${(Object.values(s.services).reduce((sum, v) => sum + v.rssBytes, 0) / MiB).toFixed(0)} MiB, V8 heaps ${heapMiB((h) => h.totalBytes)} MiB of which new space ${heapMiB((h) => h.newSpaceBytes)}, external ${heapMiB((h) => h.externalBytes)}, peer threads' heaps ${heapMiB((h) => h.peerThreadsBytes)}), harness RSS ${(s.harnessRssBytes / MiB).toFixed(0)} MiB, logs ${(s.disk.logs / MiB).toFixed(1)} MiB, data ${(s.disk.data / MiB).toFixed(1)} MiB`,
    )
    if (isLast) break
  }
}
// up runs until told: the customers stop first, then up tears the system down. A run ends by itself.
customers?.kill('SIGTERM')
if (VIA === 'up' && !done) child.kill('SIGINT')
const code = await exited
// up answers the soak's SIGINT with 130 (128 + SIGINT): only another end is worth its output.
if (code !== (VIA === 'up' ? 130 : 0)) console.log(`${VIA} exited ${code}: ${stderr.slice(-3000)}`)

// The baseline: the first sample after the warm-up that saw the whole system.
const base = samples.find((s) => s.atS >= WARMUP_S) ?? samples[0]
const last = samples[samples.length - 1]
if (!base || !last || base === last) throw new Error(`too few samples (${samples.length}) to compare: give --minutes more than --warmup`)
const names = Object.keys(base.services).sort()
const pct = (a: number, b: number) => (a ? ((b - a) / a) * 100 : NaN)
// The second half: V8 sizes each heap to its load over the first minutes; a leak keeps growing after.
const middle = samples.find((s) => s.atS >= (base.atS + last.atS) / 2) ?? base
// And from the first sample, warm-up included: what a base after the warm-up leaves out.
const first = samples[0] !== base ? samples[0] : undefined
const heapEnd = [...samples].reverse().find((s) => s !== base && Object.values(s.services).some((v) => v.liveHeapBytes !== undefined))
const mib = (b: number | undefined) => (b === undefined ? '?' : (b / MiB).toFixed(1))
const soakSamples = samples.filter((s) => s.atS >= base.atS)
/** A service's descriptors over the soak: their range, and what their least-squares trend adds from the base to the last sample. */
function fdTrend(n: string): { min: number; max: number; added: number } {
  const pts = soakSamples.filter((s) => s.services[n]).map((s) => [s.atS, s.services[n].fds] as const)
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0)
  const slope = sxx ? pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : 0
  return { min: Math.min(...pts.map(([, y]) => y)), max: Math.max(...pts.map(([, y]) => y)), added: slope * (last.atS - base.atS) }
}
const rows = names.map((n) => {
  const a = base.services[n]
  const b = last.services[n]
  if (!b) return [n, (a.rssBytes / MiB).toFixed(1), 'gone', '', ...(first ? [''] : []), '', '', '', '', `${a.fds} -> gone`, '', '']
  const mid = middle.services[n]
  const early = first?.services[n]
  const h = heapEnd?.services[n]?.liveHeapBytes
  return [
    n,
    (a.rssBytes / MiB).toFixed(1),
    (b.rssBytes / MiB).toFixed(1),
    `${pct(a.rssBytes, b.rssBytes).toFixed(1)}%`,
    ...(first ? [early ? `${(early.rssBytes / MiB).toFixed(1)}, ${pct(early.rssBytes, b.rssBytes).toFixed(1)}%` : '?'] : []),
    mid ? `${pct(mid.rssBytes, b.rssBytes).toFixed(1)}%` : '?',
    a.parts && b.parts
      ? `${mib(a.parts.v8PagesBytes)} -> ${mib(b.parts.v8PagesBytes)}, ${mib(a.parts.mallocArenasBytes)} -> ${mib(b.parts.mallocArenasBytes)}`
      : '?',
    a.heap?.peerThreadsBytes || b.heap?.peerThreadsBytes ? `${mib(a.heap?.peerThreadsBytes)} -> ${mib(b.heap?.peerThreadsBytes)}` : '',
    `${mib(a.liveHeapBytes)} -> ${mib(h)}${a.liveHeapBytes && h ? ` (${pct(a.liveHeapBytes, h) >= 0 ? '+' : ''}${pct(a.liveHeapBytes, h).toFixed(0)}%)` : ''}`,
    `${a.fds} -> ${b.fds}`,
    (({ min, max, added }) => `${min}-${max}, ${added >= 0 ? '+' : ''}${added.toFixed(1)}`)(fdTrend(n)),
    `${a.threads} -> ${b.threads}`,
  ]
})
const over = names.filter((n) => last.services[n] && pct(base.services[n].rssBytes, last.services[n].rssBytes) >= RSS_TARGET * 100)
const overFromFirst = first
  ? names.filter((n) => last.services[n] && first.services[n] && pct(first.services[n].rssBytes, last.services[n].rssBytes) >= RSS_TARGET * 100)
  : []
const fdGrowth = names.filter((n) => last.services[n] && fdTrend(n).added >= FD_TREND_LIMIT)
const minutes = (last.atS - base.atS) / 60
const rate = (k: keyof Sample['disk']) => ((last.disk[k] - base.disk[k]) / MiB / minutes).toFixed(2)
const body = [
  `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}.`,
  '',
  `\`node dist/bench/soak.js --minutes ${MINUTES} --every ${EVERY_S} --warmup ${WARMUP_S}${VIA === 'run' ? ' --via run' : ''}\`: ${VIA === 'run' ? "`outage-lab run bench/soak.yaml` (the flagship's topology and steady workload, nothing injected)" : "`outage-lab up` (the flagship's topology) and its steady workload, the customers program of docker-compose.yml (harness/workload/container.ts) on this machine"} for ${MINUTES} min; ${VIA} exited ${code}${VIA === 'up' ? ' when the soak sent it SIGINT' : ''}. Compared: the sample at ${base.atS} s with the last, at ${last.atS} s (${samples.length} samples).`,
  '',
  table(
    [
      'service',
      'RSS at base (MiB)',
      'RSS at end (MiB)',
      'growth',
      ...(first ? [`RSS at ${first.atS} s (MiB), growth since`] : []),
      `growth since ${middle.atS} s`,
      'V8 pages, malloc arenas (MiB)',
      "peer threads' heaps (MiB)",
      `live heap after a full GC (MiB), ${base.atS} s -> ${heapEnd?.atS ?? '?'} s`,
      'open fds',
      'fds: range, trend over the soak',
      'threads',
    ],
    rows,
    ['l', 'r', 'r', 'r', ...(first ? ['r' as const] : []), 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
  '',
  `**RSS growth under ${RSS_TARGET * 100}%: ${names.length - over.length} of ${names.length} services${over.length ? ` (over: ${over.join(', ')})` : ''}${first ? ` (from ${first.atS} s, warm-up included: ${names.length - overFromFirst.length} of ${names.length}${overFromFirst.length ? `, over: ${overFromFirst.join(', ')}` : ''})` : ''}; descriptors flat (their trend adds fewer than ${FD_TREND_LIMIT}): ${names.length - fdGrowth.length} of ${names.length}${fdGrowth.length ? ` (grew: ${fdGrowth.join(', ')})` : ''}.**`,
  '',
  `Disk, from the base to the end: service logs ${(base.disk.logs / MiB).toFixed(1)} -> ${(last.disk.logs / MiB).toFixed(1)} MiB (${rate('logs')} MiB/min), data (back-end shard logs, local stores, checkpoints) ${(base.disk.data / MiB).toFixed(1)} -> ${(last.disk.data / MiB).toFixed(1)} MiB (${rate('data')} MiB/min), ${VIA === 'run' ? `the run's timeline ${(base.disk.timeline / MiB).toFixed(1)} -> ${(last.disk.timeline / MiB).toFixed(1)} MiB (${rate('timeline')} MiB/min)` : 'no timeline (up records none)'}. The harness itself${VIA === 'run' ? " (it keeps the run's timeline in memory for the analysis)" : ' (`up`: the platform and the control API)'}: ${(base.harnessRssBytes / MiB).toFixed(0)} -> ${(last.harnessRssBytes / MiB).toFixed(0)} MiB.`,
].join('\n')
console.log('\n' + body)
fs.writeFileSync(path.join(outDir, 'soak.json'), JSON.stringify({ machine: m, minutes: MINUTES, everyS: EVERY_S, warmupS: WARMUP_S, code, samples }, null, 1))
if (args.record) {
  recordSection('soak', body)
  console.log('recorded in bench/RESULTS.md')
}
