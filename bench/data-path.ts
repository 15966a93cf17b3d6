// Data-path throughput: the stock AWS SDK Kinesis client puts records into outage-lab (through its
// endpoint, front-ends and durable back-ends), kinesalite and kinesis-local, side by side in one
// run, with the same client code, the same records and the same load.
//   npx tsc -p . && node dist/bench/data-path.js [--record] [--seconds 4]
// Loads: PutRecords of 500 x 100-byte records and PutRecord of one, each serial (concurrency 1) and
// with 16 calls in flight, over HTTP/1.1 (NodeHttpHandler) for all three, and for outage-lab also
// over the SDK's default HTTP/2 (h2c; the emulators do not speak it). Each cell runs every target
// twice, in the order A B C D then D C B A, so a change in the machine's load (it may be shared)
// falls on all targets alike. Every load loop is bounded by calls and time; kinesis-local, the
// slowest, by time.
import { parseArgs } from 'node:util'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { clientFor, ensureStream, runLoad, percentile, type Target } from './lib/kinesis-load.js'
import { startKinesalite, startKinesisLocal } from './lib/baselines.js'
import { startOutageLab } from './lib/outage-lab.js'
import { waitConverged } from './lib/fleet.js'
import { Cleanup } from './lib/cleanup.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table, int, ms } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { cpuSeconds } from './lib/procfs.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '4' },
    frontends: { type: 'string', default: '2' },
    backends: { type: 'string', default: '2' },
    shards: { type: 'string', default: '64' },
  },
})
const SECONDS = Number(args.seconds)
const FRONTENDS = Number(args.frontends)
const BACKENDS = Number(args.backends)
const SHARDS = Number(args.shards)
const STREAM = 'bench-data-path'
// kinesalite slows down as a stream's shard count grows: a 1-shard row shows its best case.
const STREAM_1 = 'bench-data-path-1'
const MAX_CALLS = 1_000_000
const THREAD_LIMIT = 4096

interface Running {
  /** Names the row: the server, the protocol and the stream's shard count. */
  id: string
  target: Target
  stream: string
  shards: number
  client: KinesisClient
  /** Server-side processes whose CPU time is charged to this target. */
  pids: () => number[]
}

interface Cell {
  api: 'PutRecords' | 'PutRecord'
  concurrency: number
}

interface Acc {
  records: number
  failedRecords: number
  errors: number
  calls: number
  seconds: number
  serverCpu: number
  clientCpu: number
  latencies: number[]
  firstError?: string
}

const cells: Cell[] = [
  { api: 'PutRecords', concurrency: 1 },
  { api: 'PutRecords', concurrency: 16 },
  { api: 'PutRecord', concurrency: 1 },
  { api: 'PutRecord', concurrency: 16 },
]

const cleanup = new Cleanup()
const m = machine()
const began = performance.now()
console.log(`data-path: ${describeMachine(m)}`)

try {
  const { topo } = await startOutageLab({ frontends: FRONTENDS, backends: BACKENDS, threadLimit: THREAD_LIMIT, bootstrap: 'peers' }, cleanup)
  const converged = await waitConverged(topo, FRONTENDS, { timeoutMs: 60_000, signal: cleanup.signal })
  if (!converged.ok) throw new Error(`outage-lab front-ends never converged: ${converged.reasons.join('; ')}`)
  const kinesalite = await startKinesalite()
  cleanup.add('kinesalite', kinesalite.stop)
  const kinesisLocal = await startKinesisLocal()
  cleanup.add('kinesis-local', kinesisLocal.stop)

  const olPids = () => topo.services().flatMap((s) => (s.pid !== undefined && s.state === 'running' ? [s.pid] : []))
  const olUrl = topo.endpoints().kinesis!
  const kl: Target = { name: kinesalite.name, endpoint: kinesalite.endpoint, protocol: 'h1' }
  const targets: Omit<Running, 'client'>[] = [
    { id: 'outage-lab h1', target: { name: 'outage-lab', endpoint: olUrl, protocol: 'h1' }, stream: STREAM, shards: SHARDS, pids: olPids },
    { id: 'outage-lab h2', target: { name: 'outage-lab', endpoint: olUrl, protocol: 'h2' }, stream: STREAM, shards: SHARDS, pids: olPids },
    { id: 'kinesalite', target: kl, stream: STREAM, shards: SHARDS, pids: () => [kinesalite.pid!] },
    {
      id: 'kinesis-local',
      target: { name: kinesisLocal.name, endpoint: kinesisLocal.endpoint, protocol: 'h1' },
      stream: STREAM,
      shards: SHARDS,
      pids: () => [kinesisLocal.pid!],
    },
    { id: 'kinesalite 1 shard', target: kl, stream: STREAM_1, shards: 1, pids: () => [kinesalite.pid!] },
  ]
  const running: Running[] = targets.map((r) => ({ ...r, client: clientFor(r.target) }))
  cleanup.add('SDK clients', async () => running.forEach((r) => r.client.destroy()))

  // Both outage-lab rows share one stream, created over HTTP/1.1.
  for (const r of running) if (r.target.protocol === 'h1') await ensureStream(r.client, r.stream, r.shards)

  // Warm-up (not measured): JIT, connection pools, the servers' first shard files.
  for (const r of running) {
    await runLoad(r.target, r.client, { stream: r.stream, api: 'PutRecords', calls: 50, concurrency: 4, maxSeconds: 2, signal: cleanup.signal })
    await runLoad(r.target, r.client, { stream: r.stream, api: 'PutRecord', calls: 2_000, concurrency: 4, maxSeconds: 1, signal: cleanup.signal })
  }

  const results = new Map<string, Acc>()
  const key = (r: Running, c: Cell) => `${r.id}|${c.api}|${c.concurrency}`
  for (const cell of cells) {
    for (const order of [running, [...running].reverse()]) {
      for (const r of order) {
        if (cleanup.signal.aborted) throw new Error('interrupted')
        const acc = results.get(key(r, cell)) ?? { records: 0, failedRecords: 0, errors: 0, calls: 0, seconds: 0, serverCpu: 0, clientCpu: 0, latencies: [] }
        const pids = r.pids()
        const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0)
        const client0 = process.cpuUsage()
        const res = await runLoad(r.target, r.client, {
          stream: r.stream,
          api: cell.api,
          calls: MAX_CALLS,
          concurrency: cell.concurrency,
          maxSeconds: SECONDS,
          latenciesMs: acc.latencies,
          signal: cleanup.signal,
        })
        const client1 = process.cpuUsage(client0)
        acc.serverCpu += pids.reduce((s, p) => s + cpuSeconds(p), 0) - cpu0
        acc.clientCpu += (client1.user + client1.system) / 1e6
        acc.records += res.records
        acc.failedRecords += res.failedRecords
        acc.errors += res.errors
        acc.calls += res.calls
        acc.seconds += res.seconds
        acc.firstError ??= res.firstError
        results.set(key(r, cell), acc)
        process.stderr.write(`  ${cell.api} c${cell.concurrency} ${r.id}: ${int(res.recordsPerSec)} records/s (load ${loadNow()})\n`)
      }
    }
  }

  const label = (r: Running) => `${r.target.name} ${r.target.protocol === 'h1' ? 'HTTP/1.1' : 'HTTP/2 (h2c)'}${r.shards === 1 ? ', 1-shard stream' : ''}`
  const rate = (a: Acc) => a.records / a.seconds
  const rows = cells.flatMap((cell) =>
    running.map((r) => {
      const a = results.get(key(r, cell))!
      const sorted = [...a.latencies].sort((x, y) => x - y)
      const base = results.get(`kinesalite|${cell.api}|${cell.concurrency}`)!
      return [
        cell.api,
        cell.concurrency,
        label(r),
        int(rate(a)),
        ms(percentile(sorted, 50)),
        ms(percentile(sorted, 99)),
        int(a.calls),
        `${int(a.failedRecords)} / ${int(a.errors)}`,
        ms((a.serverCpu / a.records) * 1e6),
        ms((a.clientCpu / a.records) * 1e6),
        r.id === 'kinesalite' ? '1.00' : (rate(a) / rate(base)).toFixed(2),
      ]
    }),
  )
  const tableText = table(
    [
      'API',
      'conc.',
      'target',
      'records/s',
      'p50 ms',
      'p99 ms',
      'calls',
      'failed records / failed calls',
      'server CPU µs/record',
      'client CPU µs/record',
      'x kinesalite',
    ],
    rows,
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
  const errors = [...results.entries()]
    .filter(([, a]) => a.firstError)
    .map(([k, a]) => `- ${k.replaceAll('|', ' ')}: ${a.errors} failed calls, first: ${a.firstError}`)

  const ratio = (api: Cell['api'], c: number) => {
    const ol = results.get(`outage-lab h1|${api}|${c}`)!
    return { same: rate(ol) / rate(results.get(`kinesalite|${api}|${c}`)!), best: rate(ol) / rate(results.get(`kinesalite 1 shard|${api}|${c}`)!) }
  }
  const verdicts = cells.map((c) => {
    const r = ratio(c.api, c.concurrency)
    return (
      `- ${c.api}, concurrency ${c.concurrency}, HTTP/1.1: outage-lab / kinesalite on the same ${SHARDS}-shard stream = **${r.same.toFixed(2)}x** (${r.same >= 2 ? 'met' : 'not met'}); ` +
      `against kinesalite's 1-shard best case ${r.best.toFixed(2)}x`
    )
  })
  const totalS = (performance.now() - began) / 1000

  const body = [
    '## data-path',
    '',
    `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}. Wall time ${totalS.toFixed(0)} s.`,
    '',
    `outage-lab: \`kinesisTopology\` with ${FRONTENDS} front-ends, ${BACKENDS} back-ends, thread limit ${THREAD_LIMIT} ` +
      `(${topo.threadLimitEnforcement}), bootstrap from peers, one endpoint; every record fsynced on its back-end before it is acknowledged ` +
      `(group-commit fdatasync); SigV4 verified on every call; per-shard throttling ON with ${SHARDS} shards ` +
      `(aggregate limit ${int(SHARDS * 1000)} records/s and ${SHARDS} MiB/s: the per-shard limit is not what is measured; throttled records would show as failed records). ` +
      `kinesalite 3.3.3 (\`--createStreamMs 0\`, in memory) and kinesis-local 0.6.2 (in memory) get a stream of ${SHARDS} shards too (the identical load); ` +
      'kinesalite gets slower as the shard count grows, so one more row gives it a 1-shard stream (its best case, not the same load). ' +
      `Every target is driven by the same stock @aws-sdk/client-kinesis client (maxAttempts 1) from this benchmark's process, which shares the 2 cores with the servers. ` +
      `Each row: ${SECONDS} s x 2 (ABCD then DCBA order); records/s counts acknowledged records only; latencies are per call. ` +
      `CPU columns: CPU time of the server's processes (outage-lab: endpoint + front-ends + back-ends + metadata) and of the client process, per acknowledged record; ` +
      'on a shared machine these are steadier than records/s.',
    '',
    tableText,
    '',
    '**Target: outage-lab >= 2x kinesalite records/s** (HTTP/1.1, same client and load):',
    '',
    ...verdicts,
    ...(errors.length ? ['', 'Failed calls:', '', ...errors] : []),
  ].join('\n')
  console.log(`\n${body}\n`)
  if (args.record) {
    recordSection('data-path', body)
    console.log('recorded in bench/RESULTS.md')
  }
} catch (err) {
  cleanup.failed = true
  process.exitCode = 1
  console.error(`data-path failed: ${(err as Error).stack ?? err}`)
} finally {
  await cleanup.run()
}
