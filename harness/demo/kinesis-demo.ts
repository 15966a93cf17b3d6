// `outage-lab demo`: the Kinesis part of the outage, end to end, in about a minute. It stands in
// for `make run` until the flagship experiment exists. Everything is real: the topology's
// processes, the pids cgroups, the AWS SDK customer, the EAGAIN that breaks each shard-map.
//   1. a fleet under its thread limit takes steady PutRecords traffic;
//   2. capacity is added: every front-end crosses the limit and its shard-map breaks;
//   3. the capacity is removed: no help;
//   4. a paced restart heals the fleet;
//   5. every acknowledged record is read back.
import fs from 'node:fs'
import path from 'node:path'
import { KinesisClient, PutRecordsCommand, CreateStreamCommand, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-kinesis'
import { kinesisTopology } from '../topology/model.js'
import { localPlatform, type StartedLocalTopology } from '../platform/local/index.js'
import { EXIT, say } from '../control/cli-support.js'

export interface DemoOptions {
  frontends: number
  addFrontends: number
  threadLimit: number
  learnDelay: number
  seed: number
  runDir?: string
  cgroups: boolean
}

interface Window {
  atMs: number
  ok: number
  failed: number
  errors: Record<string, number>
}

interface PhaseMark {
  phase: string
  atMs: number
  note: string
}

const STREAM = 'demo-orders'

/** A bounded open-loop producer: one PutRecords of `batch` records every `intervalMs`, until stopped. */
class Producer {
  readonly windows: Window[] = []
  acknowledged = 0
  private timer?: NodeJS.Timeout
  private inFlight = 0
  private seq = 0
  private readonly started = Date.now()
  constructor(
    private client: KinesisClient,
    private batch = 50,
    private intervalMs = 100,
    private maxCalls = 3_000,
  ) {}

  start(): void {
    let calls = 0
    this.timer = setInterval(() => {
      if (++calls > this.maxCalls) return this.stop()
      if (this.inFlight >= 8) return this.count(false, 'ClientBackpressure')
      this.inFlight++
      const records = Array.from({ length: this.batch }, () => ({ Data: Buffer.from(`order-${this.seq}`), PartitionKey: `customer-${this.seq++ % 997}` }))
      this.client
        .send(new PutRecordsCommand({ StreamName: STREAM, Records: records }))
        .then((out) => {
          const failed = out.FailedRecordCount ?? 0
          this.acknowledged += records.length - failed
          this.count(failed === 0, failed ? (out.Records?.find((r) => r.ErrorCode)?.ErrorCode ?? 'PartialFailure') : undefined)
        })
        .catch((err) => this.count(false, `${err.name ?? 'Error'} ${err.$metadata?.httpStatusCode ?? ''}`.trim()))
        .finally(() => this.inFlight--)
    }, this.intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private count(ok: boolean, error?: string): void {
    const atMs = Math.floor((Date.now() - this.started) / 1000) * 1000
    let w = this.windows.at(-1)
    if (!w || w.atMs !== atMs) this.windows.push((w = { atMs, ok: 0, failed: 0, errors: {} }))
    if (ok) w.ok++
    else {
      w.failed++
      if (error) w.errors[error] = (w.errors[error] ?? 0) + 1
    }
  }

  /** Success ratio over the last `seconds` complete windows. */
  recent(seconds: number): { ok: number; failed: number; errors: Record<string, number> } {
    const sum = { ok: 0, failed: 0, errors: {} as Record<string, number> }
    for (const w of this.windows.slice(-seconds - 1, -1)) {
      sum.ok += w.ok
      sum.failed += w.failed
      for (const [k, v] of Object.entries(w.errors)) sum.errors[k] = (sum.errors[k] ?? 0) + v
    }
    return sum
  }
}

async function fleetStates(
  topo: StartedLocalTopology,
): Promise<Array<{ name: string; state: string; threads: number; limit: number; enforcement: string; peerThreads: number }>> {
  const probes = await topo.health()
  return probes
    .filter((p) => p.name.startsWith('kinesis-frontend'))
    .map((p) => ({
      name: p.name,
      state: String(p.body?.shard_map_state ?? (p.error ? 'down' : 'unknown')),
      threads: Number(p.body?.threads ?? NaN),
      limit: Number(p.body?.thread_limit ?? NaN),
      enforcement: String(p.body?.thread_limit_enforcement ?? '?'),
      peerThreads: Number(p.body?.peer_threads ?? NaN),
    }))
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

function line(states: Awaited<ReturnType<typeof fleetStates>>): string {
  const by: Record<string, number> = {}
  for (const s of states) by[s.state] = (by[s.state] ?? 0) + 1
  return Object.entries(by)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')
}

function traffic(p: Producer, seconds = 3): string {
  const r = p.recent(seconds)
  const total = r.ok + r.failed
  if (total === 0) return 'no calls yet'
  const errs = Object.entries(r.errors)
    .map(([k, v]) => `${k} x${v}`)
    .join(', ')
  return `${((100 * r.ok) / total).toFixed(0)}% of PutRecords ok over ${seconds}s${errs ? ` (${errs})` : ''}`
}

export async function demo(opts: DemoOptions): Promise<number> {
  const started = Date.now()
  const at = () => Date.now() - started
  const marks: PhaseMark[] = []
  const mark = (phase: string, note: string) => {
    marks.push({ phase, atMs: at(), note })
    say(`[${(at() / 1000).toFixed(1).padStart(5)}s] ${phase.padEnd(10)} ${note}`)
  }
  const total = opts.frontends + opts.addFrontends
  say(
    `outage-lab demo: a fleet of ${opts.frontends} front-ends, thread limit ${opts.threadLimit} per front-end; adding ${opts.addFrontends} more needs ${total - 1} peer threads each.`,
  )

  const topo = await localPlatform.start(
    kinesisTopology({ frontends: opts.frontends, threadLimit: opts.threadLimit, learnDelayMs: opts.learnDelay, seed: opts.seed }),
    { runDir: opts.runDir, osThreadLimit: opts.cgroups, env: { LOG_LEVEL: 'warn' } },
  )
  let producer: Producer | undefined
  try {
    const e = topo.endpoints()
    mark(
      'boot',
      `${topo.services().length} services up; thread limit enforced by ${topo.threadLimitEnforcement}${topo.enforcementNote ? ` (${topo.enforcementNote})` : ''}`,
    )
    // Without an endpoint the SDK would aim at the real AWS: never let that happen.
    if (!e.kinesis) throw new Error('the topology has no Kinesis endpoint')
    const client = new KinesisClient({
      endpoint: e.kinesis,
      region: e.region,
      credentials: e.credentials,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 3_000 },
    })
    await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 4 }))
    producer = new Producer(client)
    producer.start()
    await new Promise((r) => setTimeout(r, 4_000))
    const before = await fleetStates(topo)
    const f = before[0]
    mark('steady', `fleet: ${line(before)}; ${f ? `${f.threads}/${f.limit} threads each (${f.peerThreads} peer threads)` : ''}; ${traffic(producer)}`)

    await topo.scaleFleet('main', total)
    mark(
      'trigger',
      `capacity added: fleet ${opts.frontends} -> ${total}; each front-end now learns ${opts.addFrontends} new peers (learn delay up to ${opts.learnDelay} ms)`,
    )
    const broken = await waitFor('every front-end to break', opts.learnDelay + 30_000, async () => {
      const s = await fleetStates(topo)
      return s.length === total && s.every((x) => x.state === 'broken') ? s : undefined
    })
    await new Promise((r) => setTimeout(r, 3_000))
    mark('outage', `fleet: ${line(broken)} at ${broken[0].threads}/${broken[0].limit} threads; ${traffic(producer)}`)

    await topo.scaleFleet('main', opts.frontends)
    await new Promise((r) => setTimeout(r, 5_000))
    const after = await fleetStates(topo)
    mark('rollback', `capacity removed: fleet ${total} -> ${opts.frontends}; fleet: ${line(after)}; ${traffic(producer)}`)

    const restart = await topo.restartFleet('main', { ratePerSec: 2 })
    const healed = await waitFor('the fleet to be ready', 60_000, async () => {
      const s = await fleetStates(topo)
      return s.length === opts.frontends && s.every((x) => x.state === 'ready') ? s : undefined
    })
    await new Promise((r) => setTimeout(r, 4_000))
    mark('recovery', `paced restart of ${restart.restarted.length} front-ends (2/s) in ${restart.durationMs} ms; fleet: ${line(healed)}; ${traffic(producer)}`)
    producer.stop()
    await new Promise((r) => setTimeout(r, 1_500))

    // The back-ends acknowledged only fsynced records: read every shard back and count.
    let readBack = 0
    const shards = await client.send(new ListShardsCommand({ StreamName: STREAM }))
    for (const shard of shards.Shards ?? []) {
      let it = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator
      for (let i = 0; it && i < 1000; i++) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }))
        readBack += out.Records?.length ?? 0
        if ((out.Records?.length ?? 0) === 0 && out.MillisBehindLatest === 0) break
        it = out.NextShardIterator
      }
    }
    mark('verify', `${producer.acknowledged} records acknowledged, ${readBack} read back with GetRecords`)

    const summary = {
      threadLimit: opts.threadLimit,
      threadLimitEnforcement: topo.threadLimitEnforcement,
      fleet: { before: opts.frontends, scaledTo: total },
      phases: marks,
      perSecond: producer.windows,
      acknowledged: producer.acknowledged,
      readBack,
      brokeAll: true,
      healedByRestart: true,
    }
    const file = path.join(topo.runDir, 'demo-summary.json')
    fs.writeFileSync(file, JSON.stringify(summary, null, 2))
    say('')
    say('What happened: adding capacity pushed every front-end past its OS thread limit at about the same time;')
    say('shard-map construction failed everywhere, so PutRecords failed; removing the capacity did not help; a paced restart did.')
    say(`Summary: ${file}`)
    say(`Service logs: ${path.join(topo.runDir, 'logs')}`)
    client.destroy()
    return readBack >= producer.acknowledged ? EXIT.ok : EXIT.failed
  } finally {
    producer?.stop()
    await topo.stop()
  }
}
