import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { localPlatform, type StartedLocalTopology } from '../../harness/platform/local/index.js'
import { detectPidsCgroups } from '../../harness/platform/local/cgroups.js'
import type { TopologyEvent } from '../../harness/platform/started.js'
// @ts-ignore: a plain .mjs fixture (no types)
import { fixtureTopology } from '../fixtures/topology-fixture.mjs'

const cgroups = detectPidsCgroups()
const noCgroups = cgroups.kind === 'none' ? `pids cgroups are not writable here: ${cgroups.reason}` : false

function alive(pid: number | undefined): boolean {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function json(url: string, timeoutMs = 2_000): Promise<any> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  return res.body.json()
}

async function boot(t: Tap.Test, opts: any = {}, backendOpts: any = {}): Promise<{ topo: StartedLocalTopology; events: TopologyEvent[] }> {
  const events: TopologyEvent[] = []
  const topo = await localPlatform.start(fixtureTopology(opts), { runDir: t.testdir(), signals: false, onEvent: (e) => events.push(e), ...backendOpts })
  t.teardown(() => topo.stop())
  return { topo, events }
}

t.test('a topology boots in dependency order and every service answers its health check', async (t) => {
  const { topo, events } = await boot(t, { members: 3 })
  const order = events.filter((e) => e.kind === 'service-started' || e.kind === 'service-ready').map((e) => `${e.kind.slice(8)} ${e.detail.name}`)
  const at = (s: string) => order.indexOf(s)
  t.ok(at('ready registry') < at('started member-1'), 'members start after their membership service is ready')
  for (const m of ['member-1', 'member-2', 'member-3']) t.ok(at(`ready ${m}`) < at('started balancer'), `the balancer starts after ${m} is ready`)
  const health = await topo.health()
  t.same(health.map((h) => [h.name, h.status]).sort(), [
    ['balancer', 200],
    ['member-1', 200],
    ['member-2', 200],
    ['member-3', 200],
    ['registry', 200],
  ])
  t.same(
    topo.services().map((s) => s.state),
    ['running', 'running', 'running', 'running', 'running'],
  )
  const byName = new Map(health.map((h) => [h.name, h.body as any]))
  const e = topo.endpoints()
  t.equal(byName.get('balancer').metadataUrl, e.services.registry, "a urlOf reference resolves to the service's local URL")
  t.equal(e.kinesis, e.services.balancer)
  t.same(e.fleets.main.members, ['member-1', 'member-2', 'member-3'])
  t.equal(e.fleets.main.endpoint, e.services.balancer)
  const secrets = new Set(['member-1', 'member-2', 'member-3'].map((m) => byName.get(m).secret))
  t.equal(secrets.size, 1, 'every service naming a secret gets the same per-run value')
  t.match([...secrets][0], /^[0-9a-f]{48}$/)
  t.equal(byName.get('member-2').frontendId, 'member-2')
  t.equal(byName.get('member-2').ppid, process.pid, "the service process is a child of the harness (the cgroup shell exec'd into it)")
  t.ok(fs.existsSync(path.join(topo.runDir, 'logs', 'member-2.log')), 'each service logs to <runDir>/logs/<name>.log')
  t.match(fs.readFileSync(path.join(topo.runDir, 'logs', 'member-2.log'), 'utf8'), /"msg":"listening"/)
})

t.test('the initial fleet is registered in membership before any member starts', async (t) => {
  const { topo } = await boot(t, { members: 3 })
  for (const h of await topo.health()) {
    if (h.name.startsWith('member-')) t.same((h.body as any).membersAtStart, ['member-1', 'member-2', 'member-3'], `${h.name} saw the whole fleet at start`)
  }
})

t.test('scaling out registers and starts new members; scaling in deregisters and stops the highest-numbered first', async (t) => {
  const { topo } = await boot(t, { members: 2 })
  const registry = topo.endpoints().services.registry
  const out = await topo.scaleFleet('main', 4)
  t.same(out, { fleet: 'main', from: 2, to: 4, added: ['member-3', 'member-4'], removed: [], notReady: [] })
  t.same(
    (await json(`${registry}/fleets/main/members`)).members.map((m: any) => m.id),
    ['member-1', 'member-2', 'member-3', 'member-4'],
  )
  t.equal((await topo.health()).filter((h) => h.status === 200).length, 6)
  const pids = new Map(topo.services().map((s) => [s.name, s.pid]))
  const cg = ['member-3', 'member-4'].map((m) => topo.cgroupOf(m))

  const back = await topo.scaleFleet('main', 1)
  t.same(back.removed, ['member-4', 'member-3', 'member-2'])
  t.same(
    (await json(`${registry}/fleets/main/members`)).members.map((m: any) => m.id),
    ['member-1'],
  )
  for (const m of ['member-2', 'member-3', 'member-4']) t.notOk(alive(pids.get(m)), `${m}'s process is gone`)
  t.ok(alive(pids.get('member-1')))
  if (!noCgroups) for (const dir of cg) t.notOk(fs.existsSync(dir!), `${dir} was removed`)
  t.same(topo.endpoints().fleets.main.members, ['member-1'])
  t.equal(topo.fleetSize('main'), 1)
})

t.test('a fleet restart gives every member a new process on the same port under the same id', async (t) => {
  const { topo, events } = await boot(t, { members: 3 })
  const before = topo.services().filter((s) => s.fleet === 'main')
  const result = await topo.restartFleet('main', { ratePerSec: 5 })
  t.same(result.restarted, ['member-1', 'member-2', 'member-3'])
  t.same(result.notReady, [])
  const after = topo.services().filter((s) => s.fleet === 'main')
  for (let i = 0; i < 3; i++) {
    t.equal(after[i].url, before[i].url, `${after[i].name} keeps its URL`)
    t.not(after[i].pid, before[i].pid, `${after[i].name} is a new process`)
    t.notOk(alive(before[i].pid), `${after[i].name}'s old process is gone`)
    t.equal(after[i].restarts, 1)
  }
  const starts = events.filter((e) => e.kind === 'service-stopped').map((e) => e.detail.name)
  t.same(starts, ['member-1', 'member-2', 'member-3'], 'members are restarted in order')
  const all = await topo.restartFleet('main', { all: true })
  t.same(all.notReady, [])
  t.equal((await topo.health()).filter((h) => h.status === 200).length, 5)
  await t.rejects(topo.restartFleet('main', { ratePerSec: 0 }), { code: 'INVALID_ARGUMENT' })
  await t.rejects(topo.restartFleet('main', {}), { code: 'INVALID_ARGUMENT' })
  await t.rejects(topo.scaleFleet('other', 2), { code: 'UNKNOWN_FLEET', message: 'no fleet named "other"; fleets: main' })
  await t.rejects(topo.scaleFleet('main', 1000), { code: 'INVALID_ARGUMENT' })
})

t.test('a paused member answers nothing until resumed; a killed member stays down until restarted', async (t) => {
  const { topo } = await boot(t, { members: 2 })
  const url = topo.endpoints().services['member-1']
  await topo.pause('member-1')
  t.equal(topo.services().find((s) => s.name === 'member-1')!.state, 'paused')
  await t.rejects(request(`${url}/health`, { headersTimeout: 500 }), { code: 'UND_ERR_HEADERS_TIMEOUT' }, 'a SIGSTOPped process accepts but never answers')
  await topo.resume('member-1')
  t.equal((await request(`${url}/health`)).statusCode, 200)

  const pid = topo.services().find((s) => s.name === 'member-2')!.pid
  await topo.kill('member-2')
  const dead = topo.services().find((s) => s.name === 'member-2')!
  t.equal(dead.state, 'exited')
  t.same(dead.exit, { code: null, signal: 'SIGKILL' })
  t.notOk(alive(pid))
  await topo.restart('member-2')
  const back = topo.services().find((s) => s.name === 'member-2')!
  t.equal(back.state, 'running')
  t.equal(back.url, dead.url)
  await t.rejects(topo.kill('nobody'), { code: 'UNKNOWN_SERVICE' })
})

t.test('a service that fails its readiness check tears everything down and reports its stderr', async (t) => {
  const events: TopologyEvent[] = []
  const err: any = await localPlatform
    .start(fixtureTopology({ members: 2, memberEnv: { FIXTURE_FAIL: 'no disk' } }), { runDir: t.testdir(), signals: false, onEvent: (e) => events.push(e) })
    .then(
      () => undefined,
      (e) => e,
    )
  t.equal(err?.name, 'ServiceNotReady')
  t.match(err.service, /^member-[12]$/)
  t.match(err.message, /was not ready: the process exited before it was ready/)
  t.match(err.stderrTail, /refuses to start: no disk/)
  const registryPid = events.find((e) => e.kind === 'service-started' && e.detail.name === 'registry')!.detail.pid as number
  t.notOk(alive(registryPid), 'the service that had started is stopped')
  t.notOk(
    events.some((e) => e.kind === 'service-started' && e.detail.name === 'balancer'),
    'nothing after the failed wave starts',
  )
  if (!noCgroups)
    t.same(
      events.filter((e) => e.kind === 'cgroups').map((e) => e.detail.removed),
      [true],
      "the run's cgroups are removed",
    )
})

t.test('a service that never turns healthy fails its wait after the timeout', async (t) => {
  await t.rejects(
    localPlatform.start(fixtureTopology({ members: 1, serviceEnv: { FIXTURE_NEVER_READY: '1' }, readinessTimeoutMs: 700 }), {
      runDir: t.testdir(),
      signals: false,
    }),
    { name: 'ServiceNotReady', service: 'registry', message: /no 2xx from GET \/health within 700 ms \(last: GET \/health answered 503\)/ },
  )
})

t.test('front-ends in pids cgroups cannot create threads past the thread limit', { skip: noCgroups }, async (t) => {
  const { topo } = await boot(t, { members: 2, threadLimit: 20, workers: 30 })
  t.equal(topo.threadLimitEnforcement, 'cgroup')
  for (const h of await topo.health()) {
    if (!h.name.startsWith('member-')) continue
    const body = h.body as any
    t.equal(body.thread_limit_enforcement, 'cgroup', `${h.name} is told its limit is a cgroup's`)
    t.equal(body.thread_limit, '20')
    t.equal(body.pidsCgroup, `/outage-lab/${topo.runId}/${h.name}`, `${h.name} runs in its own cgroup`)
    t.ok(body.threads <= 20, `${h.name} has ${body.threads} threads, within pids.max`)
    t.ok(body.workerFailures.length > 0, `${h.name} failed to create ${body.workerFailures.length} of 30 workers`)
    t.equal(body.workerFailures[0], 'ERR_WORKER_INIT_FAILED')
    t.equal(fs.readFileSync(path.join(topo.cgroupOf(h.name)!, 'pids.max'), 'utf8').trim(), '20')
  }
  const registry = (await topo.health()).find((h) => h.name === 'registry')!.body as any
  t.equal(registry.thread_limit_enforcement, undefined, 'only fleet members are told about the thread limit')
})

t.test('without cgroups the front-ends are told to enforce their thread limit themselves', async (t) => {
  const { topo } = await boot(t, { members: 1, workers: 2 }, { osThreadLimit: false })
  t.equal(topo.threadLimitEnforcement, 'process')
  t.match(topo.enforcementNote, /cgroups disabled by the caller/)
  const member = (await topo.health()).find((h) => h.name === 'member-1')!.body as any
  t.equal(member.thread_limit_enforcement, 'process')
  t.equal(topo.cgroupOf('member-1'), undefined)
})

t.test('a started topology is AsyncDisposable: disposing it stops every service', async (t) => {
  const topo = await localPlatform.start(fixtureTopology({ members: 1 }), { runDir: t.testdir(), signals: false })
  const pids = topo.services().map((s) => s.pid!)
  t.ok(pids.every(alive))
  await topo[Symbol.asyncDispose]()
  t.notOk(pids.some(alive), 'no service process is left')
  t.same(
    topo.services().map((s) => s.state),
    ['stopped', 'stopped', 'stopped'],
  )
  await t.rejects(topo.scaleFleet('main', 2), { code: 'STOPPED' }, 'a stopped run refuses operations')
  if (!noCgroups) t.notOk(fs.existsSync(topo.cgroupDir!), 'its cgroups are gone')
})
