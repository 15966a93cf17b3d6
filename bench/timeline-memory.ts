// What the harness's memory holds for a long run's timeline (issue 16: a 30-minute soak took the
// harness from 290 to 2757 MiB). --rows rows shaped like a soak's timeline are written through
// TimelineWriter the way a run writes them: every 250 ms sample, four client.* rows per
// customer-facing service, the calls that ended (callRow), and every lab process's /metrics answer
// parsed with parsePromText and kept as the observer keeps it (keepSample, seriesKey, written on
// change and at least once a second). Each mode runs in its own process and reports the heap and
// array buffers after a full GC, less the same before:
// - run, array: the rows kept as objects, as TimelineWriter kept them before (the anchor);
// - run, store: TimelineWriter's TimelineStore;
// - read, array: timeline.jsonl parsed into an array of objects, as readTimeline did before;
// - read, store: readTimeline (the report, `outage-lab report`, suite and compare).
//   npx tsc -p . && node dist/bench/timeline-memory.js [--rows 2000000] [--record]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client'
import { TimelineWriter, readTimeline, type TimelineRow } from '../harness/observe/timeline.js'
import { callRow } from '../harness/observe/call-rows.js'
import { keepSample } from '../harness/observe/observer.js'
import { parsePromText, seriesKey } from '../harness/observe/prom-text.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { MiB } from './lib/procfs.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'

const MODES = ['run-array', 'run-store', 'read-array', 'read-store'] as const
type Mode = (typeof MODES)[number]

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    mode: { type: 'string' },
    file: { type: 'string' },
    record: { type: 'boolean', default: false },
  },
})
const ROWS = Number(args.rows)
if (!(ROWS > 0)) throw new Error('--rows takes a positive number')

interface Measured {
  mode: Mode
  rows: number
  bytes: number
  seconds: number
}

const heldBytes = () => {
  ;(globalThis as { gc?: () => void }).gc!()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

// A soak's sample: seven customer-facing services, about fifteen calls ending per sample, and the
// lab's processes (a front-end fleet of four among them).
const CUSTOMER_FACING = ['kinesis', 'cognito', 'cloudwatch', 'eventbridge', 'lambda', 'autoscaler', 'status-page']
const PROCESSES = [
  'kinesis-endpoint-main',
  'kinesis-frontend-main-1',
  'kinesis-frontend-main-2',
  'kinesis-frontend-main-3',
  'kinesis-frontend-main-4',
  'kinesis-backend-1',
  'kinesis-backend-2',
  'kinesis-metadata',
  'cognito',
  'cloudwatch',
  'eventbridge',
  'autoscaler',
  'lambda',
  'status-page',
]
const OPERATIONS = ['PutRecords', 'PutRecord', 'GetRecords', 'PutMetricData', 'InitiateAuth', 'PutEvents', 'Invoke']
const SAMPLE_MS = 250
const HEARTBEAT_MS = 1_000

/** A lab process's /metrics as prom-client writes it: Node's default metrics (dropped but for RSS) and the lab's server series. */
async function exposition(): Promise<string[]> {
  const register = new Registry()
  collectDefaultMetrics({ register })
  const requests = new Counter({ name: 'lab_server_requests_total', help: 'requests', labelNames: ['outcome'], registers: [register] })
  new Gauge({ name: 'lab_server_in_flight', help: 'in flight', registers: [register] }).set(1)
  new Gauge({ name: 'lab_server_oldest_in_flight_seconds', help: 'oldest', registers: [register] }).set(0.01)
  const duration = new Histogram({ name: 'lab_server_request_duration_seconds', help: 'duration', labelNames: ['route'], registers: [register] })
  for (const o of ['ok', 'error', 'throttled']) requests.inc({ outcome: o })
  for (const r of ['/', '/health', '/metrics', '/records']) duration.observe({ route: r }, 0.01)
  return (await register.metrics()).split('\n')
}

/** Rows as a run of `ROWS` rows writes them, handed to `write` one at a time. */
async function soakRows(write: (row: TimelineRow) => void): Promise<void> {
  const lines = await exposition()
  // Every series the timeline keeps changes every sample (a soak writes about fourteen rows a scrape).
  const kept = lines.flatMap((l, i) => (parsePromText(l).some((s) => keepSample(s)) ? [i] : []))
  const names = kept.map((i) => lines[i].slice(0, lines[i].lastIndexOf(' ')))
  const last = new Map<string, { value: number; atMs: number }>()
  let written = 0
  const put = (row: TimelineRow) => {
    write(row)
    written++
  }
  for (let tick = 0; written < ROWS; tick++) {
    const atMs = tick * SAMPLE_MS
    for (let k = 0; k < 15; k++) {
      const ok = k % 50 !== 0
      put(
        callRow({
          service: CUSTOMER_FACING[k % 7],
          operation: OPERATIONS[(tick + k) % 7],
          startedAtMs: atMs - 20 - k,
          latencyMs: 20 + k,
          ok,
          ...(ok ? {} : { error: 'TimeoutError' }),
        }),
      )
    }
    for (const service of CUSTOMER_FACING) {
      put({ service, metric: 'client.success_ratio', value: 1, atMs })
      put({ service, metric: 'client.p99_ms', value: 40 + (tick % 7), atMs })
      put({ service, metric: 'client.calls', value: 10, atMs })
      put({ service, metric: 'client.in_flight', value: tick % 3, atMs })
    }
    for (const [p, service] of PROCESSES.entries()) {
      // Each scrape's answer is a string of its own, as undici's body text is.
      const now = lines.slice()
      kept.forEach((i, n) => (now[i] = `${names[n]} ${(tick * 7 + p) * (n + 1) + 0.5}`))
      for (const s of parsePromText(now.join('\n'))) {
        if (!keepSample(s)) continue
        const metric = seriesKey(s)
        const key = `${service}\u0000${metric}`
        const seen = last.get(key)
        if (seen && seen.value === s.value && atMs - seen.atMs < HEARTBEAT_MS) continue
        last.set(key, { value: s.value, atMs })
        put({ service, metric, value: s.value, atMs })
      }
    }
  }
}

/** timeline.jsonl into an array of objects: readTimeline before the store. */
function readArray(file: string): TimelineRow[] {
  const out: TimelineRow[] = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line))
  return out
}

async function measure(mode: Mode, file: string): Promise<Measured> {
  const before = heldBytes()
  const started = performance.now()
  let held: { length: number }
  if (mode === 'run-array' || mode === 'run-store') {
    const writer = new TimelineWriter(mode === 'run-store' ? file : `${file}.array`, { keep: mode === 'run-store' })
    const kept: TimelineRow[] = []
    await soakRows((row) => {
      writer.write(row)
      if (mode === 'run-array') kept.push(row)
    })
    writer.close()
    held = writer.kept ?? kept
  } else held = mode === 'read-store' ? readTimeline(file) : readArray(file)
  const seconds = (performance.now() - started) / 1000
  const bytes = heldBytes() - before
  if (held.length < ROWS) throw new Error(`${mode}: ${held.length} rows`)
  return { mode, rows: held.length, bytes, seconds }
}

if (args.mode) {
  process.stdout.write(JSON.stringify(await measure(args.mode as Mode, args.file!)) + '\n')
} else {
  const m = machine()
  const self = fileURLToPath(import.meta.url)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-bench-timeline-'))
  const file = path.join(dir, 'timeline.jsonl')
  const results: Measured[] = []
  try {
    // run-store writes the file the read modes read.
    for (const mode of ['run-store', 'run-array', 'read-array', 'read-store'] as Mode[]) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', self, '--mode', mode, '--file', file, '--rows', String(ROWS)], {
        encoding: 'utf8',
      })
      const r = JSON.parse(out) as Measured
      results.push(r)
      console.log(`${mode}: ${r.rows} rows, ${(r.bytes / MiB).toFixed(1)} MiB, ${(r.bytes / r.rows).toFixed(0)} bytes a row, ${r.seconds.toFixed(1)} s`)
    }
    const fileMiB = fs.statSync(file).size / MiB
    const byMode = (mode: Mode) => results.find((r) => r.mode === mode)!
    const rows = MODES.map((mode) => {
      const r = byMode(mode)
      return [mode.replace('-', ', '), String(r.rows), (r.bytes / MiB).toFixed(1), (r.bytes / r.rows).toFixed(0), r.seconds.toFixed(1)]
    })
    const body = [
      `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}.`,
      '',
      `\`node dist/bench/timeline-memory.js --rows ${ROWS}\`: a soak-shaped timeline (${fileMiB.toFixed(0)} MiB of timeline.jsonl) written through TimelineWriter as a run writes it, and read back as the report reads it; memory held is the heap and array buffers after a full GC, less the same before. "array" is how the harness held rows before TimelineStore.`,
      '',
      table(['held as', 'rows', 'MiB', 'bytes a row', 'seconds'], rows, ['l', 'r', 'r', 'r', 'r']),
      '',
      `A row as an object with its own strings costs what "read, array" shows; a row the run kept as an object also kept, through its metric string (a slice of the answer), the whole /metrics answer it was parsed from: the rest of "run, array".`,
    ].join('\n')
    console.log('\n' + body)
    if (args.record) {
      recordSection('timeline-memory', body)
      console.log('recorded in bench/RESULTS.md')
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
