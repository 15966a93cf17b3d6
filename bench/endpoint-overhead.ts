// The endpoint's own cost on the data path, two ways:
// 1. requests/s of a 100 KB POST (the size of a PutRecords of 500 x 100 B records) to a trivial
//    upstream, direct and through kinesis/endpoint (h1 and h2c in), with the CPU time each process
//    spent per request (the figure that holds on a busy machine);
// 2. records/s of the stock SDK's PutRecords (500 x 100 B) to a member that verifies SigV4 and
//    answers like Kinesis (kit awsJsonProtocol, no storage), direct and through the endpoint.
// Everything runs as real processes on this machine; every load loop is bounded in time.
//   npx tsc -p . && node dist/bench/endpoint-overhead.js [seconds=5] [concurrency=8]
import { spawn, type ChildProcess } from 'node:child_process'
import http2 from 'node:http2'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { Pool } from 'undici'
import { pathToFileURL } from 'node:url'
import { clientFor, runLoad, type Target } from './lib/kinesis-load.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const seconds = Number(process.argv[2] ?? 5)
const concurrency = Number(process.argv[3] ?? 8)
const BODY = Buffer.alloc(100 * 1024, 'x')

const UPSTREAM = `
const http = require('node:http')
const s = http.createServer((req, res) => {
  let n = 0
  req.on('data', (c) => (n += c.length))
  req.on('end', () => { res.setHeader('content-type', 'application/x-amz-json-1.1'); res.end(JSON.stringify({ received: n })) })
})
s.keepAliveTimeout = 65000
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', port: s.address().port })))
`

// A member that does what a front-end does before routing: verify SigV4, parse, answer.
const KINESIS_MEMBER = `
const { createService, awsJsonProtocol } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/services/kit/index.js')).href)})
const svc = createService({ name: 'bench-member', h2c: true, logger: false })
svc.app.register(awsJsonProtocol, {
  targetPrefix: 'Kinesis_20131202', jsonVersion: '1.1', signingName: 'kinesis',
  keys: new Map([['AKIDOUTAGELAB', 'outage-lab-secret']]),
  operations: {
    PutRecords: (input) => ({ FailedRecordCount: 0, Records: input.Records.map((_, i) => ({ SequenceNumber: String(i).padStart(56, '0'), ShardId: 'shardId-000000000000' })) }),
  },
})
await svc.app.listen({ port: 0, host: '127.0.0.1' })
console.log(JSON.stringify({ msg: 'listening', port: svc.app.server.address().port }))
`

async function start(argv: string[], env: Record<string, string> = {}): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: proc.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}`)))
    lines.on('line', (line) => {
      try {
        const rec = JSON.parse(line)
        if (rec.msg === 'listening') resolve(rec.port)
      } catch {}
    })
  })
  return { port, proc }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Runs a load and reports requests/s and the endpoint's CPU time per request (contention-free). */
async function measure(load: () => Promise<number>): Promise<{ rps: number; endpointCpuUsPerRequest: number; upstreamCpuUsPerRequest: number }> {
  const e0 = cpuSeconds(endpoint.proc.pid!)
  const u0 = cpuSeconds(upstream.proc.pid!)
  const rps = await load()
  const requests = rps * seconds
  return {
    rps: Math.round(rps),
    endpointCpuUsPerRequest: Math.round(((cpuSeconds(endpoint.proc.pid!) - e0) / requests) * 1e6),
    upstreamCpuUsPerRequest: Math.round(((cpuSeconds(upstream.proc.pid!) - u0) / requests) * 1e6),
  }
}

async function loadH1(url: string): Promise<number> {
  const pool = new Pool(url, { connections: concurrency })
  const until = Date.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const res = await pool.request({ path: '/', method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1' }, body: BODY })
        await res.body.text()
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
        done++
      }
    }),
  )
  await pool.close()
  return done / seconds
}

async function loadH2(url: string): Promise<number> {
  const session = http2.connect(url)
  const until = Date.now() + seconds * 1000
  let done = 0
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/', 'content-type': 'application/x-amz-json-1.1', 'content-length': String(BODY.length) })
      req.on('response', (h) => {
        if (h[':status'] !== 200) reject(new Error(`status ${h[':status']}`))
      })
      req.on('data', () => {})
      req.on('end', resolve)
      req.on('error', reject)
      req.end(BODY)
    })
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await one()
        done++
      }
    }),
  )
  session.close()
  return done / seconds
}

const upstream = await start([process.execPath, '-e', UPSTREAM])
const member = await start([process.execPath, '--input-type=module', '-e', KINESIS_MEMBER])
const endpoint = await start([process.execPath, path.join(ROOT, 'dist/services/kinesis/endpoint/main.js')], {
  PORT: '0',
  LOG_LEVEL: 'info',
  ENDPOINT_MEMBERS: `http://127.0.0.1:${upstream.port}`,
  HEALTH_INTERVAL_MS: '200',
  HEALTHY_THRESHOLD: '1',
})
const kinesisEndpoint = await start([process.execPath, path.join(ROOT, 'dist/services/kinesis/endpoint/main.js')], {
  PORT: '0',
  LOG_LEVEL: 'info',
  ENDPOINT_MEMBERS: `http://127.0.0.1:${member.port}`,
  HEALTH_INTERVAL_MS: '200',
  HEALTHY_THRESHOLD: '1',
})
// New members start unhealthy: wait until each endpoint admitted its member.
for (const ep of [endpoint, kinesisEndpoint]) {
  for (let i = 0; ; i++) {
    const health = await fetch(`http://127.0.0.1:${ep.port}/health`).then((r) => r.json() as Promise<{ healthyMembers: number }>)
    if (health.healthyMembers === 1) break
    if (i > 50) throw new Error('the member was never admitted')
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function putRecords(name: string, port: number, protocol: 'h1' | 'h2') {
  const target: Target = { name, endpoint: `http://127.0.0.1:${port}`, protocol }
  const client = clientFor(target)
  try {
    const r = await runLoad(target, client, { stream: 'bench', api: 'PutRecords', calls: 1_000_000, concurrency: 4, maxSeconds: seconds })
    if (r.errors) throw new Error(`${name} ${protocol}: ${r.errors} calls failed`)
    return { recordsPerSec: r.recordsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms }
  } finally {
    client.destroy()
  }
}

try {
  const direct = await measure(() => loadH1(`http://127.0.0.1:${upstream.port}`))
  const viaH1 = await measure(() => loadH1(`http://127.0.0.1:${endpoint.port}`))
  const viaH2 = await measure(() => loadH2(`http://127.0.0.1:${endpoint.port}`))
  const sdk = {
    directH1: await putRecords('member', member.port, 'h1'),
    endpointH1: await putRecords('endpoint', kinesisEndpoint.port, 'h1'),
    directH2: await putRecords('member', member.port, 'h2'),
    endpointH2: await putRecords('endpoint', kinesisEndpoint.port, 'h2'),
  }
  const result = {
    bench: 'endpoint-overhead',
    bodyBytes: BODY.length,
    seconds,
    concurrency,
    cores: (await import('node:os')).availableParallelism(),
    loadavg: (await import('node:os')).loadavg().map((n) => +n.toFixed(2)),
    post100k: {
      direct: { rps: direct.rps, upstreamCpuUsPerRequest: direct.upstreamCpuUsPerRequest },
      endpointH1: viaH1,
      endpointH2c: viaH2,
      h1Ratio: +(viaH1.rps / direct.rps).toFixed(2),
      h2cRatio: +(viaH2.rps / direct.rps).toFixed(2),
      // At 500 records per PutRecords, the records/s one endpoint core could carry by its CPU cost alone.
      endpointCoreRecordsPerSecH1: Math.round((1e6 / viaH1.endpointCpuUsPerRequest) * 500),
      endpointCoreRecordsPerSecH2c: Math.round((1e6 / viaH2.endpointCpuUsPerRequest) * 500),
    },
    // SDK client, endpoint and member share the 2 cores: the client's own cost is in these figures.
    sdkPutRecords500x100B: sdk,
  }
  console.log(JSON.stringify(result, null, 2))
} finally {
  for (const p of [upstream, member, endpoint, kinesisEndpoint]) p.proc.kill()
}
