// The CloudWatch API through the stock SDK wired into inject(): the wire protocol (JSON 1.0,
// query-compatible error codes, gzip-compressed PutMetricData) and the error shapes for bad input.
// Kinesis here is a port nobody listens on, so ingestion fails the way a dead Kinesis fails.
import t from 'tap'
import path from 'node:path'
import {
  PutMetricDataCommand,
  GetMetricStatisticsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch'
import { buildApp, type CloudWatchDeps } from '../../services/cloudwatch/app.js'
import { createKinesisClient } from '../../services/cloudwatch/kinesis.js'
import { LocalStore } from '../../services/cloudwatch/local-store.js'
import { injectedClient, failure, CREDENTIALS } from './helpers.js'
import { internalHeaders } from '../../services/kit/internal.js'

const DEAD_KINESIS = 'http://127.0.0.1:1'

function deps(over: Partial<CloudWatchDeps> = {}): CloudWatchDeps {
  return {
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    kinesis: createKinesisClient({ endpoint: DEAD_KINESIS, credentials: CREDENTIALS, timeoutMs: 1_000, maxAttempts: 1 }),
    stream: 'cloudwatch-metrics',
    streamShards: 1,
    retentionMs: 3 * 3600_000,
    consumerPollMs: 250,
    alarmEvaluationIntervalMs: 1_000,
    streamRetryMs: 1_000,
    shipRetryMs: 1_000,
    shipBatch: 1_000,
    actionHosts: new Set(['127.0.0.1', 'localhost']),
    actionTimeoutMs: 1_000,
    actionRetries: 0,
    logger: false,
    ...over,
  }
}

t.test('bad input gets the error shape, Query code, status and message CloudWatch uses', async (t) => {
  const app = buildApp(deps())
  t.teardown(() => app.close())
  const cw = injectedClient(app)
  const now = new Date()
  const cases: Array<[string, any, { name: string; code: string; status: number; message: string }]> = [
    [
      'reserved namespace',
      new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: [{ MetricName: 'm', Value: 1 }] }),
      { name: 'InvalidParameterValueException', code: 'InvalidParameterValue', status: 400, message: 'The value AWS/EC2 for parameter Namespace is invalid.' },
    ],
    [
      'no namespace',
      new PutMetricDataCommand({ MetricData: [{ MetricName: 'm', Value: 1 }] } as any),
      { name: 'MissingRequiredParameterException', code: 'MissingParameter', status: 400, message: 'The parameter Namespace is required.' },
    ],
    [
      'no metric data',
      new PutMetricDataCommand({ Namespace: 'App', MetricData: [] }),
      { name: 'MissingRequiredParameterException', code: 'MissingParameter', status: 400, message: 'The parameter MetricData is required.' },
    ],
    [
      'Value and StatisticValues',
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [{ MetricName: 'm', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } }],
      }),
      {
        name: 'InvalidParameterCombinationException',
        code: 'InvalidParameterCombination',
        status: 400,
        message: 'The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.',
      },
    ],
    [
      'a datum without a value',
      new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'm', Value: 1 }, { MetricName: 'm' }] }),
      {
        name: 'MissingRequiredParameterException',
        code: 'MissingParameter',
        status: 400,
        message:
          'At least one of the parameters MetricData.member.2.Value, MetricData.member.2.Values or MetricData.member.2.StatisticValues must be specified.',
      },
    ],
    [
      'Values and Counts of different lengths',
      new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'm', Values: [1, 2], Counts: [1] }] }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message: 'The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be arrays of the same length.',
      },
    ],
    [
      'an unknown unit',
      new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'm', Value: 1, Unit: 'Furlongs' as any }] }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message: 'The value Furlongs for parameter MetricData.member.1.Unit is invalid.',
      },
    ],
    [
      'a timestamp three weeks old',
      new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'm', Value: 1, Timestamp: new Date(Date.now() - 21 * 86400_000) }] }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message: 'The parameter MetricData.member.1.Timestamp must specify a time no more than two weeks in the past.',
      },
    ],
    [
      'StartTime after EndTime',
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'm',
        StartTime: now,
        EndTime: new Date(now.getTime() - 1000),
        Period: 60,
        Statistics: ['Sum'],
      }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message: 'The parameter StartTime must be less than the parameter EndTime.',
      },
    ],
    [
      'no statistics',
      new GetMetricStatisticsCommand({ Namespace: 'App', MetricName: 'm', StartTime: new Date(now.getTime() - 60_000), EndTime: now, Period: 60 }),
      {
        name: 'InvalidParameterCombinationException',
        code: 'InvalidParameterCombination',
        status: 400,
        message: 'Must specify either Statistics or ExtendedStatistics, but not both.',
      },
    ],
    [
      'too many datapoints',
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'm',
        StartTime: new Date(now.getTime() - 86400_000),
        EndTime: now,
        Period: 1,
        Statistics: ['Sum'],
      }),
      {
        name: 'InvalidParameterCombinationException',
        code: 'InvalidParameterCombination',
        status: 400,
        message:
          'You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
      },
    ],
    [
      'a GetMetricData id in capitals',
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 60_000),
        EndTime: now,
        MetricDataQueries: [{ Id: 'Bad', MetricStat: { Metric: { Namespace: 'App', MetricName: 'm' }, Period: 60, Stat: 'Sum' } }],
      }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message: 'The value Bad for parameter MetricDataQueries.member.1.Id is invalid.',
      },
    ],
    [
      'a forged NextToken',
      new ListMetricsCommand({ NextToken: 'not-a-token' }),
      { name: 'InvalidNextToken', code: 'InvalidNextToken', status: 400, message: 'The service returned an error: the next token is invalid.' },
    ],
    [
      'an alarm without a threshold',
      new PutMetricAlarmCommand({
        AlarmName: 'a',
        Namespace: 'App',
        MetricName: 'm',
        Statistic: 'Average',
        Period: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      } as any),
      { name: 'MissingRequiredParameterException', code: 'MissingParameter', status: 400, message: 'The parameter Threshold is required.' },
    ],
    [
      'DatapointsToAlarm above EvaluationPeriods',
      new PutMetricAlarmCommand({
        AlarmName: 'a',
        Namespace: 'App',
        MetricName: 'm',
        Statistic: 'Average',
        Period: 1,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 3,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
      {
        name: 'InvalidParameterCombinationException',
        code: 'InvalidParameterCombination',
        status: 400,
        message: 'DatapointsToAlarm (3) must be less than or equal to EvaluationPeriods (2).',
      },
    ],
    [
      'an HTTP action to a foreign host',
      new PutMetricAlarmCommand({
        AlarmName: 'a',
        Namespace: 'App',
        MetricName: 'm',
        Statistic: 'Average',
        Period: 1,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: ['http://example.com/hook'],
      }),
      {
        name: 'InvalidParameterValueException',
        code: 'InvalidParameterValue',
        status: 400,
        message:
          'The value http://example.com/hook for parameter AlarmActions.member.1 is invalid: HTTP actions may only target 127.0.0.1, localhost (ALARM_ACTION_HOSTS).',
      },
    ],
    [
      'AlarmNames with AlarmNamePrefix',
      new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' }),
      {
        name: 'InvalidParameterCombinationException',
        code: 'InvalidParameterCombination',
        status: 400,
        message: 'The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.',
      },
    ],
  ]
  for (const [what, command, want] of cases) t.same(await failure(cw, command), want, what)
})

t.test('a call without a signature, or to an unknown operation, is refused before any handler runs', async (t) => {
  const app = buildApp(deps())
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' },
    payload: '{}',
  })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
  t.equal(res.headers['x-amzn-query-error'], 'MissingAuthenticationTokenException;Sender')
  t.equal(res.headers['content-type'], 'application/x-amz-json-1.0')
})

t.test('while Kinesis refuses connections PutMetricData fails with InternalServiceError and nothing is aggregated', async (t) => {
  const app = buildApp(deps())
  t.teardown(() => app.close())
  const cw = injectedClient(app)
  const got = await failure(cw, new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'm', Value: 1 }] }))
  t.equal(got.name, 'InternalServiceFault')
  t.equal(got.code, 'InternalServiceError')
  t.equal(got.status, 500)
  t.match(got.message, /^Internal service error: metric ingestion through Kinesis failed \(/)
  t.equal(app.cloudwatch.store.size, 0)
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /cloudwatch_put_metric_data_total\{outcome="kinesis_error",service="cloudwatch",instance="cloudwatch"\} 1/)
})

t.test('with the local store, a gzip-compressed PutMetricData of 1000 datapoints is durable and queryable while Kinesis is dead', async (t) => {
  const dir = t.testdir()
  const store = await LocalStore.open(path.join(dir, 'local.log'), { retentionMs: 3 * 3600_000 })
  const app = buildApp(deps({ localStore: store }))
  t.teardown(async () => {
    await app.close()
    await store.close()
  })
  const encodings: string[] = []
  app.addHook('onRequest', async (req) => {
    if (String(req.headers['x-amz-target']).endsWith('.PutMetricData')) encodings.push(String(req.headers['content-encoding'] ?? ''))
  })
  const cw = injectedClient(app)
  const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1_000)
  // 1000 data of ~40 bytes: above the SDK's 10 KiB compression threshold.
  await cw.send(
    new PutMetricDataCommand({
      Namespace: 'App',
      MetricData: Array.from({ length: 1000 }, (_, i) => ({ MetricName: 'latency', Value: i, Timestamp: at, Unit: 'Milliseconds' })),
    }),
  )
  await cw.send(
    new PutMetricDataCommand({
      Namespace: 'App',
      MetricData: [{ MetricName: 'latency', Values: [10, 2000], Counts: [3, 1], Timestamp: at, Unit: 'Milliseconds' }],
    }),
  )
  t.equal(store.pendingCount, 1001, 'one pending datapoint per datum')
  t.same(encodings, ['gzip', ''], 'the SDK compressed the large request')

  const stats = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'App',
      MetricName: 'latency',
      StartTime: new Date(at.getTime() - 1_000),
      EndTime: new Date(at.getTime() + 59_000),
      Period: 60,
      Statistics: ['SampleCount', 'Sum', 'Minimum', 'Maximum', 'Average'],
    }),
  )
  t.equal(stats.Datapoints?.length, 1)
  const [dp] = stats.Datapoints!
  t.same(
    { n: dp.SampleCount, sum: dp.Sum, min: dp.Minimum, max: dp.Maximum, unit: dp.Unit },
    { n: 1004, sum: 499500 + 30 + 2000, min: 0, max: 2000, unit: 'Milliseconds' },
  )
  t.equal(dp.Average, (499500 + 2030) / 1004)

  const reopened = await LocalStore.open(path.join(dir, 'local.log'), { retentionMs: 3 * 3600_000 })
  t.equal(reopened.pendingCount, 1001, 'every accepted datapoint is on disk')
  await reopened.close()

  const data = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(at.getTime() - 1_000),
      EndTime: new Date(at.getTime() + 2_000),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [{ Id: 'n', MetricStat: { Metric: { Namespace: 'App', MetricName: 'latency' }, Period: 1, Stat: 'SampleCount' } }],
    }),
  )
  t.same(
    data.MetricDataResults?.map((r) => ({ id: r.Id, values: r.Values, ts: r.Timestamps?.map((d) => d.getTime()), status: r.StatusCode })),
    [{ id: 'n', values: [1004], ts: [at.getTime()], status: 'Complete' }],
  )
  const list = await cw.send(new ListMetricsCommand({ Namespace: 'App' }))
  t.same(list.Metrics, [{ Namespace: 'App', MetricName: 'latency', Dimensions: [] }])
})

t.test('after a restart the local store serves its datapoints again and still holds the pending ones', async (t) => {
  const file = path.join(t.testdir(), 'local.log')
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 5_000)
  const query = new GetMetricStatisticsCommand({
    Namespace: 'App',
    MetricName: 'beat',
    StartTime: new Date(at.getTime() - 1_000),
    EndTime: new Date(at.getTime() + 1_000),
    Period: 1,
    Statistics: ['SampleCount', 'Sum'],
  })

  const first = await LocalStore.open(file, { retentionMs: 3 * 3600_000 })
  const before = buildApp(deps({ localStore: first }))
  await injectedClient(before).send(
    new PutMetricDataCommand({
      Namespace: 'App',
      MetricData: [
        { MetricName: 'beat', Value: 2, Timestamp: at },
        { MetricName: 'beat', Value: 3, Timestamp: at },
      ],
    }),
  )
  await before.close()
  await first.close()

  const second = await LocalStore.open(file, { retentionMs: 3 * 3600_000 })
  const after = buildApp(deps({ localStore: second }))
  t.teardown(async () => {
    await after.close()
    await second.close()
  })
  const res = await injectedClient(after).send(query)
  t.same(
    res.Datapoints?.map((d) => [d.Timestamp?.getTime(), d.SampleCount, d.Sum]),
    [[at.getTime(), 2, 5]],
  )
  t.equal(second.pendingCount, 2, 'nothing was shipped (Kinesis is dead): both still pending')
  t.match((await after.inject('/health')).json(), { status: 'ok', local_store: { pending: 2, stored: 2, expired: 0 } })
})
