// The override the compose backend generates for a run: what the experiment decides about each
// container (no Docker needed to check it).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { isInternal, planCompose, readComposeFile } from '../../harness/platform/compose/file.js'
import { decideReach } from '../../harness/platform/compose/reach.js'
import { niceWeight } from '../../harness/platform/compose/cpu.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { systemTopology } from '../../harness/topology/system.js'
import { ROOT } from '../helpers/spawn.js'
import { SEMI_SPACE_MIB, serviceNodeFlags } from '../../harness/platform/paths.js'

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

t.test("the image starts every service as the local platform does: its kind's young generation, pinned (serviceNodeFlags)", async (t) => {
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))
  t.ok(entry, 'the Dockerfile has an ENTRYPOINT in exec form')
  const image = JSON.parse(entry![1]) as string[]
  t.same(image, ['node', ...serviceNodeFlags('kinesis-frontend'), '/app/docker/entry.mjs'], 'the image: the default, the data path')
  const doc = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; entrypoint?: string[] }>
  }
  const kinds = new Set<string>()
  for (const [name, svc] of Object.entries(doc.services)) {
    if (!svc.command) continue
    const kind = svc.command[0]
    kinds.add(kind)
    t.same(svc.entrypoint ?? image, ['node', ...serviceNodeFlags(kind), '/app/docker/entry.mjs'], `${name} (${kind})`)
  }
  for (const kind of Object.keys(SEMI_SPACE_MIB)) t.ok(kinds.has(kind), `docker-compose.yml runs ${kind}, which has its own size`)
})

t.test('what AWS keeps inside its network is not published; what customers call is, on 127.0.0.1 only', async (t) => {
  const doc = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { ports?: string[] }>
  }
  const internal = [
    'kinesis-metadata',
    'kinesis-backend-1',
    'kinesis-backend-2',
    'kinesis-frontend-main',
    'kinesis-frontend-cloudwatch',
    'kinesis-frontend-cache',
  ]
  for (const name of internal) t.notOk(doc.services[name].ports, `docker-compose.yml publishes no port of ${name}`)
  const facing = ['kinesis-endpoint-main', 'kinesis-endpoint-cloudwatch', 'cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page']
  for (const name of facing) t.match(doc.services[name].ports, [/^127\.0\.0\.1:\$\{OUTAGE_LAB_PORT_[A-Z0-9_]+-\d+\}:8080$/], `${name} on 127.0.0.1`)

  const topo = systemTopology({ frontends: 2, threadLimit: 20 }) as ReturnType<typeof kinesisTopology>
  t.same(
    topo.services.filter(isInternal).map((s) => s.name),
    ['kinesis-metadata', 'kinesis-backend-1', 'kinesis-backend-2'],
  )
  const hostPorts = Object.fromEntries(topo.services.filter((s) => !isInternal(s)).map((s, i) => [s.name, 20_000 + i]))
  const unpublished = planCompose(topo, file, { runId: 'r1', adminToken: 'tok', internalToken: 'itok', secret: (n) => n, hostPorts })
  t.notOk(
    Object.values(unpublished.override.services).some((svc) => 'ports' in svc),
    'a run adds no port: internal services are reached at their container addresses',
  )
  t.notOk('OUTAGE_LAB_PORT_KINESIS_METADATA' in unpublished.variables, 'and needs no host port for them')
  t.equal(unpublished.variables.OUTAGE_LAB_PORT_KINESIS_ENDPOINT_MAIN, String(hostPorts['kinesis-endpoint-main']))

  const all = Object.fromEntries(topo.services.map((s, i) => [s.name, 21_000 + i]))
  const fallback = planCompose(topo, file, { runId: 'r1', adminToken: 'tok', internalToken: 'itok', secret: (n) => n, hostPorts: all, publishInternal: true })
  t.same(fallback.override.services['kinesis-metadata'].ports, [`127.0.0.1:${all['kinesis-metadata']}:8080`], 'where the host has no route: 127.0.0.1 only')
  t.same(fallback.override.services['kinesis-frontend-main'].ports, ['127.0.0.1::8080'], 'a free port per replica')
  t.notOk('ports' in fallback.override.services.cognito, 'an AWS-facing service keeps the port docker-compose.yml gives it')
})

t.test("the harness reaches container addresses only where this host is the engine's bridge gateway", async (t) => {
  const facts = { platform: 'linux', gateways: ['172.17.0.1'], hostAddresses: new Set(['127.0.0.1', '172.17.0.1']), forced: false }
  t.match(decideReach(facts), { published: false, how: /bridge gateway 172\.17\.0\.1/ })
  t.match(decideReach({ ...facts, platform: 'darwin' }), { published: true, why: /on darwin the engine runs in a VM/ })
  t.match(decideReach({ ...facts, hostAddresses: new Set(['127.0.0.1']) }), { published: true, why: /Docker Desktop, a rootless or a remote engine/ })
  t.match(decideReach({ ...facts, gateways: [] }), { published: true, why: /no default bridge/ })
  t.match(decideReach({ ...facts, forced: true }), { published: true, why: 'OUTAGE_LAB_COMPOSE_PUBLISH_INTERNAL=1' })
})

t.test('a customer built from its context is labelled with the run, so the image built for it goes with it', async (t) => {
  const topo = systemTopology({
    frontends: 2,
    threadLimit: 20,
    customers: [
      { name: 'shop', build: '/src/shop', port: 3000, env: {}, readyTimeoutMs: 10_000 },
      { name: 'cart', image: 'cart:1', port: 3001, env: {}, readyTimeoutMs: 10_000 },
    ] as never,
  })
  const p = plan(topo as ReturnType<typeof kinesisTopology>)
  t.same(p.override.services.shop.build, { context: '/src/shop', labels: { 'dev.outage-lab.run-id': 'r1' } })
  t.notOk('build' in p.override.services.cart, 'a customer given as an image is not built, and its image is not the run’s to remove')
})
