// CloudWatch as a real process on a real Kinesis, driven by the stock clients this machine has (the
// AWS CLI v1 and v2, boto3 under each Python), each with its own access key. Every client picks its
// wire protocol as its botocore does (botocore 1.4x: AWS JSON 1.0, its priority list puts json before
// the model's smithy-rpc-v2-cbor; the CLI v2 of Debian and boto3 1.26: awsQuery), and boto3 1.4x runs
// once more preferring RPC v2 CBOR; all must get the same service: puts that travel through Kinesis,
// statistics, metrics, alarms, CloudWatch's errors. The service counts each client's calls under its
// key and protocol. A client that is not installed is skipped, saying so.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { INTERNAL, spawnService } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'
import { startKinesis } from '../kinesis/sdk-topology.js'
import { scratchDir, SPAWN, CREDENTIALS } from './helpers.js'
import { stockClients, runClient, KIT_PROTOCOL, type StockClient } from '../kit/aws-clients.js'

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

const { found, missing } = await stockClients()
for (const why of missing) t.comment(`skipped: ${why}`)

/** Each client's own key: the service counts calls per key, as CloudTrail would. */
const keyOf = (i: number) => ({ accessKeyId: `AKIDCLIENT${i}`, secretAccessKey: `client-secret-${i}` })

/** What a client reads, whatever it is: statistics as numbers, times as epoch milliseconds. */
function datapoints(list: Array<Record<string, unknown>>) {
  return list.map((d) => ({
    at: typeof d.Timestamp === 'number' ? d.Timestamp * 1000 : Date.parse(String(d.Timestamp)),
    n: Number(d.SampleCount),
    sum: d.Sum === undefined ? undefined : Number(d.Sum),
    max: d.Maximum === undefined ? undefined : Number(d.Maximum),
  }))
}

// boto3's part: the same steps as the CLI's below, as one script; prints what it read as JSON.
const BOTO3 = `
import boto3, botocore, datetime, json, os, time
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, ns = os.environ['LAB_ENDPOINT'], os.environ['LAB_NAMESPACE']
at = datetime.datetime.fromtimestamp(int(os.environ['LAB_AT']), datetime.timezone.utc)
config = Config(retries={'max_attempts': 1})
cw = boto3.client('cloudwatch', endpoint_url=endpoint, config=config)
web = [{'Name': 'Service', 'Value': 'web'}]
out = {}
cw.put_metric_data(Namespace=ns, MetricData=[
    {'MetricName': 'Latency', 'Dimensions': web, 'Timestamp': at, 'Value': 40, 'Unit': 'Milliseconds'},
    {'MetricName': 'Latency', 'Dimensions': web, 'Timestamp': at, 'Values': [10, 30], 'Counts': [2, 1], 'Unit': 'Milliseconds'}])
cw.put_metric_data(Namespace=ns, MetricData=[{'MetricName': 'Bulk', 'Timestamp': at, 'Value': i, 'Unit': 'Count'} for i in range(1000)])
def stats(name, unit):
    return cw.get_metric_statistics(Namespace=ns, MetricName=name, Dimensions=web if name == 'Latency' else [],
        StartTime=at - datetime.timedelta(minutes=1), EndTime=at + datetime.timedelta(minutes=1), Period=60,
        Statistics=['SampleCount', 'Sum', 'Maximum'], Unit=unit)['Datapoints']
deadline = time.time() + 90
while True:
    latency, bulk = stats('Latency', 'Milliseconds'), stats('Bulk', 'Count')
    if (latency and latency[0]['SampleCount'] == 4 and bulk and bulk[0]['SampleCount'] == 1000) or time.time() > deadline:
        break
    time.sleep(0.5)
iso = lambda ds: [{k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in d.items()} for d in ds]
out['latency'], out['bulk'] = iso(latency), iso(bulk)
out['metrics'] = cw.list_metrics(Namespace=ns)['Metrics']
cw.put_metric_alarm(AlarmName=ns + '-high', Namespace=ns, MetricName='Quiet', Dimensions=web, Statistic='Average', Period=60,
    EvaluationPeriods=1, Threshold=100.5, ComparisonOperator='GreaterThanThreshold')
alarm = cw.describe_alarms(AlarmNames=[ns + '-high'])['MetricAlarms'][0]
out['alarm'] = {'name': alarm['AlarmName'], 'state': alarm['StateValue'], 'threshold': alarm['Threshold'],
    'times': all(isinstance(alarm[k], datetime.datetime) for k in ('StateUpdatedTimestamp', 'AlarmConfigurationUpdatedTimestamp'))}
def error(call):
    try:
        call()
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Message']]
out['reserved'] = error(lambda: cw.put_metric_data(Namespace='AWS/EC2', MetricData=[{'MetricName': 'm', 'Value': 1}]))
wrong = boto3.client('cloudwatch', endpoint_url=endpoint, config=config, aws_access_key_id=os.environ['AWS_ACCESS_KEY_ID'], aws_secret_access_key='wrong')
out['wrong_secret'] = error(lambda: wrong.list_metrics())
print(json.dumps(out))
`

t.test(
  'CloudWatch on a real Kinesis serves every stock client here, each in the protocol its botocore picks',
  { skip: found.length ? false : missing.join('; ') },
  async (t) => {
    const keys = found.map((_, i) => keyOf(i))
    const credentials = [CREDENTIALS, ...keys].map((k) => `${k.accessKeyId}:${k.secretAccessKey}`).join(',')
    const kinesis = await startKinesis(t)
    const cw = await spawnService(
      'services/cloudwatch/main.js',
      {
        OUTAGE_LAB_WATCH_PARENT: '1',
        KINESIS_ENDPOINT: kinesis.frontend.url,
        CLOUDWATCH_STREAM: 'cw-clients',
        CLOUDWATCH_STREAM_SHARDS: '1',
        OUTAGE_LAB_DATA_DIR: scratchDir(t, 'clients'),
        // The first pair signs CloudWatch's own calls to Kinesis.
        OUTAGE_LAB_CREDENTIALS: credentials,
        CONSUMER_POLL_MS: '100',
      },
      SPAWN,
    )
    t.teardown(() => cw.stop())
    await eventually(async () => ((await (await request(`${cw.url}/health`)).body.json()) as any).stream_ready === true, {
      what: 'the metric stream is ready',
      timeoutMs: 60_000,
      intervalMs: 200,
    })
    const at = Math.floor(Date.now() / 60_000) * 60 - 60
    const bulkFile = path.join(scratchDir(t, 'bulk'), 'bulk.json')
    fs.writeFileSync(bulkFile, JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ MetricName: 'Bulk', Timestamp: at, Value: i, Unit: 'Count' }))))

    for (const [i, client] of found.entries()) {
      const key = keys[i]
      const ns = `Lab/client-${i}`
      const expected = KIT_PROTOCOL[client.protocols.cloudwatch]
      await t.test(`${client.name}: ${expected}`, async (t) => {
        const read = client.kind === 'boto3' ? await viaBoto3(client, key, cw.url, ns, at) : await viaCli(client, key, cw.url, ns, at, bulkFile)
        t.same(datapoints(read.latency), [{ at: at * 1000, n: 4, sum: 90, max: 40 }], 'Value and Values x Counts aggregate through Kinesis')
        t.same(
          datapoints(read.bulk),
          [{ at: at * 1000, n: 1000, sum: 499500, max: 999 }],
          'all 1000 datapoints of a large (compressed, where the client compresses) put',
        )
        t.same(read.metrics.map((m: any) => `${m.MetricName} ${(m.Dimensions ?? []).map((d: any) => `${d.Name}=${d.Value}`).join(',')}`).sort(), [
          'Bulk ',
          'Latency Service=web',
        ])
        // On a metric nobody puts: it stays INSUFFICIENT_DATA whenever the loop evaluates it.
        t.same(read.alarm, { name: `${ns}-high`, state: 'INSUFFICIENT_DATA', threshold: 100.5, times: true })
        t.same(
          read.reserved,
          { code: 'InvalidParameterValue', message: 'The value AWS/EC2 for parameter Namespace is invalid.', ...(read.reserved.status ? { status: 400 } : {}) },
          "CloudWatch's Query code in every protocol",
        )
        const refused = expected === 'awsQuery' ? { code: 'SignatureDoesNotMatch', status: 403 } : { code: 'InvalidSignatureException', status: 400 }
        t.same(
          read.wrongSecret,
          { code: refused.code, message: MISMATCH, ...(read.wrongSecret.status ? { status: refused.status } : {}) },
          'a wrong secret is refused as the protocol answers it (the CLI prints no status: boto3 checks it)',
        )
      })
    }

    // Every call counted under its client's key, in the protocol its model picked, and only that one.
    const metrics = await (await request(`${cw.url}/metrics`, { headers: INTERNAL })).body.text()
    for (const [i, client] of found.entries()) {
      const rows = [
        ...metrics.matchAll(
          new RegExp(`^lab_caller_calls_total\\{caller="${keyOf(i).accessKeyId}",operation="(\\w+)",protocol="(\\w+)",outcome="(\\w+)"[^}]*\\} (\\d+)$`, 'gm'),
        ),
      ]
      const protocols = new Set(rows.map((r) => r[2]))
      t.same([...protocols], [KIT_PROTOCOL[client.protocols.cloudwatch]], `${client.name}: one protocol, the one its botocore picks`)
      const count = (operation: string, outcome: string) => rows.filter((r) => r[1] === operation && r[3] === outcome).reduce((n, r) => n + Number(r[4]), 0)
      t.equal(count('PutMetricData', 'ok'), 2, `${client.name}: two puts`)
      t.equal(count('PutMetricData', 'client_error'), 1, `${client.name}: one refused put`)
      t.equal(count('ListMetrics', 'client_error'), 1, `${client.name}: the wrong secret's call, still under its key`)
      t.ok(count('GetMetricStatistics', 'ok') >= 2, `${client.name}: statistics read`)
    }
  },
)

interface Read {
  latency: Array<Record<string, unknown>>
  bulk: Array<Record<string, unknown>>
  metrics: any[]
  alarm: unknown
  reserved: Failure
  wrongSecret: Failure
}

interface Failure {
  code: string
  message: string
  status?: number
}

async function viaBoto3(client: StockClient, key: { accessKeyId: string; secretAccessKey: string }, endpoint: string, ns: string, at: number): Promise<Read> {
  const ran = await runClient(client, [BOTO3], key, { env: { LAB_ENDPOINT: endpoint, LAB_NAMESPACE: ns, LAB_AT: String(at) }, timeoutMs: 300_000 })
  if (ran.code !== 0) throw new Error(`boto3 failed (${ran.code}): ${ran.stderr}`)
  const out = ran.json()
  const failure = ([code, status, message]: [string, number, string]): Failure => ({ code, status, message })
  return { ...out, reserved: failure(out.reserved), wrongSecret: failure(out.wrong_secret) }
}

async function viaCli(
  client: StockClient,
  key: { accessKeyId: string; secretAccessKey: string },
  endpoint: string,
  ns: string,
  at: number,
  bulkFile: string,
): Promise<Read> {
  const aws = async (args: string[], k = key) => {
    const ran = await runClient(client, ['--endpoint-url', endpoint, '--output', 'json', 'cloudwatch', ...args], k)
    return ran
  }
  const ok = async (args: string[]) => {
    const ran = await aws(args)
    if (ran.code !== 0) throw new Error(`aws cloudwatch ${args[0]} failed (${ran.code}): ${ran.stderr}`)
    return ran.stdout.trim() ? ran.json() : {}
  }
  const failed = async (args: string[], k = key): Promise<Failure> => {
    const ran = await aws(args, k)
    // "An error occurred (Code) when calling the Op operation: message"; the CLI does not print the status.
    const m = /An error occurred \((\w+)\) when calling the \w+ operation(?: \(reached max retries: \d+\))?: (.*)/.exec(ran.stderr)
    if (!m || ran.code === 0) throw new Error(`expected an AWS error, got exit ${ran.code}: ${ran.stderr}`)
    return { code: m[1], message: m[2].trim() }
  }
  const web = ['--dimensions', 'Name=Service,Value=web']
  const iso = new Date(at * 1000).toISOString()
  await ok([
    'put-metric-data',
    '--namespace',
    ns,
    '--metric-data',
    JSON.stringify([
      { MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }], Timestamp: iso, Value: 40, Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }], Timestamp: iso, Values: [10, 30], Counts: [2, 1], Unit: 'Milliseconds' },
    ]),
  ])
  await ok(['put-metric-data', '--namespace', ns, '--metric-data', `file://${bulkFile}`])
  const window = ['--start-time', new Date((at - 60) * 1000).toISOString(), '--end-time', new Date((at + 60) * 1000).toISOString(), '--period', '60']
  const stats = (name: string, unit: string, dims: string[]) =>
    ok(['get-metric-statistics', '--namespace', ns, '--metric-name', name, ...dims, ...window, '--statistics', 'SampleCount', 'Sum', 'Maximum', '--unit', unit])
  let latency: any
  let bulk: any
  await eventually(
    async () => {
      latency = await stats('Latency', 'Milliseconds', web)
      bulk = await stats('Bulk', 'Count', [])
      return Number(latency.Datapoints?.[0]?.SampleCount) === 4 && Number(bulk.Datapoints?.[0]?.SampleCount) === 1000
    },
    { what: 'the datapoints went through Kinesis', timeoutMs: 90_000, intervalMs: 500 },
  )
  const metrics = (await ok(['list-metrics', '--namespace', ns])).Metrics
  await ok([
    'put-metric-alarm',
    '--alarm-name',
    `${ns}-high`,
    '--namespace',
    ns,
    '--metric-name',
    'Quiet',
    ...web,
    '--statistic',
    'Average',
    '--period',
    '60',
    '--evaluation-periods',
    '1',
    '--threshold',
    '100.5',
    '--comparison-operator',
    'GreaterThanThreshold',
  ])
  const alarm = (await ok(['describe-alarms', '--alarm-names', `${ns}-high`])).MetricAlarms[0]
  // The CLI prints times as it got them (v1's default is the wire form: epoch seconds from CBOR).
  const isTime = (v: unknown) => (typeof v === 'number' && v > 1e9) || (typeof v === 'string' && Number.isFinite(Date.parse(v)))
  return {
    latency: latency.Datapoints,
    bulk: bulk.Datapoints,
    metrics,
    alarm: {
      name: alarm.AlarmName,
      state: alarm.StateValue,
      threshold: alarm.Threshold,
      times: isTime(alarm.StateUpdatedTimestamp) && isTime(alarm.AlarmConfigurationUpdatedTimestamp),
    },
    reserved: await failed(['put-metric-data', '--namespace', 'AWS/EC2', '--metric-name', 'm', '--value', '1']),
    wrongSecret: await failed(['list-metrics'], { ...key, secretAccessKey: 'wrong' }),
  }
}
