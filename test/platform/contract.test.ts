// The contract every platform of the registry keeps, run against each one that can run here (the
// compose platform where a Docker engine answers and the image is built): start the Kinesis
// topology, scale its fleet up and down, restart it paced and all at once, kill, pause and resume,
// partition and heal a service, and stop with nothing left on the machine. A new platform is one
// folder and one registry line; this test then covers it without a change.
import t from 'tap'
import { PLATFORM_NAMES, loadPlatform } from '../../harness/platform/registry.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import type { StartedTopology } from '../../harness/platform/started.js'
import { eventually } from '../helpers/eventually.js'

const BACKEND = 'kinesis-backend-1'
const MEMBERS = (n: number) => Array.from({ length: n }, (_, i) => `kinesis-frontend-main-${i + 1}`)

async function healthy(topo: StartedTopology, names?: string[]): Promise<boolean> {
  const probes = await topo.health()
  return probes.filter((p) => !names || names.includes(p.name)).every((p) => p.status === 200)
}

/**
 * Loopback, or a private address of the engine's bridge: the compose platform reaches what AWS
 * keeps inside its network (metadata, back-ends, front-ends) at its container address, unpublished.
 */
const ON_THIS_MACHINE = /^http:\/\/(127\.0\.0\.1|10\.[\d.]+|172\.(1[6-9]|2\d|3[01])\.[\d.]+|192\.168\.[\d.]+):\d+$/

const stateOf = (topo: StartedTopology, name: string) => topo.services().find((s) => s.name === name)?.state

for (const name of PLATFORM_NAMES) {
  const platform = await loadPlatform(name)
  const unavailable = await platform.unavailable()
  t.test(`the ${name} platform keeps the platform contract`, { skip: unavailable ?? false }, async (t) => {
    // A thread limit far above what 3 members need: this test is about the platform, not the outage.
    const topo = await platform.start(kinesisTopology({ frontends: 2, threadLimit: 64, bootstrap: 'metadata' }), {
      runDir: t.testdir(),
      signals: false,
      fleetPeaks: { main: 3 },
    })
    t.teardown(() => topo.stop())

    await t.test('start: every service is ready, the Kinesis endpoint on 127.0.0.1, nothing beyond this machine', async (t) => {
      const e = topo.endpoints()
      t.match(e.kinesis, /^http:\/\/127\.0\.0\.1:\d+$/)
      for (const [name, url] of Object.entries(e.services)) t.match(url, ON_THIS_MACHINE, `${name} at ${url}`)
      t.same(e.fleets.main.members, MEMBERS(2))
      t.ok(await healthy(topo), 'every service answers /health with 200')
      t.ok(['cgroup', 'docker', 'process'].includes(topo.threadLimitEnforcement))
    })

    await t.test('scale up and down: members join ready, the highest-numbered leave first', async (t) => {
      const up = await topo.scaleFleet('main', 3)
      t.same(up.added, ['kinesis-frontend-main-3'])
      t.same(up.notReady, [])
      t.equal(topo.fleetSize('main'), 3)
      t.same(topo.endpoints().fleets.main.members, MEMBERS(3))
      const down = await topo.scaleFleet('main', 2)
      t.same(down.removed, ['kinesis-frontend-main-3'])
      t.same(topo.endpoints().fleets.main.members, MEMBERS(2))
      t.same(
        (await topo.health()).map((p) => p.name).filter((n) => n === 'kinesis-frontend-main-3'),
        [],
        'a removed member is no service any more',
      )
      await t.rejects(topo.scaleFleet('main', -1), { code: 'INVALID_ARGUMENT' })
    })

    await t.test('restart paced and all at once: every member comes back ready', async (t) => {
      const paced = await topo.restartFleet('main', { ratePerSec: 2, waitReady: true })
      t.same(paced.restarted, MEMBERS(2))
      t.same(paced.notReady, [])
      const all = await topo.restartFleet('main', { all: true })
      t.same(all.restarted, MEMBERS(2))
      t.same(all.notReady, [])
      for (const m of MEMBERS(2)) t.equal(topo.services().find((s) => s.name === m)?.restarts, 2, `${m} restarted twice`)
      t.ok(await eventually(() => healthy(topo, MEMBERS(2)), { what: 'the restarted members healthy' }))
    })

    await t.test('kill: the service stays down until restarted', async (t) => {
      await topo.kill(BACKEND)
      await eventually(() => stateOf(topo, BACKEND) === 'exited', { what: `${BACKEND} exited` })
      await topo.restart(BACKEND)
      t.equal(stateOf(topo, BACKEND), 'running')
      t.ok(await healthy(topo, [BACKEND]))
    })

    await t.test('pause and resume: a paused service answers nothing, a resumed one answers again', async (t) => {
      await topo.pause(BACKEND)
      t.equal(stateOf(topo, BACKEND), 'paused')
      t.notOk(await healthy(topo, [BACKEND]), 'a paused service does not answer /health')
      await topo.resume(BACKEND)
      t.equal(stateOf(topo, BACKEND), 'running')
      t.ok(await eventually(() => healthy(topo, [BACKEND]), { what: `${BACKEND} answering again` }))
    })

    await t.test('partition and heal: both say how, and the service serves again after the heal', async (t) => {
      const cut = await topo.partition(BACKEND)
      t.match(cut.how, /\S/)
      const healed = await topo.healPartition(BACKEND)
      t.match(healed.how, /\S/)
      t.ok(await eventually(() => healthy(topo, [BACKEND]), { what: `${BACKEND} healthy after the heal` }))
    })

    await t.test('stop: nothing of the run is left on the machine', async (t) => {
      await topo.stop()
      t.same(await topo.leftovers(), [])
      await t.rejects(topo.scaleFleet('main', 3), { code: 'STOPPED' })
    })
  })
}
