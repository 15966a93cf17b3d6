// The whole system as data: which downstream service waits for which, and how each remediation
// switch reaches the service it changes.
import t from 'tap'
import { bootWaves, fleetMember } from '../../harness/topology/model.js'
import { systemTopology } from '../../harness/topology/system.js'
import { InvalidTopology } from '../../harness/topology/errors.js'

const names = (waves: ReturnType<typeof bootWaves>) => waves.map((w) => w.map((n) => ('service' in n ? n.service.name : `fleet:${n.fleet.name}`)).sort())
const service = (topo: ReturnType<typeof systemTopology>, name: string) => topo.services.find((s) => s.name === name)!

t.test('the system boots Kinesis first, then the services that ship to it, then the ones that call those', async (t) => {
  const topo = systemTopology({ frontends: 3, threadLimit: 40 })
  t.same(names(bootWaves(topo)), [
    ['kinesis-metadata'],
    ['kinesis-backend-1', 'kinesis-backend-2'],
    ['fleet:main'],
    ['kinesis-endpoint-main'],
    ['cloudwatch', 'cognito', 'eventbridge'],
    ['autoscaler', 'lambda', 'status-page'],
  ])
  t.same(service(topo, 'cognito').env.KINESIS_ENDPOINT, { urlOf: 'kinesis-endpoint-main' })
  t.same(service(topo, 'lambda').env.CLOUDWATCH_URL, { urlOf: 'cloudwatch' })
  t.same(service(topo, 'autoscaler').env.EVENTBRIDGE_URL, { urlOf: 'eventbridge' })
  t.same(service(topo, 'status-page').env.COGNITO_URL, { urlOf: 'cognito' })
  t.same(service(topo, 'status-page').env.OUTAGE_LAB_OPERATOR_KEY, { secret: 'operator-key' }, 'the backup key is a per-run secret')
  t.equal(service(topo, 'cognito').env.SUSTAIN_KINESIS_ERRORS, 'false', 'the 2020 behaviour is the default')
  t.equal(service(topo, 'lambda').env.BOUNDED_AGENT_BUFFER, 'false')
  t.equal(service(topo, 'cloudwatch').env.LOCAL_STORE, 'false')
})

t.test('remediation switches reach their services', async (t) => {
  const topo = systemTopology({
    frontends: 2,
    threadLimit: 40,
    switches: {
      cognito: { sustainKinesisErrors: true, bufferRecords: 300 },
      cloudwatch: { localStore: true, localStoreRetentionMs: 30_000 },
      lambda: { boundedAgentBuffer: true },
    },
  })
  t.match(service(topo, 'cognito').env, { SUSTAIN_KINESIS_ERRORS: 'true', ACCESS_BUFFER_RECORDS: '300' })
  t.match(service(topo, 'cloudwatch').env, { LOCAL_STORE: 'true', LOCAL_STORE_RETENTION_MS: '30000' })
  t.match(service(topo, 'lambda').env, { BOUNDED_AGENT_BUFFER: 'true' })
})

t.test('a partitioned fleet gives CloudWatch its own front-ends and endpoint on the same back-ends', async (t) => {
  const topo = systemTopology({
    frontends: 4,
    threadLimit: 18,
    switches: { cloudwatch: { partitionedFleet: true } },
    partitionedFleet: { frontends: 2, threadLimit: 18 },
  })
  t.same(
    topo.fleets.map((f) => [f.name, f.count, f.endpoint]),
    [
      ['main', 4, 'kinesis-endpoint-main'],
      ['cloudwatch', 2, 'kinesis-endpoint-cloudwatch'],
    ],
  )
  t.same(service(topo, 'cloudwatch').env.KINESIS_ENDPOINT, { urlOf: 'kinesis-endpoint-cloudwatch' })
  t.same(service(topo, 'cloudwatch').dependsOn, ['kinesis-endpoint-cloudwatch'])
  t.same(service(topo, 'eventbridge').env.KINESIS_ENDPOINT, { urlOf: 'kinesis-endpoint-main' }, 'everyone else stays on the main fleet')
  t.same(topo.fleets[1].dependsOn, topo.fleets[0].dependsOn)
})

t.test('a cellular fleet places members in cells of a bounded size', async (t) => {
  const topo = systemTopology({ frontends: 7, threadLimit: 18, cellSize: 3, services: [] })
  const cells = Array.from({ length: 7 }, (_, i) => fleetMember(topo.fleets[0], i + 1).env.CELL)
  t.same(cells, ['cell-1', 'cell-1', 'cell-1', 'cell-2', 'cell-2', 'cell-2', 'cell-3'])
})

t.test('a service without the services it calls is refused before anything starts', async (t) => {
  t.throws(
    () => systemTopology({ frontends: 1, threadLimit: 40, services: ['lambda'] }),
    new InvalidTopology('services[0]', 'cloudwatch in the services too (lambda calls it)', ['lambda']),
  )
  t.throws(() => systemTopology({ frontends: 1, threadLimit: 40, services: ['dynamo' as any] }), InvalidTopology)
  t.throws(
    () => systemTopology({ frontends: 1, threadLimit: 40, services: ['eventbridge'], switches: { cloudwatch: { partitionedFleet: true } } }),
    InvalidTopology,
  )
  t.same(
    systemTopology({ frontends: 1, threadLimit: 40, services: [] }).services.map((s) => s.name),
    ['kinesis-metadata', 'kinesis-backend-1', 'kinesis-backend-2', 'kinesis-endpoint-main'],
  )
})
