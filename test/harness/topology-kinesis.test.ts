// The local backend running the real Kinesis services (dist/services/kinesis/*): the outage's
// root cause on real processes. A capacity addition pushes every front-end past its OS thread
// limit (pids.max); removing the capacity does not heal the shard-maps; a restart does.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { KinesisClient, CreateStreamCommand, PutRecordCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { localPlatform, type StartedLocalTopology } from '../../harness/platform/local/index.js'
import { PACKAGE_ROOT, semiSpaceMiB } from '../../harness/platform/paths.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { detectPidsCgroups } from '../../harness/platform/local/cgroups.js'
import { eventually } from '../helpers/eventually.js'

const cgroups = detectPidsCgroups()
const entries = ['metadata', 'backend', 'frontend', 'endpoint'].map((s) => path.join(PACKAGE_ROOT, 'dist/services/kinesis', s, 'main.js'))
const missing = entries.filter((e) => !fs.existsSync(e))
const notBuilt = missing.length
  ? `the Kinesis services are not built (${missing.map((m) => path.relative(PACKAGE_ROOT, m)).join(', ')}): run npx tsc -p .`
  : false

// Node 20 makes every AWS SDK client warn once per process; that is noise here.
process.removeAllListeners('warning')

async function frontends(topo: StartedLocalTopology): Promise<any[]> {
  return (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-')).map((h) => ({ name: h.name, status: h.status, ...(h.body ?? {}) }))
}

// One topology for both tests: booting it is most of the time spent here. A front-end runs ~11
// threads plus one per peer: with pids.max 16, 3 members fit (13 threads) and 8 do not (18).
const LIMIT = 16

t.test('the local backend on the real Kinesis services', { skip: notBuilt }, async (t) => {
  const topo = await localPlatform.start(kinesisTopology({ frontends: 3, threadLimit: LIMIT }), { runDir: t.testdir(), signals: false })
  t.teardown(() => topo.stop())
  const e = topo.endpoints()
  const kinesis = new KinesisClient({ endpoint: e.kinesis, region: e.region, credentials: e.credentials, maxAttempts: 1 })
  t.teardown(() => kinesis.destroy())

  await t.test('the Kinesis topology boots healthy and serves the AWS SDK through its endpoint', async (t) => {
    const health = await topo.health()
    t.same(
      health.filter((h) => h.status !== 200).map((h) => h.name),
      [],
      'every service answers /health with 200',
    )
    t.equal(health.length, 7)
    await kinesis.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 2 }))
    const put = await kinesis.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'k1', Data: Buffer.from('hello') }))
    t.match(put.ShardId, /^shardId-00000000000[01]$/)
    t.match(put.SequenceNumber, /^\d+$/)
    t.same((await kinesis.send(new ListStreamsCommand({}))).StreamNames, ['orders'])
    for (const fe of await frontends(topo)) {
      t.equal(fe.thread_limit_enforcement, topo.threadLimitEnforcement, `${fe.name} knows how its limit is enforced`)
      t.equal(fe.peers, 2, `${fe.name} knows its 2 peers from its first snapshot`)
      t.equal(fe.shard_map_state, 'ready', `${fe.name} starts with a usable shard-map`)
    }
  })

  await t.test("every service's young generation is pinned from its start, so its resident memory does not swing with the load", async (t) => {
    for (const svc of topo.services()) {
      const res = await fetch(`${svc.url}/admin/memory`, { headers: { authorization: `Bearer ${topo.adminToken}` } })
      const spaces = ((await res.json()) as { heapSpaces: Record<string, { sizeBytes: number }> }).heapSpaces
      // Its kind's semi-space (serviceNodeFlags), one or both halves committed; left to itself V8
      // starts a service at 1 MiB and resizes it with the load.
      const semi = semiSpaceMiB(svc.kind) * 2 ** 20
      const size = spaces.new_space.sizeBytes
      t.ok(size >= semi && size <= 2 * semi, `${svc.name}: new space ${(size / 2 ** 20).toFixed(1)} MiB, semi-space ${semi / 2 ** 20} MiB`)
    }
  })

  await t.test("a front-end's /admin/memory shows each peer thread's own heap, held under the thread's cap", async (t) => {
    for (const svc of topo.services().filter((s) => s.name.startsWith('kinesis-frontend-'))) {
      const res = await fetch(`${svc.url}/admin/memory?gc=full`, { headers: { authorization: `Bearer ${topo.adminToken}` } })
      const report = (await res.json()) as { peerThreads: { peer: string; heapUsedBytes: number; heapLimitBytes: number; fullGc: boolean }[] }
      t.equal(report.peerThreads.length, 2, `${svc.name}: one isolate per peer`)
      for (const p of report.peerThreads) {
        t.equal(p.fullGc, true, `${svc.name}'s thread for ${p.peer} collected its own garbage first`)
        // Old generation 8 MiB and young 1 MiB (PEER_THREAD_LIMITS), not the main thread's 16 MiB semi-spaces
        // (serviceNodeFlags): V8's flags are the process's, and would size every worker's heap as well.
        t.ok(p.heapLimitBytes <= 16 * 2 ** 20, `${svc.name} -> ${p.peer}: heap limit ${(p.heapLimitBytes / 2 ** 20).toFixed(1)} MiB`)
        t.ok(p.heapUsedBytes > 0 && p.heapUsedBytes < p.heapLimitBytes, `${svc.name} -> ${p.peer}: ${(p.heapUsedBytes / 2 ** 20).toFixed(1)} MiB live`)
      }
    }
  })

  await t.test(
    "a capacity addition past the thread limit breaks every front-end's shard-map; removing it does not heal, a restart does",
    {
      skip: cgroups.kind === 'none' ? `pids cgroups are not writable here (${cgroups.reason}): the OS cannot enforce the thread limit` : false,
    },
    async (t) => {
      t.equal(topo.threadLimitEnforcement, 'cgroup')
      const scaled = await topo.scaleFleet('main', 8)
      t.same(scaled.added.length, 5)
      const broken = await eventually(
        async () => {
          const fes = await frontends(topo)
          return fes.length === 8 && fes.every((fe) => fe.shard_map_state === 'broken') ? fes : undefined
        },
        { what: 'every front-end broken', timeoutMs: 40_000, intervalMs: 250 },
      )
      for (const fe of broken) {
        t.equal(fe.thread_limit_enforcement, 'cgroup')
        t.ok(fe.threads <= LIMIT, `${fe.name}: ${fe.threads} threads, held at pids.max ${LIMIT}`)
        t.ok(fe.thread_create_failures > 0, `${fe.name}: the OS refused ${fe.thread_create_failures} thread creations`)
      }
      const failed = await kinesis.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'a', Data: Buffer.from('during') })).then(
        () => undefined,
        (err) => err,
      )
      t.ok(failed, 'PutRecord fails while the shard-maps are broken')
      t.equal(failed?.$metadata?.httpStatusCode, 500, `the data plane answers 500 (${failed?.name})`)

      await topo.scaleFleet('main', 3)
      await new Promise((r) => setTimeout(r, 2_000))
      for (const fe of await frontends(topo)) t.equal(fe.shard_map_state, 'broken', `${fe.name} stays broken after the capacity is removed`)

      const restarted = await topo.restartFleet('main', { all: true })
      t.same(restarted.notReady, [])
      await eventually(
        async () => {
          const fes = await frontends(topo)
          return fes.every((fe) => fe.shard_map_state === 'ready') ? fes : undefined
        },
        { what: 'every front-end ready again', timeoutMs: 30_000, intervalMs: 250 },
      )
      const after = await eventually(
        () =>
          kinesis.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'a', Data: Buffer.from('after') })).then(
            (r) => r,
            () => undefined,
          ),
        { what: 'PutRecord served again', timeoutMs: 15_000, intervalMs: 250 },
      )
      t.match(after.SequenceNumber, /^\d+$/, 'a restarted fleet serves again')
    },
  )

  await t.test("a front-end the fleet's health system removes leaves, and the backend starts a new one in its place", async (t) => {
    const before = topo.services().find((s) => s.name === 'kinesis-frontend-main-2')!
    const metadata = topo.services().find((s) => s.name === 'kinesis-metadata')!.url
    // Metadata's membership routes are internal: the harness holds the run's credential.
    const internal = { 'x-outage-lab-internal': topo.internalToken }
    const res = await fetch(`${metadata}/fleets/main/members/kinesis-frontend-main-2`, { method: 'DELETE', headers: internal })
    t.equal(res.status, 200, 'removed from membership, as the endpoint does with REMOVE_UNHEALTHY_AFTER_MS')
    const replaced = await eventually(
      async () => {
        const now = topo.services().find((s) => s.name === 'kinesis-frontend-main-2')!
        return now.pid !== before.pid && now.state === 'running' ? now : undefined
      },
      { what: 'a new process in its place', timeoutMs: 30_000, intervalMs: 250 },
    )
    t.equal(replaced.restarts, before.restarts + 1, 'counted as a restart')
    await eventually(
      async () => {
        const members = (await (await fetch(`${metadata}/fleets/main/members`, { headers: internal })).json()) as { members: { id: string }[] }
        const fe = (await frontends(topo)).find((f) => f.name === 'kinesis-frontend-main-2')
        return members.members.some((m) => m.id === 'kinesis-frontend-main-2') && fe?.shard_map_state === 'ready' ? true : undefined
      },
      { what: 'the new process back in membership with a ready map', timeoutMs: 30_000, intervalMs: 250 },
    )
    t.pass('it cold-started and rejoined the fleet')
  })
})
