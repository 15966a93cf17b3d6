// The end to end: the autoscaler's provisioning workflows on the REAL EventBridge, itself
// on a REAL Kinesis that breaks the way it broke on 2020-11-25. While Kinesis is broken, EventBridge
// cannot take or deliver events, so provisioning stalls (pending > 0, running unchanged); once
// Kinesis heals, the backlog drains and the tasks come up. Run `npx tsc -p .` first.
import t from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { ECSClient, CreateServiceCommand, UpdateServiceCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs'
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { request } from 'undici'
import { INTERNAL, CREDENTIALS, ROOT, spawnService } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { eventually } from '../helpers/eventually.js'
import { requestPolicy } from './policy-calls.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const EVENTBRIDGE = 'services/eventbridge/main.js'
const CLOUDWATCH = 'services/cloudwatch/main.js'
const unbuilt = [EVENTBRIDGE, CLOUDWATCH].filter((entry) => !fs.existsSync(path.join(ROOT, 'dist', entry)))
const skip = kinesisOutageSkip || (unbuilt.length ? `${unbuilt.join(', ')} not built: run npx tsc -p .` : false)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await request(`${url}/metrics`, { headers: INTERNAL })).body.text()
  return text
    .split('\n')
    .filter((line) => pattern.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((resolve) => srv.close(resolve))
  return port
}

t.test(
  'a CloudWatch alarm scales out through EventBridge; a Kinesis outage stalls provisioning, healing Kinesis completes it',
  { skip, timeout: 280_000 },
  async (t) => {
    // One test dir for both: a second t.testdir() would wipe the first (the topology's logs).
    const dir = t.testdir({ kinesis: {}, eventbridge: {}, cloudwatch: {} })
    const kinesis = await startKinesisOutage(t, { runDir: path.join(dir, 'kinesis') })
    // The autoscaler's hooks are internal: EventBridge and CloudWatch send the credential to
    // AUTOSCALER_URL's origin only, so its port is chosen before they start.
    const autoscalerPort = await freePort()
    const AUTOSCALER_URL = `http://127.0.0.1:${autoscalerPort}`
    const eventBridge = await spawnService(
      EVENTBRIDGE,
      { KINESIS_ENDPOINT: kinesis.endpoint, OUTAGE_LAB_DATA_DIR: path.join(dir, 'eventbridge'), AUTOSCALER_URL },
      { timeoutMs: 60_000 },
    )
    t.teardown(() => eventBridge.stop())
    const cloudWatch = await spawnService(
      CLOUDWATCH,
      { KINESIS_ENDPOINT: kinesis.endpoint, OUTAGE_LAB_DATA_DIR: path.join(dir, 'cloudwatch'), AUTOSCALER_URL },
      { timeoutMs: 60_000 },
    )
    t.teardown(() => cloudWatch.stop())
    for (const svc of [eventBridge, cloudWatch]) {
      await eventually(async () => ((await (await request(`${svc.url}/health`)).body.json()) as any).stream_ready === true, {
        what: 'its stream ready',
        timeoutMs: 60_000,
        intervalMs: 200,
      })
    }
    const autoscaler = await spawnService(
      'services/autoscaler/main.js',
      {
        PORT: String(autoscalerPort),
        EVENTBRIDGE_URL: eventBridge.url,
        CLOUDWATCH_URL: cloudWatch.url,
        WORKFLOW_RETRY_MAX_MS: '1000',
        WORKFLOW_EVENT_TIMEOUT_MS: '15000',
      },
      { timeoutMs: 60_000 },
    )
    t.teardown(() => autoscaler.stop())
    const ecs = new ECSClient({ endpoint: autoscaler.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
    t.teardown(() => ecs.destroy())
    const counts = async () => {
      const s = (await ecs.send(new DescribeServicesCommand({ services: ['checkout'] }))).services![0]
      return { desired: s.desiredCount, pending: s.pendingCount, running: s.runningCount }
    }

    // Healthy: the customer's latency alarm invokes the scaling policy; the task comes up through
    // EventBridge (both CloudWatch and EventBridge on Kinesis).
    await ecs.send(new CreateServiceCommand({ serviceName: 'checkout', desiredCount: 0 }))
    // The policy brings its alarm: the autoscaler puts it in CloudWatch with the invoke URL as action.
    const alarm = {
      alarmName: 'checkout-latency-high',
      namespace: 'Shop',
      metricName: 'CheckoutLatency',
      dimensions: { Service: 'checkout' },
      statistic: 'Maximum',
      periodSeconds: 1,
      threshold: 500,
    }
    const policy = (
      await requestPolicy(autoscaler.url, 'POST', '/policies', { service: 'checkout', name: 'checkout-out', adjustment: 1, cooldownMs: 600_000, alarm })
    ).body
    const cw = new CloudWatchClient({
      endpoint: cloudWatch.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 10_000 }),
    })
    t.teardown(() => cw.destroy())
    const created = await eventually(async () => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['checkout-latency-high'] }))).MetricAlarms?.[0], {
      what: 'the alarm in CloudWatch',
      timeoutMs: 30_000,
      intervalMs: 200,
    })
    t.same(created.AlarmActions, [policy.invokeUrl])
    const metricSpec = { Namespace: 'Shop', MetricName: 'CheckoutLatency', Dimensions: [{ Name: 'Service', Value: 'checkout' }] }
    await eventually(
      async () => {
        await cw.send(
          new PutMetricDataCommand({
            Namespace: 'Shop',
            MetricData: [{ MetricName: 'CheckoutLatency', Dimensions: metricSpec.Dimensions, Value: 2_000, Unit: 'Milliseconds' }],
          }),
        )
        return (await metric(autoscaler.url, /^autoscaler_policy_invocations_total\{.*policy="checkout-out",state="ALARM",outcome="scaled"/)) === 1
      },
      { what: 'the alarm to invoke the policy', timeoutMs: 60_000, intervalMs: 200 },
    )
    await eventually(async () => (await counts()).running === 1, {
      what: 'the first task RUNNING through the real EventBridge',
      timeoutMs: 60_000,
      intervalMs: 200,
    })
    t.equal(
      await metric(autoscaler.url, /^autoscaler_demand_to_capacity_seconds_count\{.*service_name="checkout",trigger="policy"/),
      1,
      'the demand from the alarm was met',
    )
    t.ok((await metric(autoscaler.url, /^autoscaler_workflow_events_total\{.*kind="running",outcome="delivered"/)) >= 1, 'its RUNNING event came back')

    await kinesis.break()
    await ecs.send(new UpdateServiceCommand({ service: 'checkout', desiredCount: 3 }))
    // Give the workflows time they would need when healthy (the first task took far less).
    await sleep(8_000)
    t.same(await counts(), { desired: 3, pending: 2, running: 1 }, 'provisioning stalls while Kinesis is broken')
    t.ok((await metric(autoscaler.url, /^autoscaler_workflow_events_total\{.*kind="provisioning",outcome="failed"/)) >= 1, 'PutEvents failed')

    await kinesis.heal()
    await eventually(async () => (await counts()).running === 3, { what: 'three tasks RUNNING after Kinesis healed', timeoutMs: 120_000, intervalMs: 200 })
    t.same(await counts(), { desired: 3, pending: 0, running: 3 })
    t.equal(
      await metric(autoscaler.url, /^autoscaler_demand_to_capacity_seconds_count\{.*service_name="checkout",trigger="api"/),
      1,
      'the demand of the update was met after the outage',
    )
  },
)
