// The front-end's CBOR 1.1 protocol, driven by requests shaped as the Java SDK v2 and the KCL write
// them (java-cbor.ts says where each detail comes from), signed by the real signer and answered
// through inject(). Storage and the shard-map are the doubles of frontend.test.ts. The same calls in
// JSON 1.1 must give the same results: one implementation behind both protocols.
import t from 'tap'
import { Decoder } from 'cbor-x'
import { buildApp } from '../../services/kinesis/frontend/app.js'
import { KEYS, ShardMapDouble, StorageDouble } from './frontend-doubles.js'
import { javaArray, javaInstant, javaObject, javaRequest, Encoded } from './java-cbor.js'
import { signed, CREDENTIALS } from '../kit/signing.js'
import { internalHeaders } from '../../services/kit/internal.js'

// 64-bit integers as numbers, as a JSON client would read them (cbor-x's int64AsNumber).
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as any)
const MiB = 1024 * 1024

async function setup(t: Tap.Test) {
  const storage = await new StorageDouble('backend-0').start()
  t.teardown(() => storage.close())
  const shardMap = new ShardMapDouble()
  shardMap.backends.set(storage.owner, storage.url)
  shardMap.source = () => [...storage.streams.values()]
  const app = buildApp({ shardMap, keys: KEYS, metadataUrl: storage.url, throttle: false, logger: false })
  t.teardown(() => app.close())
  /** A Java SDK call: CBOR in, CBOR out (decoded; cbor-x reads tag 1 as a Date of value * 1000 ms). */
  const java = async (operation: string, body: Encoded, opts: { credentials?: typeof CREDENTIALS } = {}) => {
    const res = await app.inject(await signed({ ...javaRequest(operation, body), service: 'kinesis', credentials: opts.credentials }))
    return { status: res.statusCode, headers: res.headers, raw: res.rawPayload, body: res.rawPayload.length ? decoder.decode(res.rawPayload) : undefined }
  }
  const json = async (operation: string, body: unknown) => {
    const res = await app.inject(
      await signed({
        service: 'kinesis',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Kinesis_20131202.${operation}` },
        body: JSON.stringify(body),
      }),
    )
    return { status: res.statusCode, body: res.json() }
  }
  return { app, storage, java, json }
}

/** An awsCbor timestamp as the Java SDK reads it: tag 1 over epoch milliseconds. */
const millisOf = (d: unknown) => (d as Date).getTime() / 1000

t.test('the Java SDK in CBOR: CreateStream, PutRecord(s), GetShardIterator AT_TIMESTAMP, GetRecords, with bytes and times in CBOR form', async (t) => {
  const { java, json } = await setup(t)
  const created = await java(
    'CreateStream',
    javaObject([
      ['StreamName', 'orders'],
      ['ShardCount', 2],
    ]),
  )
  t.equal(created.status, 200)
  t.equal(created.headers['content-type'], 'application/x-amz-cbor-1.1')

  const startedMs = Date.now() - 1_000
  const one = await java(
    'PutRecord',
    javaObject([
      ['StreamName', 'orders'],
      ['Data', Buffer.from([0, 1, 2, 255])],
      ['PartitionKey', 'user-1'],
    ]),
  )
  t.equal(one.status, 200)
  t.match(one.body, { ShardId: /^shardId-00000000000[01]$/, SequenceNumber: /^\d+$/, EncryptionType: 'NONE' })
  const batch = await java(
    'PutRecords',
    javaObject([
      [
        'Records',
        javaArray([
          javaObject([
            ['Data', Buffer.from('second')],
            ['PartitionKey', 'user-1'],
          ]),
          javaObject([
            ['Data', Buffer.from('third')],
            ['ExplicitHashKey', '0'],
            ['PartitionKey', 'anything'],
          ]),
        ]),
      ],
      ['StreamName', 'orders'],
    ]),
  )
  t.strictSame(
    { failed: batch.body.FailedRecordCount, count: batch.body.Records.length, shard: batch.body.Records[1].ShardId },
    { failed: 0, count: 2, shard: 'shardId-000000000000' },
  )

  const iterator = await java(
    'GetShardIterator',
    javaObject([
      ['StreamName', 'orders'],
      ['ShardId', one.body.ShardId],
      ['ShardIteratorType', 'AT_TIMESTAMP'],
      ['Timestamp', javaInstant(startedMs)],
    ]),
  )
  t.equal(iterator.status, 200, 'a tag-1 timestamp over epoch milliseconds is read as that instant')
  const got = await java('GetRecords', javaObject([['ShardIterator', iterator.body.ShardIterator]]))
  t.equal(got.status, 200)
  const first = got.body.Records[0]
  t.strictSame(first.Data, Buffer.from([0, 1, 2, 255]), 'Data comes back as a byte string')
  t.equal(first.PartitionKey, 'user-1')
  t.equal(first.SequenceNumber, one.body.SequenceNumber)
  const arrival = millisOf(first.ApproximateArrivalTimestamp)
  t.ok(Number.isInteger(arrival) && arrival >= startedMs && arrival <= Date.now(), 'ApproximateArrivalTimestamp: tag 1 over integer epoch milliseconds')
  const tagAt = got.raw.indexOf(Buffer.from([0xc1]))
  t.equal(got.raw[tagAt + 1], 0x1b, 'an 8-byte integer, not a float: the Java SDK reads it with Long.parseLong')
  t.type(got.body.NextShardIterator, 'string')
  t.equal(got.body.MillisBehindLatest, 0)

  // The same read in JSON gives the same records.
  const viaJson = await json('GetRecords', { ShardIterator: iterator.body.ShardIterator })
  t.strictSame(
    viaJson.body.Records.map((r: any) => [Buffer.from(r.Data, 'base64'), r.PartitionKey, r.SequenceNumber, Math.round(r.ApproximateArrivalTimestamp * 1000)]),
    got.body.Records.map((r: any) => [r.Data, r.PartitionKey, r.SequenceNumber, millisOf(r.ApproximateArrivalTimestamp)]),
    'JSON 1.1 reads the same records, times and bytes',
  )
})

t.test('stream descriptions carry StreamCreationTimestamp as tag 1 over epoch milliseconds, the rest as in JSON', async (t) => {
  const { java, json } = await setup(t)
  await json('CreateStream', { StreamName: 'described', ShardCount: 3 })
  const summary = await java('DescribeStreamSummary', javaObject([['StreamName', 'described']]))
  const inJson = await json('DescribeStreamSummary', { StreamName: 'described' })
  const c = summary.body.StreamDescriptionSummary
  t.equal(millisOf(c.StreamCreationTimestamp), inJson.body.StreamDescriptionSummary.StreamCreationTimestamp * 1000)
  t.strictSame({ ...c, StreamCreationTimestamp: 0 }, { ...inJson.body.StreamDescriptionSummary, StreamCreationTimestamp: 0 })
  const listed = await java('ListStreams', javaObject([]))
  t.strictSame(listed.body.StreamNames, ['described'])
  t.equal(millisOf(listed.body.StreamSummaries[0].StreamCreationTimestamp), inJson.body.StreamDescriptionSummary.StreamCreationTimestamp * 1000)
  const shards = await java(
    'ListShards',
    javaObject([
      ['StreamName', 'described'],
      ['MaxResults', 2],
    ]),
  )
  const page = (await json('ListShards', { StreamName: 'described', MaxResults: 2 })).body
  t.strictSame(shards.body.Shards, page.Shards, 'ListShards: the same page')
  t.type(shards.body.NextToken, 'string', 'and a token for the next (its own: tokens carry the time they were made)')
})

t.test("errors: Kinesis's types, messages and statuses as CBOR maps {__type, message}", async (t) => {
  const { java, json } = await setup(t)
  await json('CreateStream', { StreamName: 'errs', ShardCount: 1 })
  const cases: Array<[string, string, Encoded, number, string, string | RegExp]> = [
    [
      'a stream that does not exist',
      'DescribeStreamSummary',
      javaObject([['StreamName', 'missing']]),
      400,
      'ResourceNotFoundException',
      'Stream missing under account 000000000000 not found.',
    ],
    [
      'a record over 1 MiB',
      'PutRecord',
      javaObject([
        ['StreamName', 'errs'],
        ['Data', Buffer.alloc(MiB + 1)],
        ['PartitionKey', 'k'],
      ]),
      400,
      'ValidationException',
      `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${MiB + 1} cap=${MiB + 1}]' at 'data' failed to satisfy constraint: Member must have length less than or equal to ${MiB}`,
    ],
    ['a garbled iterator', 'GetRecords', javaObject([['ShardIterator', 'garbage']]), 400, 'InvalidArgumentException', 'Invalid ShardIterator.'],
    [
      'a Limit that is not a number (a NaN float, which JSON cannot send)',
      'GetRecords',
      javaObject([
        ['ShardIterator', 'garbage'],
        ['Limit', NaN],
      ]),
      400,
      'SerializationException',
      'NaN can not be converted to an Integer',
    ],
    [
      'an operation Kinesis does not have here',
      'SplitShard',
      javaObject([]),
      400,
      'UnknownOperationException',
      'Unknown operation Kinesis_20131202.SplitShard',
    ],
    [
      'a body that is not CBOR',
      'ListStreams',
      new Encoded(Buffer.from('{"Limit": 1}')),
      400,
      'SerializationException',
      /^The request body is not valid CBOR: /,
    ],
  ]
  for (const [what, op, body, status, type, message] of cases) {
    const res = await java(op, body)
    t.equal(res.status, status, `${what}: status`)
    t.equal(res.headers['x-amzn-errortype'], type, `${what}: x-amzn-errortype`)
    t.equal(res.headers['content-type'], 'application/x-amz-cbor-1.1', `${what}: content type`)
    t.match(res.body, { __type: type, message }, `${what}: body`)
    t.strictSame(Object.keys(res.body).sort(), ['__type', 'message'], `${what}: nothing else in the map`)
  }
  const wrong = await java('ListStreams', javaObject([]), { credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } })
  t.equal(wrong.status, 400)
  t.equal(wrong.body.__type, 'InvalidSignatureException')
  t.match(wrong.body.message, /^The request signature we calculated does not match/)
  const stranger = await java('ListStreams', javaObject([]), { credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' } })
  t.strictSame(stranger.body, { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
})

t.test('the same PutRecords entry failures in CBOR as in JSON: a partial failure is per entry, in order', async (t) => {
  const { storage, java, json } = await setup(t)
  await json('CreateStream', { StreamName: 'partial', ShardCount: 1 })
  await storage.close()
  const viaCbor = await java(
    'PutRecords',
    javaObject([
      [
        'Records',
        javaArray([
          javaObject([
            ['Data', Buffer.from('a')],
            ['PartitionKey', 'k'],
          ]),
        ]),
      ],
      ['StreamName', 'partial'],
    ]),
  )
  const viaJson = await json('PutRecords', { StreamName: 'partial', Records: [{ Data: Buffer.from('a').toString('base64'), PartitionKey: 'k' }] })
  t.equal(viaCbor.status, 200)
  t.strictSame(viaCbor.body, viaJson.body)
  t.strictSame(viaCbor.body, {
    FailedRecordCount: 1,
    Records: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }],
    EncryptionType: 'NONE',
  })
})

t.test('calls are counted per caller and protocol in the front-end too', async (t) => {
  const { app, java, json } = await setup(t)
  await java('ListStreams', javaObject([]))
  await json('ListStreams', {})
  const text = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(text, /lab_caller_calls_total\{caller="AKIDOUTAGELAB",operation="ListStreams",protocol="awsCbor",outcome="ok"[^}]*\} 1/)
  t.match(text, /lab_caller_calls_total\{caller="AKIDOUTAGELAB",operation="ListStreams",protocol="awsJson",outcome="ok"[^}]*\} 1/)
  t.match(text, /kinesis_frontend_requests_total\{operation="ListStreams",status="200",error=""[^}]*\} 2/)
})
