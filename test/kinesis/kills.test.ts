// Acknowledged data survives kills: a real local Kinesis (metadata, two back-ends, two front-ends,
// the endpoint) under concurrent PutRecords from the AWS SDK takes 20 SIGKILLs at seeded random
// moments, each of a seeded random member (back-ends most often, as they hold the data; front-ends,
// the endpoint and metadata too), each followed by a restart on the same data. Afterwards every
// record PutRecords acknowledged is read back from its shard with its data and sequence number,
// sequence numbers rise along each shard, and each writer's records keep their order in a shard.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { localPlatform } from '../../harness/platform/local/index.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { seededRandom } from '../../services/kit/prng.js'
import { eventually } from '../helpers/eventually.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const KILLS = Number(process.env.KILLS ?? 20)
const SEED = Number(process.env.KILL_SEED ?? 20201125)
const WRITERS = 4
const STREAM = 'survives-kills'
const SHARDS = 4

interface Acked {
  data: string
  shardId: string
  sequenceNumber: string
  writer: number
}

t.test(`${KILLS} SIGKILLs under concurrent PutRecords lose no acknowledged record`, { skip: kinesisOutageSkip }, async (t) => {
  t.setTimeout(600_000)
  const topo = await localPlatform.start(kinesisTopology({ frontends: 2, threadLimit: 64, learnDelayMs: 0, bootstrap: 'metadata' }), {
    runDir: t.testdir(),
    signals: false,
  })
  t.teardown(() => topo.stop())
  const e = topo.endpoints()
  const client = new KinesisClient({
    endpoint: e.kinesis,
    region: e.region,
    credentials: e.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 5_000, connectionTimeout: 2_000 }),
  })
  t.teardown(() => client.destroy())
  await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: SHARDS }))
  await eventually(async () => (await client.send(new DescribeStreamCommand({ StreamName: STREAM }))).StreamDescription?.StreamStatus === 'ACTIVE', {
    what: 'the stream active',
    timeoutMs: 20_000,
    intervalMs: 200,
  })

  const random = seededRandom(SEED)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]
  // Back-ends hold the data: half the kills; the rest spread over the other members.
  const victims = [
    ...['kinesis-backend-1', 'kinesis-backend-2'].flatMap((n) => [n, n, n]),
    'kinesis-frontend-main-1',
    'kinesis-frontend-main-2',
    'kinesis-endpoint-main',
    'kinesis-metadata',
  ]
  const acked: Acked[] = []
  let sent = 0
  let failedCalls = 0
  let stop = false
  const writer = async (w: number) => {
    for (let b = 0; !stop; b++) {
      const records = Array.from({ length: 10 }, (_, i) => ({
        Data: Buffer.from(`w${w}-b${b}-r${i}:${randomBytes(12).toString('hex')}`),
        PartitionKey: `pk-${w}-${i}`,
      }))
      sent += records.length
      try {
        const out = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }))
        out.Records!.forEach((r, i) => {
          if (r.SequenceNumber) acked.push({ data: records[i].Data.toString(), shardId: r.ShardId!, sequenceNumber: r.SequenceNumber, writer: w })
        })
      } catch {
        failedCalls++
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))

  const killed: string[] = []
  for (let k = 0; k < KILLS; k++) {
    // A random moment: 100-700 ms of writes since the last restart.
    await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 600)))
    const name = pick(victims)
    t.comment(`kill ${k + 1}: ${name} (${acked.length} records acknowledged before it)`)
    await topo.kill(name)
    killed.push(name)
    await topo.restart(name)
  }
  // Writes flow again after the last restart before the writers stop.
  const afterLast = acked.length
  await eventually(() => acked.length > afterLast, { what: 'writes acknowledged after the last restart', timeoutMs: 60_000, intervalMs: 100 })
  stop = true
  await Promise.all(writers)
  t.ok(acked.length > 0, `${acked.length} of ${sent} records acknowledged (${failedCalls} calls failed around the kills)`)

  const byShard = new Map<string, Acked[]>()
  for (const a of acked) byShard.set(a.shardId, [...(byShard.get(a.shardId) ?? []), a])
  let read = 0
  for (const [shardId, shardAcked] of [...byShard].sort()) {
    const records: { data: string; seq: string }[] = []
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator
    for (;;) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
      records.push(...page.Records!.map((r) => ({ data: Buffer.from(r.Data!).toString(), seq: r.SequenceNumber! })))
      iterator = page.NextShardIterator
      if (page.Records!.length === 0 || !iterator) break
    }
    read += records.length
    const problems: string[] = []
    for (let i = 1; i < records.length; i++)
      if (!(BigInt(records[i].seq) > BigInt(records[i - 1].seq))) problems.push(`sequence ${records[i].seq} at ${i} does not rise`)
    const at = new Map(records.map((r, i) => [r.seq, i]))
    const lastOfWriter = new Map<number, number>()
    for (const a of shardAcked) {
      const i = at.get(a.sequenceNumber)
      if (i === undefined) problems.push(`acknowledged ${a.sequenceNumber} (${a.data}) is missing`)
      else if (records[i].data !== a.data) problems.push(`acknowledged ${a.sequenceNumber} came back with other data`)
      else {
        if (i <= (lastOfWriter.get(a.writer) ?? -1)) problems.push(`writer ${a.writer}'s ${a.sequenceNumber} is out of order`)
        lastOfWriter.set(a.writer, i)
      }
    }
    t.same(problems.slice(0, 10), [], `${shardId}: ${shardAcked.length} acknowledged records read back in order (${records.length} stored)`)
  }
  const counts = killed.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {})
  t.comment(
    `${KILLS} kills (${Object.entries(counts)
      .map(([n, c]) => `${n} ${c}`)
      .join(', ')}); ${acked.length} acknowledged, 0 lost; ${read} records read`,
  )
})
