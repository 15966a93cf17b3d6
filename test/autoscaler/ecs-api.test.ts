// The autoscaler's ECS API as @aws-sdk/client-ecs sees it, against the compiled process (run
// `npx tsc -p .` first): services and tasks, and ECS's error types, statuses and messages.
// EventBridge is the test's stand-in (eventbridge-stand-in.ts), a real HTTP server.
import t from 'tap'
import {
  ECSClient,
  CreateServiceCommand,
  UpdateServiceCommand,
  DescribeServicesCommand,
  DeleteServiceCommand,
  ListServicesCommand,
  ListTasksCommand,
  DescribeTasksCommand,
} from '@aws-sdk/client-ecs'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { CREDENTIALS, ROOT, spawnService } from '../helpers/spawn.js'
import { startEventBridgeStandIn } from './eventbridge-stand-in.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const ENTRY = 'services/autoscaler/main.js'

async function failure(client: ECSClient, command: any): Promise<{ name: string; status?: number; message: string }> {
  try {
    await client.send(command)
  } catch (err: any) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }
  }
  throw new Error('the call succeeded')
}

t.test('a bad variable stops the autoscaler before it listens, naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /environment variable EVENTBRIDGE_URL: expected a non-empty string, got nothing/],
    [{ EVENTBRIDGE_URL: 'ftp://x' }, /environment variable EVENTBRIDGE_URL: expected an http:\/\/ URL, got "ftp:\/\/x"/],
    [{ EVENTBRIDGE_URL: 'http://127.0.0.1:1', MAX_TASKS: '0' }, /environment variable MAX_TASKS: expected an integer in \[1, 256\], got "0"/],
  ]
  for (const [env, message] of cases) {
    const proc = spawn(process.execPath, [path.join(ROOT, 'dist', ENTRY)], {
      env: { PATH: process.env.PATH, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    proc.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise((r) => proc.once('exit', r))
    t.not(code, 0)
    t.match(stderr, message)
  }
})

t.test('services and tasks through the stock ECS client', async (t) => {
  const eventBridge = await startEventBridgeStandIn(t)
  const autoscaler = await spawnService(ENTRY, { EVENTBRIDGE_URL: eventBridge.url, MAX_TASKS: '4', TASK_START_TIMEOUT_MS: '60000' }, { timeoutMs: 60_000 })
  t.teardown(() => autoscaler.stop())
  const ecs = new ECSClient({ endpoint: autoscaler.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => ecs.destroy())

  const created = await ecs.send(new CreateServiceCommand({ serviceName: 'web', desiredCount: 1 }))
  t.equal(created.service?.serviceName, 'web')
  t.equal(created.service?.serviceArn, 'arn:aws:ecs:us-east-1:000000000000:service/default/web')
  t.equal(created.service?.status, 'ACTIVE')
  t.equal(created.service?.desiredCount, 1)
  t.equal(created.service?.taskDefinition, 'arn:aws:ecs:us-east-1:000000000000:task-definition/outage-lab-task-app:1')
  t.ok(created.service?.createdAt instanceof Date, 'timestamps reach the SDK as dates')

  const running = await eventually(
    async () => {
      const out = await ecs.send(new DescribeServicesCommand({ services: ['web'] }))
      return out.services?.[0]?.runningCount === 1 && out.services[0]
    },
    { what: 'the task RUNNING', timeoutMs: 60_000 },
  )
  t.equal(running.pendingCount, 0)
  t.match(
    running.events?.map((e) => e.message),
    [/has reached a steady state|has started 1 tasks/],
  )

  const { taskArns } = await ecs.send(new ListTasksCommand({ cluster: 'default', serviceName: 'web' }))
  t.equal(taskArns?.length, 1)
  t.match(taskArns![0], /^arn:aws:ecs:us-east-1:000000000000:task\/default\/[0-9a-f]{32}$/)
  const described = await ecs.send(new DescribeTasksCommand({ tasks: [taskArns![0], 'arn:aws:ecs:us-east-1:000000000000:task/default/nope'] }))
  t.equal(described.tasks?.[0].lastStatus, 'RUNNING')
  t.equal(described.tasks?.[0].desiredStatus, 'RUNNING')
  t.equal(described.tasks?.[0].group, 'service:web')
  t.ok(described.tasks?.[0].startedAt instanceof Date)
  t.equal(described.tasks?.[0].containers?.[0].networkBindings?.[0].bindIP, '127.0.0.1')
  t.same(described.failures, [{ arn: 'arn:aws:ecs:us-east-1:000000000000:task/default/nope', reason: 'MISSING' }])

  const missing = await ecs.send(new DescribeServicesCommand({ cluster: 'default', services: ['web', 'ghost'] }))
  t.equal(missing.services?.length, 1)
  t.same(missing.failures, [{ arn: 'arn:aws:ecs:us-east-1:000000000000:service/default/ghost', reason: 'MISSING' }])
  t.same((await ecs.send(new ListServicesCommand({}))).serviceArns, ['arn:aws:ecs:us-east-1:000000000000:service/default/web'])

  // Errors: ECS's types, 400 for the client's faults, the messages ECS uses.
  t.same(await failure(ecs, new UpdateServiceCommand({ service: 'ghost', desiredCount: 1 })), {
    name: 'ServiceNotFoundException',
    status: 400,
    message: 'Service not found.',
  })
  t.same(await failure(ecs, new CreateServiceCommand({ serviceName: 'web', desiredCount: 1 })), {
    name: 'InvalidParameterException',
    status: 400,
    message: 'Creation of service was not idempotent.',
  })
  t.same(await failure(ecs, new CreateServiceCommand({ serviceName: 'other', taskDefinition: 'nginx:3' })), {
    name: 'ClientException',
    status: 400,
    message: 'Unable to describe task definition.',
  })
  t.same(await failure(ecs, new CreateServiceCommand({ serviceName: '9lives' })), {
    name: 'InvalidParameterException',
    status: 400,
    message: 'Service name must begin with a letter and contain only letters, numbers, hyphens and underscores (up to 255).',
  })
  t.same(await failure(ecs, new DescribeServicesCommand({ cluster: 'prod', services: ['web'] })), {
    name: 'ClusterNotFoundException',
    status: 400,
    message: 'Cluster not found.',
  })
  t.same(await failure(ecs, new UpdateServiceCommand({ service: 'web', desiredCount: -1 })), {
    name: 'InvalidParameterException',
    status: 400,
    message: 'desiredCount must be an integer >= 0.',
  })
  t.same(await failure(ecs, new UpdateServiceCommand({ service: 'web', desiredCount: 5 })), {
    name: 'InvalidParameterException',
    status: 400,
    message: 'desiredCount can not exceed 4 on this host (MAX_TASKS).',
  })
  t.same(await failure(ecs, new DescribeTasksCommand({ tasks: [] })), { name: 'InvalidParameterException', status: 400, message: 'Tasks cannot be empty.' })
  t.same(await failure(ecs, new DeleteServiceCommand({ service: 'web' })), {
    name: 'InvalidParameterException',
    status: 400,
    message: 'The service cannot be stopped while it is scaled above 0.',
  })
  t.same(await failure(ecs, new ListTasksCommand({ serviceName: 'ghost' })), { name: 'ServiceNotFoundException', status: 400, message: 'Service not found.' })
  const stranger = new ECSClient({
    endpoint: autoscaler.url,
    region: 'us-east-1',
    credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' },
    maxAttempts: 1,
  })
  t.match(await failure(stranger, new ListServicesCommand({})), { name: 'InvalidSignatureException', status: 400 })
  stranger.destroy()

  // DeleteService with force drains the service: its task is deprovisioned, then it is INACTIVE.
  const deleted = await ecs.send(new DeleteServiceCommand({ service: 'web', force: true }))
  t.equal(deleted.service?.status, 'DRAINING')
  await eventually(async () => (await ecs.send(new DescribeServicesCommand({ services: ['web'] }))).services?.[0]?.status === 'INACTIVE', {
    what: 'the service INACTIVE',
    timeoutMs: 60_000,
  })
  const stopped = await ecs.send(new DescribeTasksCommand({ tasks: taskArns! }))
  t.equal(stopped.tasks?.[0].lastStatus, 'STOPPED')
  t.match(stopped.tasks?.[0].stoppedReason, /Scaling activity/)
  t.same(await failure(ecs, new UpdateServiceCommand({ service: 'web', desiredCount: 1 })), {
    name: 'ServiceNotActiveException',
    status: 400,
    message: 'Service was not ACTIVE.',
  })
  t.same((await ecs.send(new ListTasksCommand({ desiredStatus: 'STOPPED' }))).taskArns, taskArns)
})
