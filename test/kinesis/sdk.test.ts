// The stock @aws-sdk/client-kinesis, unmodified, against real processes (metadata, two back-ends,
// a front-end): once over its default HTTP/2 handler (h2c) and once over HTTP/1.1.
import t from 'tap'
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis'
import { startKinesis } from './sdk-topology.js'

const text = (d: Uint8Array | undefined) => Buffer.from(d ?? []).toString()

t.test('the stock Kinesis client works end to end over HTTP/2 and HTTP/1.1', async (t) => {
  const kinesis = await startKinesis(t)
  for (const protocol of ['h2', 'h1'] as const) {
    await t.test(`over ${protocol}`, async (t) => {
      const client = kinesis.client(protocol)
      const name = `orders-${protocol}`
      const startedAt = new Date(Date.now() - 1000)

      t.same((await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 3 }))).$metadata.httpStatusCode, 200)
      const waited = await waitUntilStreamExists({ client, maxWaitTime: 10, minDelay: 1 }, { StreamName: name })
      t.equal(waited.state, 'SUCCESS', 'the SDK waiter sees the stream ACTIVE')

      const { StreamDescription: desc } = await client.send(new DescribeStreamCommand({ StreamName: name }))
      t.equal(desc?.StreamStatus, 'ACTIVE')
      t.equal(desc?.StreamARN, `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`)
      t.equal(desc?.Shards?.length, 3)
      t.equal(desc?.HasMoreShards, false)
      t.equal(desc?.RetentionPeriodHours, 24)
      t.equal(desc?.EncryptionType, 'NONE')
      t.ok(
        desc?.StreamCreationTimestamp instanceof Date && Math.abs(desc.StreamCreationTimestamp.getTime() - Date.now()) < 60_000,
        'creation timestamp parsed as a recent Date',
      )
      t.equal(desc?.Shards?.[2].HashKeyRange?.EndingHashKey, ((1n << 128n) - 1n).toString())
      const page = await client.send(new DescribeStreamCommand({ StreamARN: desc!.StreamARN, Limit: 2 }))
      t.same(
        page.StreamDescription?.Shards?.map((s) => s.ShardId),
        ['shardId-000000000000', 'shardId-000000000001'],
      )
      t.equal(page.StreamDescription?.HasMoreShards, true)

      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamARN: desc!.StreamARN }))
      t.equal(summary.StreamDescriptionSummary?.OpenShardCount, 3)
      const list = await client.send(new ListStreamsCommand({}))
      t.ok(list.StreamNames?.includes(name))
      t.equal(list.HasMoreStreams, false)
      t.ok(list.StreamSummaries?.some((s) => s.StreamName === name && s.StreamStatus === 'ACTIVE'))
      const shards = await client.send(new ListShardsCommand({ StreamName: name, MaxResults: 2 }))
      t.equal(shards.Shards?.length, 2)
      const more = await client.send(new ListShardsCommand({ NextToken: shards.NextToken }))
      t.same(
        more.Shards?.map((s) => s.ShardId),
        ['shardId-000000000002'],
      )

      const one = await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'first', Data: Buffer.from('record-0') }))
      t.match(one, { ShardId: /^shardId-00000000000[0-2]$/, SequenceNumber: /^\d{56}$/ })
      const records = Array.from({ length: 60 }, (_, i) => ({ PartitionKey: `user-${i}`, Data: Buffer.from(`record-${i + 1}`) }))
      const put = await client.send(new PutRecordsCommand({ StreamARN: desc!.StreamARN, Records: records }))
      t.equal(put.FailedRecordCount, 0)
      t.equal(put.Records?.length, 60)
      t.ok(new Set(put.Records?.map((r) => r.ShardId)).size > 1, 'records spread over shards')

      // Every record reads back, in order per shard, with its key and arrival time.
      const byShard = new Map<string, string[]>()
      put.Records!.forEach((r, i) => byShard.set(r.ShardId!, [...(byShard.get(r.ShardId!) ?? []), `record-${i + 1}`]))
      byShard.set(one.ShardId!, ['record-0', ...(byShard.get(one.ShardId!) ?? [])])
      for (const [shardId, want] of byShard) {
        const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
        const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))
        t.same(
          got.Records?.map((r) => text(r.Data)),
          want,
          `${shardId} reads back in order`,
        )
        t.type(got.NextShardIterator, 'string')
        t.type(got.MillisBehindLatest, 'number')
        const rec = got.Records![0]
        t.ok(
          rec.ApproximateArrivalTimestamp instanceof Date && rec.ApproximateArrivalTimestamp.getTime() >= startedAt.getTime(),
          'arrival timestamp parsed as a Date',
        )
      }

      // The five iterator types, on the shard that holds PutRecords' entry 0.
      const shardId = put.Records![0].ShardId!
      const seq0 = put.Records![0].SequenceNumber!
      const readFrom = async (input: Omit<ConstructorParameters<typeof GetShardIteratorCommand>[0], 'StreamName' | 'ShardId'>) => {
        const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ...input }))
        const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }))
        return { records: got.Records!.map((r) => text(r.Data)), next: got.NextShardIterator }
      }
      t.same((await readFrom({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seq0 })).records, ['record-1'])
      const after = await readFrom({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: seq0 })
      t.same(after.records, [byShard.get(shardId)![byShard.get(shardId)!.indexOf('record-1') + 1]])
      t.equal((await readFrom({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: startedAt })).records.length, 1)
      const latest = await readFrom({ ShardIteratorType: 'LATEST' })
      t.same(latest.records, [], 'LATEST starts after the last record')
      t.equal((await readFrom({ ShardIteratorType: 'TRIM_HORIZON' })).records.length, 1)

      // NextShardIterator of LATEST picks up a record written afterwards.
      const late = await client.send(
        new PutRecordCommand({
          StreamName: name,
          PartitionKey: 'late',
          Data: Buffer.from('late'),
          ExplicitHashKey: (await client.send(new ListShardsCommand({ StreamName: name }))).Shards!.find((s) => s.ShardId === shardId)!.HashKeyRange!
            .StartingHashKey,
        }),
      )
      t.equal(late.ShardId, shardId, 'ExplicitHashKey routes to the shard whose range starts there')
      const next = await client.send(new GetRecordsCommand({ ShardIterator: latest.next }))
      t.same(
        next.Records?.map((r) => text(r.Data)),
        ['late'],
      )
      t.equal(next.MillisBehindLatest, 0)
    })
  }
})
