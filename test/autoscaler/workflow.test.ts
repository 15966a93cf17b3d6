// Provisioning runs as workflows on EventBridge: tasks become RUNNING only after their events come
// back through the rule; a sick EventBridge stalls provisioning and de-provisioning until it
// recovers; tasks are real processes that die with the autoscaler. EventBridge here is the
// test's stand-in (eventbridge-stand-in.ts), a real HTTP server. Run `npx tsc -p .` first.
import t from 'tap'
import { ECSClient, CreateServiceCommand, UpdateServiceCommand, DescribeServicesCommand, ListTasksCommand, DescribeTasksCommand } from '@aws-sdk/client-ecs'
import { request } from 'undici'
import { INTERNAL, CREDENTIALS, spawnService, type Spawned } from '../helpers/spawn.js'
import { startEventBridgeStandIn } from './eventbridge-stand-in.js'
import { requestPolicy } from './policy-calls.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const ENTRY = 'services/autoscaler/main.js'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A policy's alarm action, called as CloudWatch calls it: with the run's internal credential. */
async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await request(url, { method: 'POST', headers: { ...INTERNAL, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.statusCode, body: await res.body.json() }
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await request(`${url}/metrics`, { headers: INTERNAL })).body.text()
  return text
    .split('\n')
    .filter((line) => pattern.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function answers(port: number): Promise<any> {
  const res = await request(`http://127.0.0.1:${port}/`, { headersTimeout: 10_000 })
  return res.statusCode === 200 ? res.body.json() : undefined
}

function harness(autoscaler: Spawned) {
  const ecs = new ECSClient({ endpoint: autoscaler.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  return {
    ecs,
    async counts(service: string) {
      const s = (await ecs.send(new DescribeServicesCommand({ services: [service] }))).services![0]
      return { desired: s.desiredCount, pending: s.pendingCount, running: s.runningCount }
    },
    async tasks(service: string, desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING') {
      const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: service, desiredStatus }))
      if (!taskArns?.length) return []
      return (await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks!
    },
  }
}

t.test('a scaling policy scales out through EventBridge; a sick EventBridge stalls provisioning until it recovers', async (t) => {
  const eventBridge = await startEventBridgeStandIn(t)
  const autoscaler = await spawnService(
    ENTRY,
    { EVENTBRIDGE_URL: eventBridge.url, WORKFLOW_RETRY_MAX_MS: '500', TASK_START_TIMEOUT_MS: '60000' },
    { timeoutMs: 60_000 },
  )
  t.teardown(() => autoscaler.stop())
  const { ecs, counts, tasks } = harness(autoscaler)
  t.teardown(() => ecs.destroy())

  await eventually(() => eventBridge.rules.get('outage-lab-ecs-workflows-autoscaler')?.targets.length, {
    what: 'the workflow rule and its target',
    timeoutMs: 60_000,
  })
  const rule = eventBridge.rules.get('outage-lab-ecs-workflows-autoscaler')!
  t.same(rule.targets, [`${autoscaler.url}/workflow/events`])
  t.same(rule.pattern.source, ['outage-lab.ecs'])

  await ecs.send(new CreateServiceCommand({ serviceName: 'shop', desiredCount: 0 }))
  const policy = await requestPolicy(autoscaler.url, 'POST', '/policies', { service: 'shop', name: 'shop-out', adjustment: 2, cooldownMs: 0 })
  t.equal(policy.status, 201)
  t.equal(policy.body.invokeUrl, `${autoscaler.url}/policies/shop-out/invoke`)

  t.test('alarm states other than ALARM do not scale', async (t) => {
    for (const state of ['OK', 'INSUFFICIENT_DATA']) {
      const res = await post(policy.body.invokeUrl, { AlarmName: 'shop-latency', NewStateValue: state, OldStateValue: 'ALARM' })
      t.same(res, { status: 200, body: { policy: 'shop-out', service: 'shop', state, outcome: 'ignored' } })
    }
    t.same(await counts('shop'), { desired: 0, pending: 0, running: 0 })
    const bad = await post(policy.body.invokeUrl, { AlarmName: 'shop-latency' })
    t.equal(bad.status, 400)
    t.equal(bad.body.__type, 'InvalidParameterException')
  })

  t.test('tasks become RUNNING only after their events come back through the rule', async (t) => {
    eventBridge.holdDeliveries = true
    const res = await post(policy.body.invokeUrl, { AlarmName: 'shop-latency', NewStateValue: 'ALARM', OldStateValue: 'OK' })
    t.match(res.body, { outcome: 'scaled', previousDesiredCount: 0, desiredCount: 2 })
    await eventually(() => eventBridge.held.filter((e) => e.detail.kind === 'provisioning').length === 2, {
      what: 'two provisioning requests accepted by EventBridge',
      timeoutMs: 60_000,
    })
    await sleep(300)
    t.same(await counts('shop'), { desired: 2, pending: 2, running: 0 }, 'requested, not provisioned: the events have not come back')
    const waiting = await tasks('shop')
    t.same(
      waiting.map((task) => task.lastStatus),
      ['PROVISIONING', 'PROVISIONING'],
    )
    t.same(
      waiting.map((task) => task.containers![0].networkBindings),
      [[], []],
      'no process yet',
    )

    eventBridge.release()
    const running = await eventually(
      async () => {
        const all = await tasks('shop')
        return all.length === 2 && all.every((task) => task.lastStatus === 'RUNNING') && all
      },
      { what: 'two tasks RUNNING', timeoutMs: 60_000 },
    )
    t.same(await counts('shop'), { desired: 2, pending: 0, running: 2 })
    const kinds = eventBridge.delivered.map((e) => `${e.detail.kind}:${e.detail.taskArn}`)
    for (const task of running) {
      t.ok(kinds.includes(`provisioning:${task.taskArn}`), 'its provisioning request came back')
      t.ok(kinds.includes(`running:${task.taskArn}`), 'its RUNNING state change came back')
      const port = task.containers![0].networkBindings![0].hostPort!
      const pid = Number(task.containers![0].runtimeId)
      t.match(await answers(port), { service: 'shop', taskArn: task.taskArn, pid }, 'a real process answers on its port')
    }
    t.equal(await metric(autoscaler.url, /^autoscaler_demand_to_capacity_seconds_count\{.*service_name="shop",trigger="policy"/), 1)
    t.equal(await metric(autoscaler.url, /^autoscaler_running_tasks\{.*service_name="shop"/), 2)
    t.equal(await metric(autoscaler.url, /^autoscaler_policy_invocations_total\{.*policy="shop-out",state="ALARM",outcome="scaled"/), 1)
    t.ok((await metric(autoscaler.url, /^autoscaler_workflow_events_total\{.*kind="running",outcome="delivered"/)) >= 2)
  })

  t.test('while PutEvents fails, provisioning stalls; it completes once EventBridge recovers', async (t) => {
    const before = (await tasks('shop')).map((task) => task.taskArn)
    eventBridge.failPutEvents = true
    await ecs.send(new UpdateServiceCommand({ service: 'shop', desiredCount: 4 }))
    await eventually(() => eventBridge.putEventsCalls.failed >= 3, { what: 'PutEvents failing more than once', timeoutMs: 60_000 })
    t.same(await counts('shop'), { desired: 4, pending: 2, running: 2 }, 'provisioning stalled')
    t.ok((await metric(autoscaler.url, /^autoscaler_workflow_events_total\{.*kind="provisioning",outcome="failed"/)) >= 3)
    t.equal(await metric(autoscaler.url, /^autoscaler_pending_tasks\{.*service_name="shop"/), 2)
    const health: any = await (await request(`${autoscaler.url}/health`)).body.json()
    t.match(health.last_eventbridge_error, /InternalException \(500\): stand-in: PutEvents is failing/)

    eventBridge.failPutEvents = false
    await eventually(async () => (await counts('shop')).running === 4, { what: 'four tasks RUNNING', timeoutMs: 60_000 })
    t.same(await counts('shop'), { desired: 4, pending: 0, running: 4 })
    const after = await tasks('shop')
    t.same(after.filter((task) => before.includes(task.taskArn)).length, 2, 'the first two kept running')
    t.equal(await metric(autoscaler.url, /^autoscaler_demand_to_capacity_seconds_count\{.*service_name="shop",trigger="api"/), 1)
  })

  t.test('de-provisioning waits for its event too; stopped tasks stop answering', async (t) => {
    eventBridge.holdDeliveries = true
    await ecs.send(new UpdateServiceCommand({ service: 'shop', desiredCount: 1 }))
    await eventually(() => eventBridge.held.filter((e) => e.detail.kind === 'deprovisioning').length === 3, {
      what: 'three deprovisioning requests accepted',
      timeoutMs: 60_000,
    })
    t.same(await counts('shop'), { desired: 1, pending: 0, running: 4 }, 'still running: de-provisioning is delayed')
    const victims = await tasks('shop', 'STOPPED')
    t.equal(victims.length, 3)
    eventBridge.release()
    await eventually(async () => (await counts('shop')).running === 1, { what: 'one task left RUNNING', timeoutMs: 60_000 })
    const stopped = await eventually(
      async () => {
        const all = await tasks('shop', 'STOPPED')
        return all.filter((task) => task.lastStatus === 'STOPPED').length === 3 && all
      },
      { what: 'the three STOPPED', timeoutMs: 60_000 },
    )
    for (const task of stopped) {
      t.notOk(alive(Number(victims.find((v) => v.taskArn === task.taskArn)!.containers![0].runtimeId)), 'its process is gone')
    }
  })

  t.test('tasks die with the autoscaler', async (t) => {
    const pids = (await tasks('shop')).map((task) => Number(task.containers![0].runtimeId))
    t.equal(pids.length, 1)
    t.ok(alive(pids[0]))
    await autoscaler.stop('SIGTERM')
    await eventually(() => pids.every((pid) => !alive(pid)), { what: 'every task process gone', timeoutMs: 20_000 })
    t.pass('no task outlived its autoscaler')
  })
})

t.test('tasks exit on their own when the autoscaler is SIGKILLed', async (t) => {
  const eventBridge = await startEventBridgeStandIn(t)
  const autoscaler = await spawnService(ENTRY, { EVENTBRIDGE_URL: eventBridge.url, TASK_START_TIMEOUT_MS: '60000' }, { timeoutMs: 60_000 })
  t.teardown(() => autoscaler.stop('SIGKILL'))
  const { ecs, tasks } = harness(autoscaler)
  t.teardown(() => ecs.destroy())
  await ecs.send(new CreateServiceCommand({ serviceName: 'api', desiredCount: 2 }))
  const running = await eventually(
    async () => {
      const all = await tasks('api')
      return all.length === 2 && all.every((task) => task.lastStatus === 'RUNNING') && all
    },
    { what: 'two tasks RUNNING', timeoutMs: 60_000 },
  )
  const pids = running.map((task) => Number(task.containers![0].runtimeId))
  await autoscaler.stop('SIGKILL')
  await eventually(() => pids.every((pid) => !alive(pid)), { what: 'every task process gone', timeoutMs: 20_000 })
  t.pass('orphaned tasks noticed their parent was gone and exited')
})
