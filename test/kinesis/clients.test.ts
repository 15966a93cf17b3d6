// A real Kinesis (metadata, two back-ends, a front-end) driven by the stock Python clients this
// machine has: the AWS CLI v1 and v2 and boto3, each with its own access key. botocore speaks JSON
// 1.1 to Kinesis in every version; the CBOR 1.1 of the Java SDKs is covered by cbor.test.ts with
// requests shaped as the Java SDK writes them (no Java SDK is installed here). The front-end counts
// each client's calls under its key.
import t from 'tap'
import { request } from 'undici'
import { startKinesis } from './sdk-topology.js'
import { CREDENTIALS, INTERNAL } from '../helpers/spawn.js'
import { stockClients, runClient, KIT_PROTOCOL, type StockClient } from '../kit/aws-clients.js'

const { found, missing } = await stockClients()
for (const why of missing) t.comment(`skipped: ${why}`)
t.comment('skipped: the AWS SDK for Java (CBOR 1.1) is not installed here; cbor.test.ts sends what it sends')

// One client per botocore is enough for Kinesis: the "preferring CBOR" run changes nothing here.
const clients = found.filter((c) => !c.prefer)
const keyOf = (i: number) => ({ accessKeyId: `AKIDKCLIENT${i}`, secretAccessKey: `kinesis-client-secret-${i}` })

const BOTO3 = `
import boto3, base64, json, os
from botocore.config import Config
from botocore.exceptions import ClientError
k = boto3.client('kinesis', endpoint_url=os.environ['LAB_ENDPOINT'], config=Config(retries={'max_attempts': 1}))
name = os.environ['LAB_STREAM']
k.create_stream(StreamName=name, ShardCount=1)
k.get_waiter('stream_exists').wait(StreamName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
put = k.put_record(StreamName=name, PartitionKey='k', Data=bytes([0, 1, 2, 255]) + b'payload')
it = k.get_shard_iterator(StreamName=name, ShardId=put['ShardId'], ShardIteratorType='TRIM_HORIZON')['ShardIterator']
got = k.get_records(ShardIterator=it)
summary = k.describe_stream_summary(StreamName=name)['StreamDescriptionSummary']
def error(call):
    try:
        call()
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'message': e.response['Error']['Message']}
print(json.dumps({
    'shard': put['ShardId'],
    'records': [base64.b64encode(r['Data']).decode() for r in got['Records']],
    'keys': [r['PartitionKey'] for r in got['Records']],
    'arrivalIsTime': all(hasattr(r['ApproximateArrivalTimestamp'], 'timestamp') for r in got['Records']),
    'status': summary['StreamStatus'],
    'missing': error(lambda: k.describe_stream_summary(StreamName='missing')),
}))
`

const PAYLOAD = Buffer.concat([Buffer.from([0, 1, 2, 255]), Buffer.from('payload')])

t.test(
  'the stock Python clients here against a real Kinesis: streams, records in and out, its errors',
  { skip: clients.length ? false : missing.join('; ') },
  async (t) => {
    const keys = clients.map((_, i) => keyOf(i))
    const kinesis = await startKinesis(t, {
      frontendEnv: { OUTAGE_LAB_CREDENTIALS: [CREDENTIALS, ...keys].map((k) => `${k.accessKeyId}:${k.secretAccessKey}`).join(',') },
    })
    for (const [i, client] of clients.entries()) {
      await t.test(`${client.name}: ${KIT_PROTOCOL[client.protocols.kinesis]}`, async (t) => {
        const stream = `stock-${i}`
        const read =
          client.kind === 'boto3' ? await viaBoto3(client, keys[i], kinesis.frontend.url, stream) : await viaCli(client, keys[i], kinesis.frontend.url, stream)
        t.same(read.records, [read.put.toString('base64')], 'the bytes put are the bytes read')
        t.same(read.keys, ['k'])
        t.equal(read.arrivalIsTime, true, 'ApproximateArrivalTimestamp parses as a time')
        t.equal(read.status, 'ACTIVE')
        t.match(read.missing, { code: 'ResourceNotFoundException', message: 'Stream missing under account 000000000000 not found.' })
        if (read.missing.status !== undefined) t.equal(read.missing.status, 400)
      })
    }
    const metrics = await (await request(`${kinesis.frontend.url}/metrics`, { headers: INTERNAL })).body.text()
    for (const [i, client] of clients.entries()) {
      const rows = [
        ...metrics.matchAll(
          new RegExp(`^lab_caller_calls_total\\{caller="${keyOf(i).accessKeyId}",operation="(\\w+)",protocol="(\\w+)",outcome="(\\w+)"[^}]*\\} (\\d+)$`, 'gm'),
        ),
      ]
      t.same([...new Set(rows.map((r) => r[2]))], [KIT_PROTOCOL[client.protocols.kinesis]], `${client.name}: counted under its key, in its protocol`)
      t.ok(
        rows.some((r) => r[1] === 'PutRecord' && r[3] === 'ok'),
        `${client.name}: its PutRecord`,
      )
      t.ok(
        rows.some((r) => r[1] === 'DescribeStreamSummary' && r[3] === 'client_error'),
        `${client.name}: its refused call`,
      )
    }
  },
)

interface Read {
  /** What the client put. */
  put: Buffer
  records: string[]
  keys: string[]
  arrivalIsTime: boolean
  status: string
  missing: { code: string; message: string; status?: number }
}

async function viaBoto3(client: StockClient, key: { accessKeyId: string; secretAccessKey: string }, endpoint: string, stream: string): Promise<Read> {
  const ran = await runClient(client, [BOTO3], key, { env: { LAB_ENDPOINT: endpoint, LAB_STREAM: stream }, timeoutMs: 300_000 })
  if (ran.code !== 0) throw new Error(`boto3 failed (${ran.code}): ${ran.stderr}`)
  return { ...ran.json(), put: PAYLOAD }
}

async function viaCli(client: StockClient, key: { accessKeyId: string; secretAccessKey: string }, endpoint: string, stream: string): Promise<Read> {
  const aws = (args: string[]) => runClient(client, ['--endpoint-url', endpoint, '--output', 'json', 'kinesis', ...args], key)
  const ok = async (args: string[]) => {
    const ran = await aws(args)
    if (ran.code !== 0) throw new Error(`aws kinesis ${args[0]} failed (${ran.code}): ${ran.stderr}`)
    return ran.stdout.trim() ? ran.json() : {}
  }
  await ok(['create-stream', '--stream-name', stream, '--shard-count', '1'])
  await ok(['wait', 'stream-exists', '--stream-name', stream])
  // Blob arguments: the CLI v2 reads base64 (its default cli_binary_format), so any bytes; the CLI v1
  // takes the argument's text as the bytes, and no argument carries a NUL.
  const v1 = client.name.startsWith('AWS CLI 1.')
  const bytes = v1 ? Buffer.from('payload') : PAYLOAD
  const put = await ok(['put-record', '--stream-name', stream, '--partition-key', 'k', '--data', v1 ? 'payload' : PAYLOAD.toString('base64')])
  const it = await ok(['get-shard-iterator', '--stream-name', stream, '--shard-id', put.ShardId, '--shard-iterator-type', 'TRIM_HORIZON'])
  const got = await ok(['get-records', '--shard-iterator', it.ShardIterator])
  const summary = await ok(['describe-stream-summary', '--stream-name', stream])
  const missingRun = await aws(['describe-stream-summary', '--stream-name', 'missing'])
  const m = /An error occurred \((\w+)\) when calling the \w+ operation(?: \(reached max retries: \d+\))?: (.*)/.exec(missingRun.stderr)
  return {
    put: bytes,
    records: got.Records.map((r: any) => r.Data),
    keys: got.Records.map((r: any) => r.PartitionKey),
    arrivalIsTime: got.Records.every((r: any) =>
      typeof r.ApproximateArrivalTimestamp === 'number' ? r.ApproximateArrivalTimestamp > 1e9 : Number.isFinite(Date.parse(r.ApproximateArrivalTimestamp)),
    ),
    status: summary.StreamDescriptionSummary.StreamStatus,
    missing: m ? { code: m[1], message: m[2].trim() } : { code: String(missingRun.code), message: missingRun.stderr },
  }
}
