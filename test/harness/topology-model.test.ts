import t from 'tap'
import { kinesisTopology, bootWaves, fleetMember, memberNumber, validateTopology, type Topology } from '../../harness/topology/model.js'
import { InvalidTopology } from '../../harness/topology/errors.js'

const names = (waves: ReturnType<typeof bootWaves>) => waves.map((w) => w.map((n) => ('service' in n ? n.service.name : `fleet:${n.fleet.name}`)).sort())

t.test('the Kinesis topology boots metadata, then back-ends, then the main fleet, then its endpoint', async (t) => {
  const topo = kinesisTopology({ frontends: 3, threadLimit: 40 })
  t.same(names(bootWaves(topo)), [['kinesis-metadata'], ['kinesis-backend-1', 'kinesis-backend-2'], ['fleet:main'], ['kinesis-endpoint-main']])
  const main = topo.fleets[0]
  t.equal(main.count, 3)
  t.equal(main.threadLimit, 40)
  t.equal(main.membership, 'kinesis-metadata')
  t.equal(topo.kinesisEndpoint, 'kinesis-endpoint-main')
  t.equal(topo.region, 'us-east-1')
  t.same(topo.credentials, { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' })
})

t.test('a fleet member carries its id, fleet, thread limit and the remediation switches in its env', async (t) => {
  const topo = kinesisTopology({ frontends: 2, threadLimit: 25, learnDelayMs: 1500, bootstrap: 'metadata', seed: 7 })
  const m = fleetMember(topo.fleets[0], 2)
  t.equal(m.name, 'kinesis-frontend-main-2')
  t.match(m.env, {
    FRONTEND_ID: 'kinesis-frontend-main-2',
    FLEET: 'main',
    THREAD_LIMIT: '25',
    LEARN_DELAY_MS: '1500',
    BOOTSTRAP: 'metadata',
    OUTAGE_LAB_SEED: '7',
  })
  t.same(m.env.METADATA_URL, { urlOf: 'kinesis-metadata' }, 'addresses are references the backend resolves, not local URLs')
  t.equal(memberNumber(topo.fleets[0], 'kinesis-frontend-main-12'), 12)
  t.equal(memberNumber(topo.fleets[0], 'kinesis-backend-1'), undefined)
})

t.test('every back-end gets the same iterator secret reference and registers with metadata', async (t) => {
  const topo = kinesisTopology({ frontends: 1, threadLimit: 40, backends: 3 })
  const backends = topo.services.filter((s) => s.kind === 'kinesis-backend')
  t.same(
    backends.map((b) => b.env.BACKEND_ID),
    ['backend-1', 'backend-2', 'backend-3'],
  )
  for (const b of backends) t.same(b.env.ITERATOR_SECRET, { secret: 'iterator' })
})

t.test('bad Kinesis topology options are refused with the option and what was expected', async (t) => {
  const err = (opts: any) => {
    try {
      kinesisTopology(opts)
    } catch (e) {
      return e as InvalidTopology
    }
    throw new Error('no error')
  }
  t.equal(err({ frontends: 0, threadLimit: 40 }).message, 'topology frontends: expected an integer in [1, 256], got 0')
  t.equal(err({ frontends: 2, threadLimit: 1.5 }).path, 'threadLimit')
  t.equal(err({ frontends: 2, threadLimit: 40, bootstrap: 'dns' }).message, 'topology bootstrap: expected peers or metadata, got "dns"')
  t.equal(err({ frontends: 2, threadLimit: 40, learnDelayMs: -1 }).path, 'learnDelayMs')
})

t.test('a topology that names an unknown service or loops on itself fails before anything starts', async (t) => {
  const base = (): Topology => kinesisTopology({ frontends: 1, threadLimit: 40 })
  const unknown = base()
  unknown.services[0].env.X = { urlOf: 'nope' }
  t.throws(() => validateTopology(unknown), { name: 'InvalidTopology', path: 'services[0].env.X' })
  const cycle = base()
  cycle.services[0].dependsOn = ['kinesis-endpoint-main']
  t.throws(() => bootWaves(cycle), { name: 'InvalidTopology', message: /cycle/ })
  const dup = base()
  dup.services[1].name = 'kinesis-metadata'
  t.throws(() => validateTopology(dup), { path: 'services[1].name', message: /unique/ })
  const noMembership = base()
  noMembership.fleets[0].dependsOn = ['kinesis-backend-1']
  t.throws(() => validateTopology(noMembership), { path: 'fleets[0].dependsOn' })
})
