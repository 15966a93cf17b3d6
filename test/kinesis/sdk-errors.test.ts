// Error shapes as the stock Kinesis client sees them, against real processes: the SDK error's
// name (__type), HTTP status and exact message; partial failures of PutRecords when a back-end
// dies or a shard is over its throughput; and the outage's symptom, a broken shard-map.
import t from 'tap'
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamCommand,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis'
import { request } from 'undici'
import { spawnService } from '../helpers/spawn.js'
import { startKinesis } from './sdk-topology.js'
import { eventually } from '../helpers/eventually.js'

const ACCOUNT = '000000000000'
const MiB = 1024 * 1024

/** The error a call fails with, as the fields a user branches on. */
async function failure(client: KinesisClient, command: any): Promise<{ name: string; status?: number; message: string }> {
  try {
    await client.send(command)
  } catch (err: any) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }
  }
  throw new Error('the call succeeded')
}

t.test('errors reach the SDK with the type, status and message Kinesis uses', async (t) => {
  const kinesis = await startKinesis(t)
  for (const protocol of ['h2', 'h1'] as const) {
    await t.test(`over ${protocol}`, async (t) => {
      const client = kinesis.client(protocol)
      const name = `errors-${protocol}`
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }))

      t.same(await failure(client, new DescribeStreamCommand({ StreamName: 'no-such-stream' })), {
        name: 'ResourceNotFoundException',
        status: 400,
        message: `Stream no-such-stream under account ${ACCOUNT} not found.`,
      })
      t.same(await failure(client, new PutRecordsCommand({ StreamName: 'no-such-stream', Records: [{ PartitionKey: 'k', Data: Buffer.from('x') }] })), {
        name: 'ResourceNotFoundException',
        status: 400,
        message: `Stream no-such-stream under account ${ACCOUNT} not found.`,
      })
      t.same(await failure(client, new CreateStreamCommand({ StreamName: name, ShardCount: 1 })), {
        name: 'ResourceInUseException',
        status: 400,
        message: `Stream ${name} under account ${ACCOUNT} already exists.`,
      })
      t.same(await failure(client, new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 1 })), {
        name: 'ValidationException',
        status: 400,
        message:
          "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
      })
      t.same(await failure(client, new PutRecordCommand({ StreamName: name, PartitionKey: '', Data: Buffer.from('x') })), {
        name: 'ValidationException',
        status: 400,
        message: "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1",
      })
      t.same(
        await failure(client, new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_SEQUENCE_NUMBER' })),
        {
          name: 'InvalidArgumentException',
          status: 400,
          message:
            'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.',
        },
      )
      t.same(await failure(client, new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000007', ShardIteratorType: 'LATEST' })), {
        name: 'ResourceNotFoundException',
        status: 400,
        message: `Shard shardId-000000000007 in stream ${name} under account ${ACCOUNT} does not exist`,
      })
      t.same(await failure(client, new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: Buffer.alloc(MiB + 1) })), {
        name: 'ValidationException',
        status: 400,
        message: `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${MiB + 1} cap=${MiB + 1}]' at 'data' failed to satisfy constraint: Member must have length less than or equal to ${MiB}`,
      })
      const sixMiB = Array.from({ length: 6 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.alloc(MiB - 8) }))
      t.same(await failure(client, new PutRecordsCommand({ StreamName: name, Records: sixMiB })), {
        name: 'InvalidArgumentException',
        status: 400,
        message: 'Records size exceeds 5 MB limit',
      })
      const tooMany = await failure(
        client,
        new PutRecordsCommand({ StreamName: name, Records: Array.from({ length: 501 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from('x') })) }),
      )
      t.match(tooMany, {
        name: 'ValidationException',
        status: 400,
        message: /at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/,
      })

      // An iterator is signed by the back-ends: an edited one is refused.
      const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))
      const forged = it.ShardIterator!.slice(0, -4) + (it.ShardIterator!.endsWith('AAAA') ? 'BBBB' : 'AAAA')
      t.same(await failure(client, new GetRecordsCommand({ ShardIterator: forged })), {
        name: 'InvalidArgumentException',
        status: 400,
        message: 'Invalid ShardIterator.',
      })

      const wrongSecret = kinesis.client(protocol, { credentials: { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'not-the-secret' } })
      t.same(await failure(wrongSecret, new ListStreamsCommand({})), {
        name: 'InvalidSignatureException',
        status: 400,
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      })
      const unknownKey = kinesis.client(protocol, { credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'outage-lab-secret' } })
      t.same(await failure(unknownKey, new ListStreamsCommand({})), {
        name: 'UnrecognizedClientException',
        status: 400,
        message: 'The security token included in the request is invalid.',
      })
    })
  }
})

t.test('a burst over 1,000 records/s on a one-shard stream is throttled, and a dead back-end fails only its own entries', async (t) => {
  const kinesis = await startKinesis(t)
  const client = kinesis.client('h2')
  await client.send(new CreateStreamCommand({ StreamName: 'hot', ShardCount: 1 }))
  const batch = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `p${i}`, Data: Buffer.alloc(100, i % 256) }))
  // Bounded: 20 batches are 10,000 records; a front-end that throttles sees the 1,001st within
  // the first second, so this ends after a few calls.
  let throttled: PutRecordsCommandOutput | undefined
  for (let i = 0; i < 20 && !throttled; i++) {
    const out = await client.send(new PutRecordsCommand({ StreamName: 'hot', Records: batch }))
    if (out.FailedRecordCount! > 0) throttled = out
  }
  t.ok(throttled, 'some PutRecords call had throttled entries')
  const failed = throttled!.Records!.filter((r) => r.ErrorCode)
  t.equal(failed.length, throttled!.FailedRecordCount)
  t.same(failed[0], {
    ErrorCode: 'ProvisionedThroughputExceededException',
    ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream hot under account ${ACCOUNT}.`,
  })
  t.ok(
    throttled!.Records!.every((r) => r.ErrorCode || /^\d{56}$/.test(r.SequenceNumber)),
    'every other entry has a sequence number',
  )
  // PutRecord gets the error itself. The SDK would retry a throttled call, so one attempt here;
  // two records of almost 1 MiB in a row spend the shard's 1 MiB/s whatever the timing.
  const once = kinesis.client('h2', { maxAttempts: 1 })
  await client.send(new CreateStreamCommand({ StreamName: 'big', ShardCount: 1 }))
  const nearlyMiB = { StreamName: 'big', PartitionKey: 'p', Data: Buffer.alloc(MiB - 16) }
  t.match(await once.send(new PutRecordCommand(nearlyMiB)), { ShardId: 'shardId-000000000000' })
  t.same(await failure(once, new PutRecordCommand(nearlyMiB)), {
    name: 'ProvisionedThroughputExceededException',
    status: 400,
    message: `Rate exceeded for shard shardId-000000000000 in stream big under account ${ACCOUNT}.`,
  })

  // Two shards, owned round robin by backend-1 and backend-2; backend-2 is killed.
  await client.send(new CreateStreamCommand({ StreamName: 'split', ShardCount: 2 }))
  await kinesis.backends[1].stop('SIGKILL')
  const records = Array.from({ length: 40 }, (_, i) => ({ PartitionKey: `user-${i}`, Data: Buffer.from(`v${i}`) }))
  const out = await client.send(new PutRecordsCommand({ StreamName: 'split', Records: records }))
  const lost = out.Records!.filter((r) => r.ErrorCode)
  t.ok(lost.length > 0 && lost.length < 40, `entries on the dead back-end's shard failed (${lost.length} of 40)`)
  t.equal(out.FailedRecordCount, lost.length)
  for (const r of lost) t.same(r, { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' })
  t.ok(
    out.Records!.filter((r) => !r.ErrorCode).every((r) => r.ShardId === 'shardId-000000000000'),
    'the live back-end took its shard',
  )
  const deadKey = records[out.Records!.findIndex((r) => r.ErrorCode)].PartitionKey
  t.same(await failure(once, new PutRecordCommand({ StreamName: 'split', PartitionKey: deadKey, Data: Buffer.from('x') })), {
    name: 'ServiceUnavailable',
    status: 503,
    message: 'back-end backend-2 is unreachable (ECONNREFUSED)',
  })
  const it = await client.send(new GetShardIteratorCommand({ StreamName: 'split', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))
  const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))
  t.equal(got.Records?.length, 40 - lost.length, 'what was acknowledged reads back')
})

t.test('a front-end whose shard-map broke on the thread limit answers the data plane with InternalFailure', async (t) => {
  const kinesis = await startKinesis(t)
  await kinesis.client('h1').send(new CreateStreamCommand({ StreamName: 'during-outage', ShardCount: 1 }))
  // A second member with a limit below its own base thread count cannot create a thread for
  // its peer (frontend-1): construction fails, the map is broken.
  const second = await spawnService('services/kinesis/frontend/main.js', {
    OUTAGE_LAB_DATA_DIR: kinesis.dir,
    FRONTEND_ID: 'frontend-2',
    METADATA_URL: kinesis.metadata.url,
    BOOTSTRAP: 'metadata',
    THREAD_LIMIT: '2',
    THREAD_LIMIT_ENFORCEMENT: 'process',
  })
  t.teardown(() => second.stop())
  const health = async () => (await (await request(`${second.url}/health`)).body.json()) as any
  await eventually(async () => (await health()).shard_map_state === 'broken', { what: 'frontend-2 shard-map broken' })
  const h = await health()
  t.match(h, { status: 'ok', thread_limit: 2, thread_limit_enforcement: 'process', shard_map_state: 'broken' })
  t.ok(h.threads > 2, 'the process has more threads than its limit')

  const client = new KinesisClient({
    endpoint: second.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' },
  })
  t.teardown(() => client.destroy())
  const put = await failure(client, new PutRecordsCommand({ StreamName: 'during-outage', Records: [{ PartitionKey: 'k', Data: Buffer.from('x') }] }))
  t.match(put, { name: 'InternalFailure', status: 500, message: /^shard-map construction failed/ })
  const shards = await client.send(new ListShardsCommand({ StreamName: 'during-outage' }))
  t.equal(shards.Shards?.length, 1, 'the control plane still answers from the cache')
})
