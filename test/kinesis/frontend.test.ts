// The front-end's data plane in-process: validation and error shapes, routing, throttling,
// partial failures, health and metrics. Storage and the shard-map are test doubles
// (frontend-doubles.ts); sdk*.test.ts runs the same API against the real processes.
import t from 'tap'
import { createHash } from 'node:crypto'
import net from 'node:net'
import { buildApp } from '../../services/kinesis/frontend/app.js'
import { ShardThrottle } from '../../services/kinesis/frontend/throttle.js'
import { hashKeyOf, explicitHashKey, routesOf, shardFor } from '../../services/kinesis/frontend/routing.js'
import { KEYS, ShardMapDouble, StorageDouble, streamInfo, signedKinesisRequest } from './frontend-doubles.js'
import { internalHeaders } from '../../services/kit/internal.js'

const ACCOUNT = '000000000000'

async function setup(t: Tap.Test, opts: { owners?: number; clock?: () => number; throttle?: boolean; upstreamTimeoutMs?: number; adminToken?: string } = {}) {
  const storages: StorageDouble[] = []
  for (let i = 0; i < (opts.owners ?? 1); i++) storages.push(await new StorageDouble(`backend-${i}`).start())
  t.teardown(() => Promise.all(storages.map((s) => s.close())))
  const shardMap = new ShardMapDouble()
  for (const s of storages) shardMap.backends.set(s.owner, s.url)
  shardMap.source = () => storages.flatMap((s) => [...s.streams.values()])
  const throttle = opts.clock ? new ShardThrottle({ enabled: true, clock: opts.clock }) : (opts.throttle ?? false)
  const app = buildApp({
    shardMap,
    keys: KEYS,
    metadataUrl: storages[0].url,
    throttle,
    logger: false,
    upstreamTimeoutMs: opts.upstreamTimeoutMs,
    adminToken: opts.adminToken,
  })
  t.teardown(() => app.close())
  const call = async (operation: string, body: unknown, sign: Parameters<typeof signedKinesisRequest>[2] = {}) => {
    const res = await app.inject(signedKinesisRequest(operation, body, sign))
    return { status: res.statusCode, body: res.json(), headers: res.headers }
  }
  return { app, shardMap, storages, call }
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

t.test('a partition key routes by MD5 read as a 128-bit unsigned integer', async (t) => {
  const stream = streamInfo('routes', 4, ['b'])
  const routes = routesOf(stream)
  for (const key of ['a', 'user-17', 'ünïcødé', 'x'.repeat(256)]) {
    const n = BigInt('0x' + createHash('md5').update(key, 'utf8').digest('hex'))
    const want = stream.shards.find((s) => BigInt(s.startingHashKey) <= n && n <= BigInt(s.endingHashKey))!
    t.equal(shardFor(routes, hashKeyOf(key))!.shardId, want.shardId, `key ${key.slice(0, 10)}`)
  }
  t.equal(shardFor(routes, explicitHashKey('0')!)!.shardId, 'shardId-000000000000')
  t.equal(shardFor(routes, explicitHashKey(stream.shards[1].startingHashKey)!)!.shardId, 'shardId-000000000001')
  t.equal(shardFor(routes, explicitHashKey(stream.shards[0].endingHashKey)!)!.shardId, 'shardId-000000000000')
  t.equal(shardFor(routes, explicitHashKey(((1n << 128n) - 1n).toString())!)!.shardId, 'shardId-000000000003')
  t.equal(explicitHashKey((1n << 128n).toString()), undefined, '2^128 is out of range')
})

t.test('the shard throttle admits one second of allowance and refills with the clock', async (t) => {
  let now = 1_000_000
  const th = new ShardThrottle({ enabled: true, clock: () => now })
  let admitted = 0
  for (let i = 0; i < 1500; i++) if (th.admitWrite('s/0', 100)) admitted++
  t.equal(admitted, 1000, '1,000 records/s per shard')
  t.notOk(th.admitWrite('s/1', 1024 * 1024 + 1), 'a record above 1 MiB/s never fits')
  t.ok(th.admitWrite('s/1', 1024 * 1024), 'another shard has its own allowance')
  t.notOk(th.admitWrite('s/1', 1), 'its bytes are spent')
  now += 250
  admitted = 0
  for (let i = 0; i < 1000; i++) if (th.admitWrite('s/0', 100)) admitted++
  t.equal(admitted, 250, 'a quarter second refills a quarter')
  now += 250
  t.ok(th.admitWrite('s/1', 512 * 1024), 'bytes refill too')
  t.notOk(th.admitWrite('s/1', 1024), 'but only 512 KiB in 500 ms')

  let reads = 0
  for (let i = 0; i < 10; i++) if (th.admitRead('s/0')) reads++
  t.equal(reads, 5, '5 GetRecords calls/s per shard')
  now += 1000
  t.ok(th.admitRead('s/0'))
  th.chargeRead('s/0', 6 * 1024 * 1024)
  t.notOk(th.admitRead('s/0'), 'a 6 MiB read blocks the shard')
  now += 2000
  t.notOk(th.admitRead('s/0'), 'still 2 MiB in debt after 2 s')
  now += 1001
  t.ok(th.admitRead('s/0'), 'clear after 3 s at 2 MiB/s')

  const off = new ShardThrottle({ enabled: false, clock: () => now })
  for (let i = 0; i < 5000; i++) if (!off.admitWrite('s/0', 1000)) t.fail('THROTTLE=off admits everything')
})

t.test('CreateStream goes to metadata, refreshes the shard-map and the stream describes as Kinesis does', async (t) => {
  const { call, shardMap } = await setup(t)
  const created = await call('CreateStream', { StreamName: 'orders', ShardCount: 3 })
  t.equal(created.status, 200)
  t.same(created.body, {})
  t.equal(shardMap.refreshes, 1)
  const again = await call('CreateStream', { StreamName: 'orders', ShardCount: 3 })
  t.equal(again.status, 400)
  t.same(again.body, { __type: 'ResourceInUseException', message: `Stream orders under account ${ACCOUNT} already exists.` })

  const d = await call('DescribeStream', { StreamName: 'orders', Limit: 2 })
  t.equal(d.status, 200)
  const desc = d.body.StreamDescription
  t.equal(desc.StreamName, 'orders')
  t.equal(desc.StreamARN, `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/orders`)
  t.equal(desc.StreamStatus, 'ACTIVE')
  t.equal(desc.RetentionPeriodHours, 24)
  t.equal(desc.EncryptionType, 'NONE')
  t.same(desc.EnhancedMonitoring, [{ ShardLevelMetrics: [] }])
  t.ok(Number.isInteger(desc.StreamCreationTimestamp) && Math.abs(desc.StreamCreationTimestamp - Date.now() / 1000) < 60, 'creation time in epoch seconds')
  t.equal(desc.HasMoreShards, true)
  t.same(
    desc.Shards.map((s: any) => s.ShardId),
    ['shardId-000000000000', 'shardId-000000000001'],
  )
  t.same(desc.Shards[0].HashKeyRange, { StartingHashKey: '0', EndingHashKey: '113427455640312821154458202477256070484' })
  t.match(desc.Shards[0].SequenceNumberRange, { StartingSequenceNumber: /^\d+$/ })
  const rest = await call('DescribeStream', { StreamARN: desc.StreamARN, ExclusiveStartShardId: 'shardId-000000000001' })
  t.same(
    rest.body.StreamDescription.Shards.map((s: any) => s.ShardId),
    ['shardId-000000000002'],
  )
  t.equal(rest.body.StreamDescription.HasMoreShards, false)

  const sum = await call('DescribeStreamSummary', { StreamName: 'orders' })
  t.match(sum.body.StreamDescriptionSummary, {
    StreamName: 'orders',
    OpenShardCount: 3,
    ConsumerCount: 0,
    StreamStatus: 'ACTIVE',
    StreamModeDetails: { StreamMode: 'PROVISIONED' },
  })
  t.notOk('Shards' in sum.body.StreamDescriptionSummary)
})

t.test('ListStreams and ListShards page with limits, exclusive starts and NextTokens', async (t) => {
  const { call } = await setup(t)
  for (const name of ['c-stream', 'a-stream', 'b-stream']) t.equal((await call('CreateStream', { StreamName: name, ShardCount: 3 })).status, 200)
  const first = await call('ListStreams', { Limit: 2 })
  t.same(first.body.StreamNames, ['a-stream', 'b-stream'])
  t.equal(first.body.HasMoreStreams, true)
  t.match(first.body.StreamSummaries[0], { StreamName: 'a-stream', StreamStatus: 'ACTIVE', StreamARN: /stream\/a-stream$/ })
  const next = await call('ListStreams', { NextToken: first.body.NextToken })
  t.same(next.body.StreamNames, ['c-stream'])
  t.equal(next.body.HasMoreStreams, false)
  t.notOk('NextToken' in next.body)
  t.same((await call('ListStreams', { ExclusiveStartStreamName: 'a-stream' })).body.StreamNames, ['b-stream', 'c-stream'])

  const shards = await call('ListShards', { StreamName: 'b-stream', MaxResults: 2 })
  t.same(
    shards.body.Shards.map((s: any) => s.ShardId),
    ['shardId-000000000000', 'shardId-000000000001'],
  )
  const more = await call('ListShards', { NextToken: shards.body.NextToken })
  t.same(
    more.body.Shards.map((s: any) => s.ShardId),
    ['shardId-000000000002'],
  )
  t.notOk('NextToken' in more.body)
  const after = await call('ListShards', { StreamName: 'b-stream', ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000000' } })
  t.equal(after.body.Shards.length, 2)

  t.same((await call('ListShards', {})).body, { __type: 'InvalidArgumentException', message: 'Either NextToken or StreamName should be provided.' })
  t.same((await call('ListShards', { StreamName: 'b-stream', NextToken: shards.body.NextToken })).body, {
    __type: 'InvalidArgumentException',
    message: 'NextToken and StreamName cannot be provided together.',
  })
  t.same((await call('ListShards', { NextToken: 'bm90IGEgdG9rZW4=' })).body, { __type: 'InvalidArgumentException', message: 'Invalid NextToken.' })
})

t.test('bad arguments get the errors and messages Kinesis answers', async (t) => {
  const { call } = await setup(t)
  await call('CreateStream', { StreamName: 'known', ShardCount: 1 })
  const cases: Array<[string, unknown, number, string, string]> = [
    ['DescribeStream', { StreamName: 'nope' }, 400, 'ResourceNotFoundException', `Stream nope under account ${ACCOUNT} not found.`],
    [
      'PutRecord',
      { StreamName: 'nope', PartitionKey: 'k', Data: b64('x') },
      400,
      'ResourceNotFoundException',
      `Stream nope under account ${ACCOUNT} not found.`,
    ],
    [
      'DescribeStream',
      { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/known' },
      400,
      'ResourceNotFoundException',
      'Stream known under account 123456789012 not found.',
    ],
    ['DescribeStream', {}, 400, 'InvalidArgumentException', 'Either StreamName or StreamARN should be provided.'],
    [
      'CreateStream',
      { StreamName: 'bad name!', ShardCount: 0 },
      400,
      'ValidationException',
      "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ],
    [
      'CreateStream',
      { ShardCount: 1 },
      400,
      'ValidationException',
      "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null",
    ],
    ['DescribeStream', { StreamName: 'known', Limit: 'ten' }, 400, 'SerializationException', 'class java.lang.String can not be converted to an Integer'],
    [
      'ListStreams',
      { Limit: 0 },
      400,
      'ValidationException',
      "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
    [
      'PutRecord',
      { StreamName: 'known', PartitionKey: '', Data: b64('x') },
      400,
      'ValidationException',
      "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'PutRecord',
      { StreamName: 'known', PartitionKey: 'k'.repeat(257), Data: b64('x') },
      400,
      'ValidationException',
      `1 validation error detected: Value '${'k'.repeat(257)}' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256`,
    ],
    [
      'PutRecord',
      { StreamName: 'known', PartitionKey: 'k', Data: 'abc' },
      400,
      'SerializationException',
      "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
    ],
    [
      'PutRecord',
      { StreamName: 'known', PartitionKey: 'k', Data: b64('x'), ExplicitHashKey: (1n << 128n).toString() },
      400,
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${1n << 128n}`,
    ],
    [
      'GetShardIterator',
      { StreamName: 'known', ShardId: 'shardId-000000000000', ShardIteratorType: 'SOMEWHERE' },
      400,
      'ValidationException',
      "1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
    ],
    [
      'GetShardIterator',
      { StreamName: 'known', ShardId: 'shardId-000000000009', ShardIteratorType: 'LATEST' },
      400,
      'ResourceNotFoundException',
      `Shard shardId-000000000009 in stream known under account ${ACCOUNT} does not exist`,
    ],
    [
      'GetShardIterator',
      { StreamName: 'known', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_SEQUENCE_NUMBER' },
      400,
      'InvalidArgumentException',
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.',
    ],
    [
      'GetShardIterator',
      { StreamName: 'known', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON', StartingSequenceNumber: '1' },
      400,
      'InvalidArgumentException',
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.',
    ],
    [
      'GetShardIterator',
      { StreamName: 'known', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP' },
      400,
      'InvalidArgumentException',
      'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
    ],
    ['GetRecords', { ShardIterator: 'garbage' }, 400, 'InvalidArgumentException', 'Invalid ShardIterator.'],
    [
      'GetRecords',
      { ShardIterator: 'x'.repeat(513) },
      400,
      'ValidationException',
      `1 validation error detected: Value '${'x'.repeat(513)}' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512`,
    ],
  ]
  for (const [op, body, status, type, message] of cases) {
    const res = await call(op, body)
    t.same({ status: res.status, body: res.body }, { status, body: { __type: type, message } }, `${op} ${JSON.stringify(body).slice(0, 80)}`)
    t.equal(res.headers['x-amzn-errortype'], type)
  }
})

t.test('record and batch size limits answer as Kinesis does', async (t) => {
  const { call } = await setup(t)
  await call('CreateStream', { StreamName: 'sizes', ShardCount: 1 })
  const MiB = 1024 * 1024
  const big = await call('PutRecord', { StreamName: 'sizes', PartitionKey: 'k', Data: b64(Buffer.alloc(MiB + 1)) })
  t.same(big.body, {
    __type: 'ValidationException',
    message: `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${MiB + 1} cap=${MiB + 1}]' at 'data' failed to satisfy constraint: Member must have length less than or equal to ${MiB}`,
  })
  const withKey = await call('PutRecord', { StreamName: 'sizes', PartitionKey: 'kk', Data: b64(Buffer.alloc(MiB - 1)) })
  t.same(withKey.body, {
    __type: 'InvalidArgumentException',
    message: `Record size of ${MiB + 1} bytes (data plus partition key) exceeds the 1 MiB (1048576 bytes) limit.`,
  })
  const exact = await call('PutRecord', { StreamName: 'sizes', PartitionKey: 'k', Data: b64(Buffer.alloc(MiB - 1)) })
  t.equal(exact.status, 200, 'data plus key of exactly 1 MiB is accepted')

  const inBatch = await call('PutRecords', {
    StreamName: 'sizes',
    Records: [
      { PartitionKey: 'a', Data: b64('x') },
      { PartitionKey: 'b', Data: b64(Buffer.alloc(MiB + 1)) },
    ],
  })
  t.same(inBatch.body, {
    __type: 'ValidationException',
    message: `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${MiB + 1} cap=${MiB + 1}]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MiB}`,
  })
  const six = Array.from({ length: 6 }, (_, i) => ({ PartitionKey: `k${i}`, Data: b64(Buffer.alloc(MiB - 8)) }))
  t.same((await call('PutRecords', { StreamName: 'sizes', Records: six })).body, {
    __type: 'InvalidArgumentException',
    message: 'Records size exceeds 5 MB limit',
  })
  const many = Array.from({ length: 501 }, (_, i) => ({ PartitionKey: `k${i}`, Data: b64('x') }))
  const tooMany = await call('PutRecords', { StreamName: 'sizes', Records: many })
  t.equal(tooMany.body.__type, 'ValidationException')
  t.match(
    tooMany.body.message,
    /^1 validation error detected: Value '\[com\.amazonaws\.kinesis\.v20131202\.PutRecordsRequestEntry@c965e310, .*\]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/,
  )
  t.same((await call('PutRecords', { StreamName: 'sizes', Records: [] })).body, {
    __type: 'ValidationException',
    message: "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
  })
})

t.test('PutRecords groups records per shard across back-ends and answers in entry order', async (t) => {
  const { call, shardMap, storages } = await setup(t, { owners: 2 })
  shardMap.streams.set('spread', streamInfo('spread', 4, ['backend-0', 'backend-1']))
  const records = Array.from({ length: 200 }, (_, i) => ({ PartitionKey: `user-${i}`, Data: b64(`payload-${i}`) }))
  const res = await call('PutRecords', { StreamName: 'spread', Records: records })
  t.equal(res.status, 200)
  t.equal(res.body.FailedRecordCount, 0)
  t.equal(res.body.Records.length, 200)
  const routes = routesOf(shardMap.streams.get('spread')!)
  for (let i = 0; i < 200; i++) {
    if (res.body.Records[i].ShardId !== shardFor(routes, hashKeyOf(`user-${i}`))!.shardId) t.fail(`record ${i} reported on the wrong shard`)
  }
  t.same(new Set(storages[0].appends.map((a) => a.shardId)), new Set(['shardId-000000000000', 'shardId-000000000002']), 'back-end 0 got its shards only')
  t.same(new Set(storages[1].appends.map((a) => a.shardId)), new Set(['shardId-000000000001', 'shardId-000000000003']))
  t.equal(storages[0].appends.length + storages[1].appends.length, 4, 'one append per shard')
  const stored = storages.flatMap((s) => [...s.shards.values()].flat())
  t.equal(stored.length, 200)
  // Entry i's sequence number points at record i's data.
  for (let i = 0; i < 200; i += 37) {
    const rec = storages
      .flatMap((s) => s.shards.get(`spread/${res.body.Records[i].ShardId}`) ?? [])
      .find((r) => r.sequenceNumber === res.body.Records[i].SequenceNumber)
    t.equal(rec?.data, b64(`payload-${i}`), `entry ${i} maps to its record`)
  }
})

t.test('a back-end that cannot be reached fails only its own entries; PutRecord gets ServiceUnavailable', async (t) => {
  const { call, shardMap, storages } = await setup(t, { owners: 2 })
  shardMap.streams.set('half', streamInfo('half', 2, ['backend-0', 'backend-1']))
  await storages[1].close()
  const records = Array.from({ length: 50 }, (_, i) => ({ PartitionKey: `k-${i}`, Data: b64(`v${i}`) }))
  const res = await call('PutRecords', { StreamName: 'half', Records: records })
  t.equal(res.status, 200)
  const failed = res.body.Records.filter((r: any) => r.ErrorCode)
  t.ok(failed.length > 0 && failed.length < 50, `some entries failed (${failed.length})`)
  t.equal(res.body.FailedRecordCount, failed.length)
  for (const f of failed) t.same(f, { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' })
  t.equal(storages[0].shards.get('half/shardId-000000000000')?.length, 50 - failed.length)

  const lost = records.find((_, i) => res.body.Records[i].ErrorCode)!
  const single = await call('PutRecord', { StreamName: 'half', ...lost })
  t.equal(single.status, 503)
  t.equal(single.body.__type, 'ServiceUnavailable')
  t.match(single.body.message, /^back-end backend-1 is unreachable \(ECONNREFUSED\)$/)
})

t.test('a burst over 1,000 records/s on one shard is throttled entry by entry', async (t) => {
  const now = 5_000_000
  const { call } = await setup(t, { clock: () => now })
  await call('CreateStream', { StreamName: 'hot', ShardCount: 1 })
  const batch = Array.from({ length: 400 }, (_, i) => ({ PartitionKey: `p${i}`, Data: b64('0123456789') }))
  const counts = []
  for (let i = 0; i < 3; i++) {
    const res = await call('PutRecords', { StreamName: 'hot', Records: batch })
    counts.push(res.body.FailedRecordCount)
    if (i === 2) {
      t.same(res.body.Records[199], { SequenceNumber: res.body.Records[199].SequenceNumber, ShardId: 'shardId-000000000000' })
      t.same(res.body.Records[200], {
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream hot under account ${ACCOUNT}.`,
      })
    }
  }
  t.same(counts, [0, 0, 200], 'the clock stands still: 1,000 admitted, 200 refused')
  const single = await call('PutRecord', { StreamName: 'hot', PartitionKey: 'p', Data: b64('x') })
  t.same(
    { status: single.status, body: single.body },
    {
      status: 400,
      body: {
        __type: 'ProvisionedThroughputExceededException',
        message: `Rate exceeded for shard shardId-000000000000 in stream hot under account ${ACCOUNT}.`,
      },
    },
  )
})

t.test('GetShardIterator and GetRecords read back what PutRecords wrote; reads are throttled per shard', async (t) => {
  let now = 9_000_000
  const { call } = await setup(t, { clock: () => now })
  await call('CreateStream', { StreamName: 'reads', ShardCount: 1 })
  const put = await call('PutRecords', { StreamName: 'reads', Records: [1, 2, 3].map((i) => ({ PartitionKey: `k${i}`, Data: b64(`d${i}`) })) })
  const it = await call('GetShardIterator', { StreamName: 'reads', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' })
  t.equal(it.status, 200)
  const got = await call('GetRecords', { ShardIterator: it.body.ShardIterator, Limit: 2 })
  t.equal(got.status, 200)
  t.same(
    got.body.Records.map((r: any) => [r.Data, r.PartitionKey, r.SequenceNumber]),
    [
      [b64('d1'), 'k1', put.body.Records[0].SequenceNumber],
      [b64('d2'), 'k2', put.body.Records[1].SequenceNumber],
    ],
  )
  t.ok(Math.abs(got.body.Records[0].ApproximateArrivalTimestamp - Date.now() / 1000) < 60, 'arrival in epoch seconds')
  t.type(got.body.NextShardIterator, 'string')
  t.type(got.body.MillisBehindLatest, 'number')
  const after = await call('GetShardIterator', {
    StreamName: 'reads',
    ShardId: 'shardId-000000000000',
    ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
    StartingSequenceNumber: put.body.Records[1].SequenceNumber,
  })
  const last = await call('GetRecords', { ShardIterator: after.body.ShardIterator })
  t.same(
    last.body.Records.map((r: any) => r.PartitionKey),
    ['k3'],
  )
  let throttled: any
  for (let i = 0; i < 5 && !throttled; i++) {
    const r = await call('GetRecords', { ShardIterator: after.body.ShardIterator })
    if (r.status !== 200) throttled = r
  }
  t.same(
    throttled?.body,
    { __type: 'ProvisionedThroughputExceededException', message: `Rate exceeded for shard shardId-000000000000 in stream reads under account ${ACCOUNT}.` },
    'the 6th GetRecords within a second is refused',
  )
  now += 1000
  t.equal((await call('GetRecords', { ShardIterator: after.body.ShardIterator })).status, 200, 'a second later it reads again')
})

t.test('back-end failures show as varied errors: timeouts and resets are InternalFailure, error answers pass through', async (t) => {
  const { app, call, shardMap } = await setup(t, { upstreamTimeoutMs: 300, adminToken: 'tok' })
  // A back-end that accepts connections and never answers.
  const sockets = new Set<net.Socket>()
  const silent = net.createServer((s) => sockets.add(s))
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })
  shardMap.backends.set('silent', `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`)
  shardMap.streams.set('slow', streamInfo('slow', 1, ['silent']))
  t.same((await call('PutRecord', { StreamName: 'slow', PartitionKey: 'k', Data: b64('x') })).body, {
    __type: 'InternalFailure',
    message: 'back-end silent timed out (UND_ERR_HEADERS_TIMEOUT)',
  })
  await call('CreateStream', { StreamName: 'faulty', ShardCount: 1 })
  const admin = (payload: unknown) => app.inject({ method: 'POST', url: '/admin/faults/outbound', headers: { authorization: 'Bearer tok' }, payload })
  t.equal((await admin({ id: 'reset', kind: 'reset', match: { pathPrefix: '/shards/' } })).statusCode, 201)
  const reset = await call('PutRecord', { StreamName: 'faulty', PartitionKey: 'k', Data: b64('x') })
  t.same({ status: reset.status, type: reset.body.__type }, { status: 500, type: 'InternalFailure' })
  t.match(reset.body.message, /^back-end backend-0 failed: socket reset/)
  await app.inject({ method: 'DELETE', url: '/admin/faults/outbound/reset', headers: { authorization: 'Bearer tok' } })
  t.equal((await admin({ id: 'err', kind: 'error', status: 503, errorType: 'ServiceUnavailable', match: { pathPrefix: '/iterators' } })).statusCode, 201)
  const gsi = await call('GetShardIterator', { StreamName: 'faulty', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })
  t.same({ status: gsi.status, body: gsi.body }, { status: 503, body: { __type: 'ServiceUnavailable', message: 'injected fault err' } })
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /kinesis_frontend_upstream_calls_total\{[^}]*dependency="silent"[^}]*outcome="timeout"[^}]*\} 1/)
  t.match(metrics, /kinesis_frontend_upstream_calls_total\{[^}]*dependency="backend-0"[^}]*outcome="reset"[^}]*\} 1/)
})

t.test('a broken shard-map fails the data plane with InternalFailure, a building one with 503; control plane still answers', async (t) => {
  const { call, shardMap } = await setup(t)
  await call('CreateStream', { StreamName: 'outage', ShardCount: 1 })
  shardMap.state = 'broken'
  const put = await call('PutRecords', { StreamName: 'outage', Records: [{ PartitionKey: 'k', Data: b64('x') }] })
  t.same({ status: put.status, type: put.body.__type }, { status: 500, type: 'InternalFailure' })
  const gsi = await call('GetShardIterator', { StreamName: 'outage', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })
  t.equal(gsi.status, 500)
  t.equal((await call('DescribeStream', { StreamName: 'outage' })).status, 200)
  shardMap.state = 'building'
  const one = await call('PutRecord', { StreamName: 'outage', PartitionKey: 'k', Data: b64('x') })
  t.same({ status: one.status, type: one.body.__type }, { status: 503, type: 'ServiceUnavailable' })
})

t.test('SigV4 failures answer with the errors AWS gives', async (t) => {
  const { app, call } = await setup(t)
  const bad = await call('ListStreams', {}, { secret: 'wrong' })
  t.equal(bad.status, 400)
  t.equal(bad.body.__type, 'InvalidSignatureException')
  t.match(bad.body.message, /^The request signature we calculated does not match the signature you provided/)
  const unknown = await call('ListStreams', {}, { accessKeyId: 'AKIDNOBODY' })
  t.same(unknown.body, { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
  const unsigned = await app.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
    payload: '{}',
  })
  t.same(unsigned.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
  const op = await call('SplitShard', {})
  t.equal(op.body.__type, 'UnknownOperationException')
})

t.test('/health reports the shard-map fields and /metrics counts calls by status and error', async (t) => {
  const { app, call, shardMap } = await setup(t)
  await call('DescribeStream', { StreamName: 'missing' })
  await call('ListStreams', {})
  shardMap.state = 'broken'
  const health = await app.inject({ url: '/health' })
  t.equal(health.statusCode, 200, 'serving even with a broken map')
  t.match(health.json(), {
    status: 'ok',
    threads: 11,
    thread_limit: 64,
    thread_limit_enforcement: 'process',
    shard_map_state: 'broken',
    peers: 2,
    peer_threads: 2,
  })
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /kinesis_frontend_requests_total\{operation="DescribeStream",status="400",error="ResourceNotFoundException"[^}]*\} 1/)
  t.match(metrics, /kinesis_frontend_requests_total\{operation="ListStreams",status="200",error=""[^}]*\} 1/)
  t.match(metrics, /kinesis_frontend_request_duration_seconds_count\{[^}]*operation="ListStreams"[^}]*\} 1/)
  await app.close()
  t.ok(shardMap.closed, 'closing the app closes the shard-map')
})
