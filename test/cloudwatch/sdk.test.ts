// CloudWatch as a spawned process on a real, healthy Kinesis, driven by the stock SDK client:
// every operation, statistics computed from datapoints that really went through the stream, an
// alarm going OK -> ALARM whose HTTP actions reach a local server, and the Prometheus series.
import t from 'tap'
import http from 'node:http'
import { request } from 'undici'
import {
  PutMetricDataCommand,
  GetMetricStatisticsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  DescribeAlarmsCommand,
  CloudWatchClient,
} from '@aws-sdk/client-cloudwatch'
import { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { INTERNAL, spawnService } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { cloudWatchClient, failure, scratchDir, SPAWN, CREDENTIALS } from './helpers.js'
import { eventually } from '../helpers/eventually.js'

const STREAM = 'cw-sdk'

t.test('CloudWatch on a healthy Kinesis serves every operation to the stock SDK', { skip: kinesisOutageSkip }, async (t) => {
  const kinesis = await startKinesisOutage(t)
  const cw = await spawnService(
    'services/cloudwatch/main.js',
    {
      OUTAGE_LAB_WATCH_PARENT: '1',
      KINESIS_ENDPOINT: kinesis.endpoint,
      CLOUDWATCH_STREAM: STREAM,
      OUTAGE_LAB_DATA_DIR: scratchDir(t, 'sdk'),
      CONSUMER_POLL_MS: '100',
      ALARM_EVALUATION_INTERVAL_MS: '250',
    },
    SPAWN,
  )
  t.teardown(() => cw.stop())
  const client = cloudWatchClient(cw.url)
  await eventually(async () => ((await (await request(`${cw.url}/health`)).body.json()) as any).stream_ready === true, {
    what: 'the metric stream is ready',
    timeoutMs: 60_000,
    intervalMs: 100,
  })

  // Datapoints one minute in the past, at known seconds, so every statistic is predictable.
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000
  const at = (s: number) => new Date(minute + s * 1000)
  const web = [
    { Name: 'Service', Value: 'web' },
    { Name: 'AZ', Value: 'use1-az1' },
  ]
  await client.send(
    new PutMetricDataCommand({
      Namespace: 'Shop',
      MetricData: [
        { MetricName: 'Latency', Dimensions: web, Timestamp: at(5), Value: 40, Unit: 'Milliseconds' },
        { MetricName: 'Latency', Dimensions: [...web].reverse(), Timestamp: at(5), Values: [10, 30], Counts: [2, 1], Unit: 'Milliseconds' },
        {
          MetricName: 'Latency',
          Dimensions: web,
          Timestamp: at(20),
          StatisticValues: { SampleCount: 4, Sum: 400, Minimum: 5, Maximum: 250 },
          Unit: 'Milliseconds',
        },
        { MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'web' }], Timestamp: at(20), Value: 3, Unit: 'Count' },
        { MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'api' }], Timestamp: at(30), Value: 1, Unit: 'Count' },
      ],
    }),
  )

  const stats = (period: number) =>
    client.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Shop',
        MetricName: 'Latency',
        Dimensions: web,
        StartTime: at(0),
        EndTime: at(60),
        Period: period,
        Statistics: ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'],
        Unit: 'Milliseconds',
      }),
    )
  await eventually(async () => (await stats(60)).Datapoints?.[0]?.SampleCount === 8, {
    what: 'the consumer aggregated the datapoints',
    timeoutMs: 60_000,
    intervalMs: 100,
  })
  const whole = (await stats(60)).Datapoints!
  t.same(
    whole.map((d) => ({ ts: d.Timestamp?.getTime(), n: d.SampleCount, sum: d.Sum, avg: d.Average, min: d.Minimum, max: d.Maximum, unit: d.Unit })),
    [{ ts: at(0).getTime(), n: 8, sum: 40 + 50 + 400, avg: 490 / 8, min: 5, max: 250, unit: 'Milliseconds' }],
    'one period: Value, Values x Counts and StatisticValues aggregate together, whatever the dimension order',
  )
  const perTen = (await stats(10)).Datapoints!.sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime())
  t.same(
    perTen.map((d) => [d.Timestamp?.getTime(), d.SampleCount, d.Sum, d.Minimum, d.Maximum]),
    [
      [at(0).getTime(), 4, 90, 10, 40],
      [at(20).getTime(), 4, 400, 5, 250],
    ],
    '10-second periods: empty periods have no datapoint',
  )
  t.same(
    (
      await client.send(
        new GetMetricStatisticsCommand({
          Namespace: 'Shop',
          MetricName: 'Latency',
          Dimensions: web,
          StartTime: at(0),
          EndTime: at(60),
          Period: 60,
          Statistics: ['Sum'],
          Unit: 'Seconds',
        }),
      )
    ).Datapoints,
    [],
    'another unit matches nothing',
  )

  const data = await client.send(
    new GetMetricDataCommand({
      StartTime: at(0),
      EndTime: at(60),
      MaxDatapoints: 3,
      MetricDataQueries: [
        { Id: 'lat', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Latency', Dimensions: web }, Period: 10, Stat: 'Maximum' }, Label: 'p100' },
        {
          Id: 'err',
          MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'web' }] }, Period: 60, Stat: 'Sum' },
        },
        {
          Id: 'hidden',
          MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'api' }] }, Period: 60, Stat: 'Sum' },
          ReturnData: false,
        },
      ],
    }),
  )
  t.same(
    data.MetricDataResults?.map((r) => ({ id: r.Id, label: r.Label, ts: r.Timestamps?.map((d) => d.getTime()), values: r.Values, status: r.StatusCode })),
    [
      { id: 'lat', label: 'p100', ts: [at(20).getTime(), at(0).getTime()], values: [250, 40], status: 'Complete' },
      { id: 'err', label: 'Errors', ts: [at(0).getTime()], values: [3], status: 'Complete' },
    ],
    'newest first by default; ReturnData false leaves a query out',
  )
  const paged = await client.send(
    new GetMetricDataCommand({
      StartTime: at(0),
      EndTime: at(60),
      MaxDatapoints: 1,
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        { Id: 'lat', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Latency', Dimensions: web }, Period: 10, Stat: 'SampleCount' } },
      ],
    }),
  )
  t.same([paged.MetricDataResults?.[0].Values, paged.MetricDataResults?.[0].StatusCode], [[4], 'PartialData'])
  const next = await client.send(
    new GetMetricDataCommand({
      StartTime: at(0),
      EndTime: at(60),
      MaxDatapoints: 1,
      ScanBy: 'TimestampAscending',
      NextToken: paged.NextToken,
      MetricDataQueries: [
        { Id: 'lat', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Latency', Dimensions: web }, Period: 10, Stat: 'SampleCount' } },
      ],
    }),
  )
  t.same([next.MetricDataResults?.[0].Values, next.MetricDataResults?.[0].StatusCode, next.NextToken], [[4], 'Complete', undefined], 'NextToken pages on')

  const listed = await client.send(new ListMetricsCommand({ Namespace: 'Shop', Dimensions: [{ Name: 'Service' }] }))
  t.same(listed.Metrics?.map((m) => `${m.MetricName} ${m.Dimensions?.map((d) => `${d.Name}=${d.Value}`).join(',')}`).sort(), [
    'Errors Service=api',
    'Errors Service=web',
    'Latency AZ=use1-az1,Service=web',
  ])
  t.same((await client.send(new ListMetricsCommand({ MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'api' }] }))).Metrics?.length, 1)

  // The datapoints really travelled through Kinesis: read the stream back.
  const k = new KinesisClient({ endpoint: kinesis.endpoint, region: kinesis.region, credentials: kinesis.credentials, requestHandler: new NodeHttpHandler() })
  t.teardown(() => k.destroy())
  let shopDatapoints = 0
  for (const shard of (await k.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? []) {
    const it = await k.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    const got = await k.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1000 }))
    for (const r of got.Records ?? []) shopDatapoints += JSON.parse(Buffer.from(r.Data!).toString()).d.filter((d: any[]) => d[1] === 'Shop').length
  }
  t.equal(shopDatapoints, 5, 'one datapoint per datum on the stream')

  // An alarm on a live metric, with HTTP actions to a local receiver.
  const received: any[] = []
  const receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      received.push({ path: req.url, ...JSON.parse(body) })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  t.teardown(() => receiver.close())
  const hook = `http://127.0.0.1:${(receiver.address() as any).port}`
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-latency-high',
      Namespace: 'Live',
      MetricName: 'Latency',
      Dimensions: [{ Name: 'Service', Value: 'web' }],
      Statistic: 'Average',
      Period: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
      // A loaded machine can leave a 1-second period empty (consumer lag): keep the state then, so the
      // test sees exactly the two transitions it causes.
      TreatMissingData: 'ignore',
      AlarmActions: [`${hook}/alarm`, 'arn:aws:sns:us-east-1:000000000000:pager'],
      OKActions: [`${hook}/ok`],
    }),
  )
  const describe = async () => (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['web-latency-high'] }))).MetricAlarms![0]
  const created = await describe()
  t.match(created, {
    StateValue: 'INSUFFICIENT_DATA',
    StateReason: 'Unchecked: Initial alarm creation',
    Period: 1,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    TreatMissingData: 'ignore',
    Threshold: 100,
  })

  let value = 20
  let pumping = true
  const pump = (async () => {
    for (let i = 0; pumping && i < 300; i++) {
      // Kinesis is healthy, but a loaded machine may time a call out: the next one goes on.
      await client
        .send(
          new PutMetricDataCommand({
            Namespace: 'Live',
            MetricData: [{ MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }], Value: value }],
          }),
        )
        .catch(() => {})
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  t.teardown(() => {
    pumping = false
    return pump
  })
  await eventually(async () => (await describe()).StateValue === 'OK', { what: 'the alarm is OK', timeoutMs: 30_000, intervalMs: 100 })
  value = 500
  await eventually(async () => (await describe()).StateValue === 'ALARM', { what: 'the alarm is in ALARM', timeoutMs: 30_000, intervalMs: 100 })
  const alarmed = await describe()
  t.match(
    alarmed.StateReason,
    /^Threshold Crossed: 2 out of the last 2 datapoints \[500\.0 \(.*\] were greater than the threshold \(100\.0\) \(minimum 2 datapoints for OK -> ALARM transition\)\.$/,
  )
  t.ok(alarmed.StateUpdatedTimestamp! > created.StateUpdatedTimestamp!)
  t.same(
    (await client.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }))).MetricAlarms?.map((a) => a.AlarmName),
    ['web-latency-high'],
  )
  await eventually(() => received.some((r) => r.NewStateValue === 'ALARM'), { what: 'the ALARM action arrived', timeoutMs: 10_000, intervalMs: 100 })
  pumping = false
  await pump
  t.same(
    received.map((r) => [r.path, r.OldStateValue, r.NewStateValue]),
    [
      ['/ok', 'INSUFFICIENT_DATA', 'OK'],
      ['/alarm', 'OK', 'ALARM'],
    ],
  )
  t.match(received[1], {
    AlarmName: 'web-latency-high',
    AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-latency-high',
    Trigger: { MetricName: 'Latency', Namespace: 'Live', Threshold: 100, Period: 1 },
  })

  const metrics = await (await request(`${cw.url}/metrics`, { headers: INTERNAL })).body.text()
  const series = (name: string) =>
    Number(
      new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(
        metrics.replace(/,service="cloudwatch",instance="cloudwatch"/g, '').replace(/\{service="cloudwatch",instance="cloudwatch"\}/g, ''),
      )?.[1],
    )
  t.equal(series('cloudwatch_alarm_state{alarm="web-latency-high",state="ALARM"}'), 1)
  t.equal(series('cloudwatch_alarm_state{alarm="web-latency-high",state="OK"}'), 0)
  t.equal(series('cloudwatch_alarm_actions_total{outcome="delivered"}'), 2)
  t.equal(series('cloudwatch_alarm_actions_total{outcome="ignored"}'), 1, 'the SNS ARN is stored, not called')
  t.ok(series('cloudwatch_put_metric_data_total{outcome="ok"}') >= 3)
  t.ok(series('cloudwatch_datapoints_ingested_total{source="kinesis"}') >= 7)
  t.equal(series('cloudwatch_local_store_pending'), 0)

  t.same(
    await failure(
      new CloudWatchClient({ endpoint: cw.url, region: 'us-east-1', credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' }, maxAttempts: 1 }),
      new ListMetricsCommand({}),
    ),
    {
      name: 'InvalidSignatureException',
      code: 'InvalidSignatureException',
      status: 400,
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    },
    'a wrong secret is refused',
  )
})
