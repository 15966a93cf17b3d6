// CloudWatch through the Kinesis outage, on a real Kinesis broken the 2020 way (every front-end past
// its thread limit). Two CloudWatch processes share the metric stream: the 2020 one, whose
// PutMetricData fails and whose alarm goes to INSUFFICIENT_DATA, and one with LOCAL_STORE=true,
// which keeps accepting datapoints, keeps its alarm evaluated, and after recovery ships every
// datapoint it accepted: the stream and the other process's statistics both count them all.
import t from 'tap'
import { request } from 'undici'
import {
  PutMetricDataCommand,
  PutMetricAlarmCommand,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type CloudWatchClient,
} from '@aws-sdk/client-cloudwatch'
import { INTERNAL, spawnService } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { cloudWatchClient, datapointsOnStream, scratchDir, SPAWN } from './helpers.js'
import { eventually } from '../helpers/eventually.js'

const STREAM = 'cw-outage'
const PUT_EVERY_MS = 200
// Five 1-second periods: a put delayed a couple of seconds by a loaded machine must not look like
// an outage to the local-store alarm; no datapoint for five seconds does.
const EVALUATION_PERIODS = 5

interface Pump {
  ok: number
  failed: number
  firstFailureAtMs?: number
  maxLatencyMs: number
  failedAfterBreak: number
  stop(): Promise<void>
}

/** PutMetricData of one "beat" datapoint every 200 ms until stopped (at most 10 minutes). */
function pump(client: CloudWatchClient, namespace: string, breakAt: () => number | undefined): Pump {
  let running = true
  const state: Pump = {
    ok: 0,
    failed: 0,
    maxLatencyMs: 0,
    failedAfterBreak: 0,
    stop: async () => {
      running = false
      await loop
    },
  }
  const loop = (async () => {
    const deadline = Date.now() + 600_000
    while (running && Date.now() < deadline) {
      const started = Date.now()
      try {
        await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: [{ MetricName: 'beat', Value: 1 }] }))
        state.ok++
      } catch {
        state.failed++
        state.firstFailureAtMs ??= Date.now()
        if (breakAt() !== undefined) state.failedAfterBreak++
      }
      const took = Date.now() - started
      if (breakAt() !== undefined) state.maxLatencyMs = Math.max(state.maxLatencyMs, took)
      await new Promise((r) => setTimeout(r, Math.max(0, PUT_EVERY_MS - took)))
    }
  })()
  return state
}

async function health(url: string): Promise<any> {
  return (await request(`${url}/health`)).body.json()
}

async function alarmState(client: CloudWatchClient, name: string): Promise<string | undefined> {
  return (await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0]?.StateValue
}

const beatAlarm = (name: string, namespace: string) =>
  new PutMetricAlarmCommand({
    AlarmName: name,
    Namespace: namespace,
    MetricName: 'beat',
    Statistic: 'SampleCount',
    Period: 1,
    EvaluationPeriods: EVALUATION_PERIODS,
    DatapointsToAlarm: 1,
    Threshold: 1_000_000,
    ComparisonOperator: 'GreaterThanThreshold',
  })

t.test('through a Kinesis outage: the 2020 CloudWatch goes dark, the local store keeps serving and loses nothing', { skip: kinesisOutageSkip }, async (t) => {
  const kinesis = await startKinesisOutage(t)
  const common = {
    OUTAGE_LAB_WATCH_PARENT: '1',
    KINESIS_ENDPOINT: kinesis.endpoint,
    CLOUDWATCH_STREAM: STREAM,
    CONSUMER_POLL_MS: '100',
    ALARM_EVALUATION_INTERVAL_MS: '250',
    KINESIS_TIMEOUT_MS: '1000',
    KINESIS_MAX_ATTEMPTS: '1',
  }
  const plain = await spawnService('services/cloudwatch/main.js', { ...common, OUTAGE_LAB_DATA_DIR: scratchDir(t, 'plain') }, SPAWN)
  t.teardown(() => plain.stop())
  const local = await spawnService(
    'services/cloudwatch/main.js',
    {
      ...common,
      OUTAGE_LAB_DATA_DIR: scratchDir(t, 'local'),
      LOCAL_STORE: 'true',
      LOCAL_STORE_RETENTION_MS: '600000',
      LOCAL_STORE_SHIP_RETRY_MS: '500',
    },
    SPAWN,
  )
  t.teardown(() => local.stop())
  const plainCw = cloudWatchClient(plain.url)
  const localCw = cloudWatchClient(local.url)
  await eventually(async () => (await health(plain.url)).stream_ready && (await health(local.url)).stream_ready, {
    what: 'both metric streams ready',
    timeoutMs: 60_000,
    intervalMs: 100,
  })
  const startedMs = Date.now()

  // Healthy first: both alarms evaluate from data that flows.
  await plainCw.send(beatAlarm('plain-beat', 'Plain'))
  await localCw.send(beatAlarm('local-beat', 'Local'))
  let brokeAt: number | undefined
  const plainPump = pump(plainCw, 'Plain', () => brokeAt)
  const localPump = pump(localCw, 'Local', () => brokeAt)
  t.teardown(() => Promise.all([plainPump.stop(), localPump.stop()]))
  await eventually(async () => (await alarmState(plainCw, 'plain-beat')) === 'OK' && (await alarmState(localCw, 'local-beat')) === 'OK', {
    what: 'both alarms OK',
    timeoutMs: 60_000,
    intervalMs: 100,
  })
  t.equal(plainPump.failed + localPump.failed, 0, 'no PutMetricData failed while Kinesis was healthy')

  // Watch the local-store alarm through the whole outage.
  const localStates = new Set<string>()
  let watching = true
  const watcher = (async () => {
    while (watching) {
      // A call that fails is not a state: only answers count (the process may be going away at teardown).
      const state = await alarmState(localCw, 'local-beat').catch(() => undefined)
      if (state !== undefined) localStates.add(state)
      await new Promise((r) => setTimeout(r, 250))
    }
  })()
  t.teardown(() => {
    watching = false
    return watcher
  })

  const breakStarted = Date.now()
  brokeAt = breakStarted
  const broken = await kinesis.break()
  t.comment(`break(): every front-end broken ${Date.now() - breakStarted} ms after it started`)
  await eventually(() => plainPump.failedAfterBreak > 0, { what: 'PutMetricData fails on the 2020 CloudWatch', timeoutMs: 30_000, intervalMs: 100 })
  const firstFailure = plainPump.firstFailureAtMs!
  await eventually(async () => (await alarmState(plainCw, 'plain-beat')) === 'INSUFFICIENT_DATA', {
    what: 'the 2020 alarm goes to INSUFFICIENT_DATA',
    timeoutMs: 30_000,
    intervalMs: 100,
  })
  const insufficientAt = Date.now()
  const plainAlarm = (await plainCw.send(new DescribeAlarmsCommand({ AlarmNames: ['plain-beat'] }))).MetricAlarms![0]
  t.equal(plainAlarm.StateReason, `Insufficient Data: ${EVALUATION_PERIODS} datapoints were unknown.`)
  t.comment(
    `first PutMetricData failure ${firstFailure - breakStarted} ms after break() started; alarm INSUFFICIENT_DATA ${insufficientAt - firstFailure} ms after that (${insufficientAt - breakStarted} ms after break() started)`,
  )

  // Stay in the outage a while: the local store must carry the load on its own.
  const okBefore = localPump.ok
  await new Promise((r) => setTimeout(r, 4_000))
  t.ok(localPump.ok > okBefore, 'the local-store CloudWatch keeps accepting PutMetricData during the outage')
  t.equal(localPump.failed, 0, 'not one PutMetricData failed on the local-store CloudWatch')
  t.ok((await health(local.url)).local_store.pending > 0, 'datapoints wait in the local store')
  t.equal(await alarmState(localCw, 'local-beat'), 'OK', 'the local-store alarm is still evaluated from the local store')
  const localDuring = await localCw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'Local',
      MetricName: 'beat',
      StartTime: new Date(insufficientAt - 2_000),
      EndTime: new Date(),
      Period: 1,
      Statistics: ['SampleCount'],
    }),
  )
  t.ok((localDuring.Datapoints?.length ?? 0) >= 3, 'queries see datapoints put during the outage')
  t.comment(
    `during the outage: 2020 CloudWatch PutMetricData ${plainPump.failedAfterBreak} failed, slowest ${plainPump.maxLatencyMs} ms; local store: ${localPump.ok} accepted so far, slowest ${localPump.maxLatencyMs} ms`,
  )

  const healStarted = Date.now()
  await kinesis.heal()
  t.comment(`heal(): Kinesis serving again ${Date.now() - healStarted} ms after it started`)
  await eventually(
    async () => {
      const before = plainPump.ok
      await new Promise((r) => setTimeout(r, 500))
      return plainPump.ok > before
    },
    { what: 'the 2020 CloudWatch accepts PutMetricData again', timeoutMs: 60_000, intervalMs: 100 },
  )
  await plainPump.stop()
  await localPump.stop()
  watching = false
  await watcher
  t.same([...localStates].sort(), ['OK'], 'the local-store alarm never left OK')

  const accepted = localPump.ok
  const drainStarted = Date.now()
  await eventually(async () => (await health(local.url)).local_store.pending === 0, {
    what: 'the local store shipped everything',
    timeoutMs: 60_000,
    intervalMs: 250,
  })
  const drained = Date.now() - drainStarted
  t.comment(`local store drained ${drained} ms after PutMetricData stopped (${accepted} datapoints accepted in all)`)

  // The stream holds every datapoint the local store accepted, each id at least once.
  const ids = new Set((await datapointsOnStream(kinesis, STREAM, 'Local')).map((d) => d.id))
  t.equal(ids.size, accepted, 'every datapoint the local store accepted is on the stream')

  // And the other process, which only knows them through the stream, counts each exactly once.
  const sampleCount = async () => {
    const res = await plainCw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Local',
        MetricName: 'beat',
        StartTime: new Date(startedMs - 60_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['SampleCount'],
      }),
    )
    return (res.Datapoints ?? []).reduce((n, d) => n + (d.SampleCount ?? 0), 0)
  }
  await eventually(async () => (await sampleCount()) >= accepted, {
    what: 'the 2020 CloudWatch consumed every shipped datapoint',
    timeoutMs: 30_000,
    intervalMs: 250,
  })
  t.equal(await sampleCount(), accepted, 'SampleCount on the consuming process equals the datapoints accepted')
  const localCount = (
    await localCw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Local',
        MetricName: 'beat',
        StartTime: new Date(startedMs - 60_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['SampleCount'],
      }),
    )
  ).Datapoints!.reduce((n, d) => n + (d.SampleCount ?? 0), 0)
  t.equal(localCount, accepted, 'the local-store process does not count its own datapoints twice when they come back')
  const metrics = await (await request(`${local.url}/metrics`, { headers: INTERNAL })).body.text()
  t.match(metrics, new RegExp(`cloudwatch_local_store_shipped_total\\{[^}]*\\} ${accepted}\\n`))
  // Server-side view of the local store's PutMetricData latency (client-side includes this test process's own delays).
  const bucket = (le: string) =>
    Number(
      new RegExp(`cloudwatch_request_duration_seconds_bucket\\{le="${le.replace('+', '\\+')}",[^}]*operation="PutMetricData"[^}]*\\} (\\d+)`).exec(
        metrics,
      )?.[1],
    )
  t.comment(`local store PutMetricData as the server measured it: ${bucket('0.05')} of ${bucket('+Inf')} under 50 ms, ${bucket('+Inf') - bucket('1')} over 1 s`)
  t.comment(`break() resolved at ${broken.atMs} ms of the Kinesis topology's life`)
})
