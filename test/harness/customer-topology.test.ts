// Customer services (the user's own) in the topology, as data: they start after every lab service,
// each with the AWS configuration every SDK reads from the environment and a key of its own that
// every lab service accepts; the compose platform gets a full service definition for each.
import t from 'tap'
import path from 'node:path'
import { bootWaves, type CustomerOptions } from '../../harness/topology/model.js'
import { systemTopology } from '../../harness/topology/system.js'
import { awsEnvironment, customerAccessKey, reservedCustomerName } from '../../harness/topology/customers.js'
import { planCompose, readComposeFile } from '../../harness/platform/compose/file.js'
import { localPlatform } from '../../harness/platform/local/index.js'
import { composePlatform } from '../../harness/platform/compose/index.js'
import { InvalidTopology } from '../../harness/topology/errors.js'
import { ROOT } from '../helpers/spawn.js'

const shop: CustomerOptions = {
  name: 'shop',
  command: ['node', 'server.mjs'],
  cwd: '/srv/shop',
  env: { MODE: 'naive', AWS_REGION: 'eu-west-1' },
  port: 8080,
  health: '/health',
  metrics: '/metrics',
  readyTimeoutMs: 30_000,
}
const names = (waves: ReturnType<typeof bootWaves>) => waves.map((w) => w.map((n) => ('service' in n ? n.service.name : `fleet:${n.fleet.name}`)).sort())

t.test('a customer starts after every lab service, with the AWS environment of the services the topology runs', async (t) => {
  const topo = systemTopology({ frontends: 2, threadLimit: 40, services: ['cognito', 'cloudwatch', 'lambda'], customers: [shop] })
  t.same(names(bootWaves(topo)).at(-1), ['shop'], 'the last wave: the customer alone')
  const s = topo.services.find((x) => x.name === 'shop')!
  const key = customerAccessKey('shop')
  t.same(s.env, {
    AWS_ENDPOINT_URL: { urlOf: 'kinesis-endpoint-main' },
    AWS_ENDPOINT_URL_KINESIS: { urlOf: 'kinesis-endpoint-main' },
    AWS_ENDPOINT_URL_CLOUDWATCH: { urlOf: 'cloudwatch' },
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: { urlOf: 'cognito' },
    AWS_ENDPOINT_URL_LAMBDA: { urlOf: 'lambda' },
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    MODE: 'naive',
  })
  t.same(s.readiness, { path: '/health', timeoutMs: 30_000 })
  t.same(s.customer, { command: ['node', 'server.mjs'], cwd: '/srv/shop', port: 8080, metricsPath: '/metrics', accessKeyId: key.accessKeyId })
  for (const lab of topo.services.filter((x) => !x.customer)) {
    t.equal(
      lab.env.OUTAGE_LAB_CREDENTIALS,
      `AKIDOUTAGELAB:outage-lab-secret,${key.accessKeyId}:${key.secretAccessKey}`,
      `${lab.name} accepts the customer's key, its own first`,
    )
  }
  for (const f of topo.fleets) t.match(f.env.OUTAGE_LAB_CREDENTIALS, key.accessKeyId, `the ${f.name} fleet accepts it`)
})

t.test('Kinesis alone: the customer gets Kinesis and nothing else; without a health path it is ready when its port is', async (t) => {
  const { health: _health, ...bare } = shop
  const topo = systemTopology({ frontends: 2, threadLimit: 40, services: [], customers: [{ ...bare, env: {} }] })
  const s = topo.services.find((x) => x.name === 'shop')!
  t.same(
    Object.keys(s.env).filter((k) => k.startsWith('AWS_ENDPOINT_URL')),
    ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_KINESIS'],
  )
  t.same(s.readiness, { timeoutMs: 30_000 })
})

t.test("customers' keys: one each, stable, distinct, upper-case letters and digits", async (t) => {
  const a = customerAccessKey('shop')
  t.same(customerAccessKey('shop'), a, 'the same in every run')
  t.not(customerAccessKey('shop-2').accessKeyId, a.accessKeyId)
  t.not(customerAccessKey('a-b').accessKeyId, customerAccessKey('ab').accessKeyId, 'names that differ only in dashes still differ')
  t.match(a.accessKeyId, /^AKIDCUSTSHOP[0-9A-F]{6}$/)
  t.equal(reservedCustomerName('kinesis-backend-1'), "names starting with kinesis- are the lab's processes")
  t.equal(reservedCustomerName('orders'), undefined)
})

t.test('awsEnvironment: what `outage-lab env` prints for a shell, the same variables a customer gets', async (t) => {
  const env = awsEnvironment({
    url: (s) => `http://127.0.0.1:${s === 'kinesis' ? 4567 : 4600}`,
    services: ['eventbridge', 'autoscaler', 'status-page'],
    region: 'us-east-1',
    key: { accessKeyId: 'AKIDX', secretAccessKey: 'sx' },
  })
  t.same(env, {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:4567',
    AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4567',
    AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:4600',
    AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:4600',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDX',
    AWS_SECRET_ACCESS_KEY: 'sx',
    AWS_EC2_METADATA_DISABLED: 'true',
  })
})

t.test('each platform says what it needs of a customer before anything starts', async (t) => {
  const { command: _command, ...imageOnly } = { ...shop, image: 'shop:1' }
  t.equal(localPlatform.customerIssue(shop, 'topology.customers[0]'), undefined)
  t.same(localPlatform.customerIssue(imageOnly, 'topology.customers[0]'), {
    path: 'topology.customers[0].command',
    expected: 'the command that runs it on the local platform (a list [program, arguments...])',
    got: 'nothing',
  })
  t.equal(composePlatform.customerIssue(imageOnly, 'topology.customers[1]'), undefined)
  t.same(composePlatform.customerIssue(shop, 'topology.customers[1]'), {
    path: 'topology.customers[1].image',
    expected: 'an image, or a build context (build), to run it on the compose platform',
    got: 'neither',
  })
})

t.test("compose: the override defines the customer's whole service, its URLs on the project's network", async (t) => {
  const file = readComposeFile(path.join(ROOT, 'docker-compose.yml'))
  const topo = systemTopology({
    frontends: 2,
    threadLimit: 40,
    services: ['cloudwatch'],
    customers: [
      { ...shop, image: 'shop:1', port: 3000 },
      { ...shop, name: 'billing', command: undefined, build: '/srv/billing', env: {} },
    ],
  })
  const hostPorts = Object.fromEntries(topo.services.map((s, i) => [s.name, 20_000 + i]))
  const plan = planCompose(topo, file, { runId: 'r1', adminToken: 'tok', internalToken: 'itok', secret: (n) => `secret-${n}`, hostPorts })
  const svc = plan.override.services.shop
  const env = svc.environment as Record<string, string>
  t.equal(svc.image, 'shop:1')
  t.notOk('command' in svc, "the local platform's command means nothing inside an image")
  t.same(svc.ports, [`127.0.0.1:${hostPorts.shop}:3000`], 'published on 127.0.0.1 only')
  t.same(svc.labels, { 'dev.outage-lab.run-id': 'r1' })
  t.equal(svc.init, true)
  t.equal(env.AWS_ENDPOINT_URL_KINESIS, 'http://kinesis-endpoint-main:8080')
  t.equal(env.AWS_ENDPOINT_URL_CLOUDWATCH, 'http://cloudwatch:8080')
  t.same([env.PORT, env.HOST, env.OUTAGE_LAB_CUSTOMER], ['3000', '0.0.0.0', 'shop'])
  t.same(
    plan.override.services.billing.build,
    { context: '/srv/billing', labels: { 'dev.outage-lab.run-id': 'r1' } },
    'built with the run, to be removed with it',
  )
  t.match((plan.override.services.cloudwatch.environment as Record<string, string>).OUTAGE_LAB_CREDENTIALS, customerAccessKey('billing').accessKeyId)
  t.ok(plan.services.includes('shop') && plan.services.includes('billing'))

  const noImage = systemTopology({ frontends: 2, threadLimit: 40, services: [], customers: [shop] })
  const err = t.throws(() =>
    planCompose(noImage, file, { runId: 'r1', adminToken: 'tok', internalToken: 'itok', secret: (n) => n, hostPorts }),
  ) as InvalidTopology
  t.equal(err.message.split(', got')[0], 'topology services[4].customer: expected an image or a build context to run customer shop on compose')
})
