// Remediation 5 on real processes: with the shard-map built by a dedicated cache fleet, the
// customer-facing front-ends run no peer threads, so the same capacity addition that breaks the
// 2020 fleet (topology-kinesis.test.ts) leaves every member serving.
import t from 'tap'
import { KinesisClient, CreateStreamCommand, PutRecordCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { localPlatform } from '../../harness/platform/local/index.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { eventually } from '../helpers/eventually.js'

// 11 base threads + 1 peer fits a limit of 14; 6 members (16 threads each with peers) would not.
const LIMIT = 14

t.test('with a dedicated shard-map cache fleet, a capacity addition past the thread limit breaks no front-end', { skip: kinesisOutageSkip }, async (t) => {
  const topo = await localPlatform.start(kinesisTopology({ frontends: 2, threadLimit: LIMIT, bootstrap: 'metadata', shardMapCache: { frontends: 2 } }), {
    runDir: t.testdir(),
    signals: false,
  })
  t.teardown(() => topo.stop())
  const e = topo.endpoints()
  t.same(Object.keys(e.fleets).sort(), ['cache', 'main'])
  const kinesis = new KinesisClient({
    endpoint: e.kinesis,
    region: e.region,
    credentials: e.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 5_000, throwOnRequestTimeout: true }),
  })
  t.teardown(() => kinesis.destroy())
  await kinesis.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 2 }))
  // The cache fleet re-reads the map on its own poll: a front-end may not know the stream for a
  // moment after CreateStream (the cache is eventually consistent).
  await eventually(
    async () => {
      const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'orders' })).catch(() => undefined)
      return out?.StreamDescriptionSummary?.StreamStatus === 'ACTIVE' ? true : undefined
    },
    { what: 'the stream is ACTIVE', timeoutMs: 20_000, intervalMs: 250 },
  )

  await topo.scaleFleet('main', 6)
  const main = await eventually(
    async () => {
      const fes = (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-main-'))
      return fes.length === 6 && fes.every((h) => h.body?.shard_map_state === 'ready') ? fes : undefined
    },
    { what: 'six ready main front-ends', timeoutMs: 60_000, intervalMs: 250 },
  )
  for (const fe of main) {
    t.equal(fe.body?.peers, 0, `${fe.name} learns no peer: its map comes from the cache fleet`)
    t.ok(Number(fe.body?.threads) <= LIMIT, `${fe.name}: ${fe.body?.threads} threads, under the limit of ${LIMIT}`)
  }
  // Every member routes: enough calls that the endpoint's round robin reaches each of them.
  for (let i = 0; i < 12; i++) {
    const put = await kinesis.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: `k${i}`, Data: Buffer.from('after the capacity addition') }))
    t.match(put.SequenceNumber, /^\d+$/)
  }
  const cache = (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-cache-'))
  t.equal(cache.length, 2)
  for (const c of cache) t.equal(c.body?.shard_map_state, 'ready', `${c.name} (cache fleet) is ready`)
})
