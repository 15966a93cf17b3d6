// Append throughput of one kinesis/backend process alone (no front-end): batches of 500 records
// of 100 bytes, as a front-end forwards a PutRecords of one shard, acknowledged after fsync.
//
//   npx tsc -p . && node dist/bench/backend-append.js [--seconds 5] [--batch 500] [--bytes 100]
//
// Scenarios: serial (one batch in flight), 8 concurrent writers on one shard (group commit
// batches them into shared fsyncs), 8 concurrent writers over 8 shards (parallel fsyncs).
// Prints one line per scenario; writes nothing else.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { internalHeaders } from '../services/kit/internal.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const seconds = Number(args.get('seconds') ?? 5)
const batch = Number(args.get('batch') ?? 500)
const bytes = Number(args.get('bytes') ?? 100)

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../services/kinesis/backend/main.js')
// The records and /metrics routes are internal: the bench holds the credential, as a front-end would.
const internalToken = randomBytes(24).toString('hex')
const credential = internalHeaders(internalToken)
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-bench-backend-'))
const child = spawn(process.execPath, [entry], {
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    BACKEND_ID: 'bench',
    ITERATOR_SECRET: 'bench',
    OUTAGE_LAB_DATA_DIR: dataDir,
    OUTAGE_LAB_INTERNAL_TOKEN: internalToken,
    LOG_LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const port = await new Promise<number>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const rec = JSON.parse(line)
      if (rec.msg === 'listening') resolve(rec.port)
    } catch {
      // not a log line
    }
  })
})
const origin = `http://127.0.0.1:${port}`
const pool = new Pool(origin, { connections: 16, pipelining: 1 })

const body = (n: number) =>
  JSON.stringify({ records: Array.from({ length: n }, (_, i) => ({ data: randomBytes(bytes).toString('base64'), partitionKey: `pk-${i}` })) })
const bodies = Array.from({ length: 16 }, () => body(batch))

async function metric(name: string): Promise<number> {
  const res = await pool.request({ path: '/metrics', method: 'GET', headers: credential })
  const text = await res.body.text()
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : NaN
}

async function run(label: string, concurrency: number, shards: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000
  const latencies: number[] = []
  let records = 0
  const fsyncsBefore = await metric('kinesis_backend_fsyncs_total')
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      let k = 0
      while (performance.now() < deadline) {
        const t0 = performance.now()
        const res = await pool.request({
          path: `/shards/bench-${label}/shardId-${String(w % shards).padStart(12, '0')}/records`,
          method: 'POST',
          headers: { ...credential, 'content-type': 'application/json' },
          body: bodies[(w + k++) % bodies.length],
        })
        const text = await res.body.text()
        if (res.statusCode !== 200) throw new Error(`append answered ${res.statusCode}: ${text}`)
        latencies.push(performance.now() - t0)
        records += batch
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  const fsyncs = (await metric('kinesis_backend_fsyncs_total')) - fsyncsBefore
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1)
  console.log(
    `${label.padEnd(14)} concurrency=${concurrency} shards=${shards}: ${Math.round(records / elapsed)} records/s ` +
      `(${latencies.length} batches of ${batch} x ${bytes} B in ${elapsed.toFixed(1)} s; latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; ` +
      `${fsyncs} fsyncs, ${(records / fsyncs).toFixed(0)} records per fsync)`,
  )
}

try {
  console.log(`node ${process.version}, ${os.cpus().length} cpus, data in ${dataDir}`)
  await run('warmup', 2, 1)
  await run('serial', 1, 1)
  await run('c8-one-shard', 8, 1)
  await run('c8-8-shards', 8, 8)
} finally {
  await pool.close()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await fs.rm(dataDir, { recursive: true, force: true })
}
