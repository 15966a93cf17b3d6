// The override the compose backend generates for a run: what the experiment decides about each
// container (no Docker needed to check it).
import t from 'tap'
import path from 'node:path'
import { planCompose, readComposeFile } from '../../harness/platform/compose/file.js'
import { niceWeight } from '../../harness/platform/compose/cpu.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { systemTopology } from '../../harness/topology/system.js'
import { ROOT } from '../helpers/spawn.js'

const file = readComposeFile(path.join(ROOT, 'docker-compose.yml'))
const plan = (topology: ReturnType<typeof kinesisTopology>, extra = {}) => {
  const hostPorts = Object.fromEntries(topology.services.map((s, i) => [s.name, 20_000 + i]))
  return planCompose(topology, file, { runId: 'r1', adminToken: 'tok', internalToken: 'itok', secret: (n) => `secret-${n}`, hostPorts, ...extra })
}

t.test('containers weighted like services at nice 5 when the run asks for it', async (t) => {
  t.equal(niceWeight(0), 1024, "the harness's own weight")
  t.equal(niceWeight(5), 335)
  const p = plan(kinesisTopology({ frontends: 2, threadLimit: 20 }), { cpu: { cgroupParent: '/', shares: niceWeight(5) } })
  for (const [name, svc] of Object.entries(p.override.services)) {
    t.same([svc.cgroup_parent, svc.cpu_shares], ['/', 335], `${name} at the cgroup root with cpu_shares 335`)
  }
  const plain = plan(kinesisTopology({ frontends: 2, threadLimit: 20 }))
  t.notOk(
    Object.values(plain.override.services).some((svc) => 'cgroup_parent' in svc || 'cpu_shares' in svc),
    'otherwise the engine places them',
  )
})

t.test('a fleet: its thread limit as pids_limit, cells allowed, Docker restarts what the health system removes', async (t) => {
  const p = plan(kinesisTopology({ frontends: 4, threadLimit: 20, cellSize: 2, removeUnhealthyAfterMs: 4_000 }))
  const fe = p.override.services['kinesis-frontend-main']
  t.equal(fe.pids_limit, 20)
  t.equal((fe.environment as Record<string, string>).THREAD_LIMIT_ENFORCEMENT, 'docker')
  t.equal(fe.restart, 'on-failure')
  t.equal(p.scale['kinesis-frontend-main'], 4)
  t.notOk(
    'restart' in plan(kinesisTopology({ frontends: 4, threadLimit: 20 })).override.services['kinesis-frontend-main'],
    'no health system, no restart policy',
  )
})

t.test('every fleet of the remediations has its compose service, behind its profile', async (t) => {
  const p = plan(kinesisTopology({ frontends: 2, threadLimit: 20, shardMapCache: { frontends: 2 } }))
  t.ok(p.override.services['kinesis-frontend-cache'], 'the dedicated shard-map cache fleet (remediation 5)')
  t.ok(p.profiles.includes('cache-fleet'))
  t.equal(
    (p.override.services['kinesis-frontend-main'].environment as Record<string, string>).SHARD_MAP_CACHE_FLEET,
    'cache',
    'the customer-facing fleet reads its map from it',
  )
})

t.test("the run's internal credential goes to every lab container and to no customer's", async (t) => {
  const topo = systemTopology({
    frontends: 2,
    threadLimit: 20,
    customers: [{ name: 'shop', image: 'shop:1', port: 3000, env: {}, readyTimeoutMs: 10_000 }] as never,
  })
  const p = plan(topo as ReturnType<typeof kinesisTopology>)
  for (const [name, svc] of Object.entries(p.override.services)) {
    const env = svc.environment as Record<string, string>
    if (name === 'shop') t.notOk('OUTAGE_LAB_INTERNAL_TOKEN' in env || Object.values(env).includes('itok'), 'the customer has no internal token')
    else t.equal(env.OUTAGE_LAB_INTERNAL_TOKEN, 'itok', `${name} has it`)
  }
  const env = (name: string) => p.override.services[name].environment as Record<string, string>
  t.equal(env('cloudwatch').AUTOSCALER_URL, 'http://autoscaler:8080', "CloudWatch's actions carry it to the autoscaler only")
  t.equal(env('eventbridge').AUTOSCALER_URL, 'http://autoscaler:8080', "EventBridge's deliveries carry it to the autoscaler only")
})

t.test("every container's log is bounded by the engine, customers' too: two files of 8 MiB", async (t) => {
  const topo = systemTopology({
    frontends: 2,
    threadLimit: 20,
    customers: [{ name: 'shop', image: 'shop:1', port: 3000, env: {}, readyTimeoutMs: 10_000 }] as never,
  })
  const p = plan(topo as ReturnType<typeof kinesisTopology>)
  for (const [name, svc] of Object.entries(p.override.services)) {
    t.same(svc.logging, { driver: 'json-file', options: { 'max-size': '8m', 'max-file': '2' } }, name)
  }
})
