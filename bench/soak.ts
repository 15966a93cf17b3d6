// A long game day (issue 16's soak): `outage-lab run bench/soak.yaml` (the flagship's topology and
// steady workload, nothing injected) for --minutes, while this process samples every process of the
// run every --every seconds: resident memory, open file descriptors and threads, by service (each
// service's pids cgroup names it), and the run folder's disk use (service logs, back-end and other
// data, the harness's timeline). The targets: every service's RSS grows less than 10% from the
// first sample after the warm-up to the last, descriptors stay flat, disk use is bounded.
//   npx tsc -p . && node dist/bench/soak.js [--minutes 30] [--every 30] [--warmup 120] [--record]
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import { procStatus, MiB } from './lib/procfs.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { processesOfHarness } from '../harness/platform/local/run-state.js'
import { PACKAGE_ROOT } from '../harness/platform/paths.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    every: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '120' },
    out: { type: 'string', default: path.join(PACKAGE_ROOT, 'runs', 'soak') },
    record: { type: 'boolean', default: false },
  },
})
const MINUTES = Number(args.minutes)
const EVERY_S = Number(args.every)
const WARMUP_S = Number(args.warmup)
if (!(MINUTES > 0 && EVERY_S > 0 && WARMUP_S >= 0)) throw new Error('--minutes, --every and --warmup take positive numbers')
const RSS_TARGET = 0.1

interface ServiceSample {
  rssBytes: number
  fds: number
  threads: number
  processes: number
  /** The live heap after a full collection (GET /admin/memory?gc=full), at the base and near the end only. */
  liveHeapBytes?: number
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

/**
 * The live heap of every lab service, read after /proc (a full collection shrinks what RSS shows):
 * at the base and in the last three samples, so the collections it forces barely shape the resident memory it measures.
 */
async function liveHeaps(s: Sample, pids: Map<number, string>): Promise<void> {
  await Promise.all(
    [...pids].map(async ([pid, name]) => {
      const admin = adminOf(pid)
      if (!admin || !s.services[name]) return
      try {
        const res = await fetch(`http://127.0.0.1:${admin.port}/admin/memory?gc=full`, {
          headers: { authorization: `Bearer ${admin.token}` },
          signal: AbortSignal.timeout(5_000),
        })
        if (res.ok) s.services[name].liveHeapBytes = (s.services[name].liveHeapBytes ?? 0) + ((await res.json()) as { heapUsedBytes: number }).heapUsedBytes
      } catch {
        // A service that does not answer has no live-heap figure in this sample.
      }
    }),
  )
}

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
const child = spawn(process.execPath, [cli, 'run', path.join(PACKAGE_ROOT, 'bench/soak.yaml'), '--set', `duration=${MINUTES}m`, '--out', outDir], {
  stdio: ['ignore', 'ignore', 'pipe'],
  env: { ...process.env, CI: 'true' },
})
let stderr = ''
child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => child.kill(sig))

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
    const isBase = !samples.some((b) => b.atS >= WARMUP_S) && s.atS >= WARMUP_S
    if (isBase || s.atS >= MINUTES * 60 - 3 * EVERY_S) await liveHeaps(s, pids)
    samples.push(s)
    console.log(
      `  ${s.atS}s: ${Object.keys(s.services).length} services, harness RSS ${(s.harnessRssBytes / MiB).toFixed(0)} MiB, logs ${(s.disk.logs / MiB).toFixed(1)} MiB, data ${(s.disk.data / MiB).toFixed(1)} MiB`,
    )
  }
}
const code = await exited
if (code !== 0) console.log(`the run exited ${code}: ${stderr.slice(-3000)}`)

// The baseline: the first sample after the warm-up that saw the whole system.
const base = samples.find((s) => s.atS >= WARMUP_S) ?? samples[0]
const last = samples[samples.length - 1]
if (!base || !last || base === last) throw new Error(`too few samples (${samples.length}) to compare: give --minutes more than --warmup`)
const names = Object.keys(base.services).sort()
const pct = (a: number, b: number) => (a ? ((b - a) / a) * 100 : NaN)
// The second half: V8 sizes each heap to its load over the first minutes; a leak keeps growing after.
const middle = samples.find((s) => s.atS >= (base.atS + last.atS) / 2) ?? base
const heapEnd = [...samples].reverse().find((s) => s !== base && Object.values(s.services).some((v) => v.liveHeapBytes !== undefined))
const mib = (b: number | undefined) => (b === undefined ? '?' : (b / MiB).toFixed(1))
const rows = names.map((n) => {
  const a = base.services[n]
  const b = last.services[n]
  if (!b) return [n, (a.rssBytes / MiB).toFixed(1), 'gone', '', '', '', `${a.fds} -> gone`, '']
  const mid = middle.services[n]
  const h = heapEnd?.services[n]?.liveHeapBytes
  return [
    n,
    (a.rssBytes / MiB).toFixed(1),
    (b.rssBytes / MiB).toFixed(1),
    `${pct(a.rssBytes, b.rssBytes).toFixed(1)}%`,
    mid ? `${pct(mid.rssBytes, b.rssBytes).toFixed(1)}%` : '?',
    `${mib(a.liveHeapBytes)} -> ${mib(h)}${a.liveHeapBytes && h ? ` (${pct(a.liveHeapBytes, h) >= 0 ? '+' : ''}${pct(a.liveHeapBytes, h).toFixed(0)}%)` : ''}`,
    `${a.fds} -> ${b.fds}`,
    `${a.threads} -> ${b.threads}`,
  ]
})
const over = names.filter((n) => last.services[n] && pct(base.services[n].rssBytes, last.services[n].rssBytes) >= RSS_TARGET * 100)
const fdGrowth = names.filter((n) => last.services[n] && last.services[n].fds - base.services[n].fds > 2)
const minutes = (last.atS - base.atS) / 60
const rate = (k: keyof Sample['disk']) => ((last.disk[k] - base.disk[k]) / MiB / minutes).toFixed(2)
const body = [
  `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}.`,
  '',
  `\`node dist/bench/soak.js --minutes ${MINUTES} --every ${EVERY_S} --warmup ${WARMUP_S}\`: \`outage-lab run bench/soak.yaml\` (the flagship's topology and steady workload, nothing injected) for ${MINUTES} min; the run exited ${code}. Compared: the sample at ${base.atS} s with the last, at ${last.atS} s (${samples.length} samples).`,
  '',
  table(
    [
      'service',
      'RSS at base (MiB)',
      'RSS at end (MiB)',
      'growth',
      `growth since ${middle.atS} s`,
      `live heap after a full GC (MiB), ${base.atS} s -> ${heapEnd?.atS ?? '?'} s`,
      'open fds',
      'threads',
    ],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
  '',
  `**RSS growth under ${RSS_TARGET * 100}%: ${names.length - over.length} of ${names.length} services${over.length ? ` (over: ${over.join(', ')})` : ''}; descriptors flat (at most +2): ${names.length - fdGrowth.length} of ${names.length}${fdGrowth.length ? ` (grew: ${fdGrowth.join(', ')})` : ''}.**`,
  '',
  `Disk, from the base to the end: service logs ${(base.disk.logs / MiB).toFixed(1)} -> ${(last.disk.logs / MiB).toFixed(1)} MiB (${rate('logs')} MiB/min), data (back-end shard logs, local stores, checkpoints) ${(base.disk.data / MiB).toFixed(1)} -> ${(last.disk.data / MiB).toFixed(1)} MiB (${rate('data')} MiB/min), the harness's timeline ${(base.disk.timeline / MiB).toFixed(1)} -> ${(last.disk.timeline / MiB).toFixed(1)} MiB (${rate('timeline')} MiB/min). The harness itself (it keeps the run's timeline in memory for the analysis): ${(base.harnessRssBytes / MiB).toFixed(0)} -> ${(last.harnessRssBytes / MiB).toFixed(0)} MiB.`,
].join('\n')
console.log('\n' + body)
fs.writeFileSync(path.join(outDir, 'soak.json'), JSON.stringify({ machine: m, minutes: MINUTES, everyS: EVERY_S, warmupS: WARMUP_S, code, samples }, null, 1))
if (args.record) {
  recordSection('soak', body)
  console.log('recorded in bench/RESULTS.md')
}
