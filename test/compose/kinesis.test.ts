// The compose backend on the real Kinesis images (docker-compose.yml + outage-lab:latest): the
// outage's root cause in containers. A capacity addition pushes every front-end past its
// container's pids_limit (new Worker() fails with EAGAIN), removing the capacity does not heal the
// shard-maps, a paced restart of the containers does; container faults behave like process faults;
// and teardown leaves no container or network behind.
import t from 'tap'
import { KinesisClient, CreateStreamCommand, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { composePlatform, type StartedComposeTopology } from '../../harness/platform/compose/index.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { composeSkip, IMAGE, projectResources } from './skip.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

async function frontends(topo: StartedComposeTopology): Promise<any[]> {
  return (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-')).map((h) => ({ name: h.name, status: h.status, ...(h.body ?? {}) }))
}

// A front-end runs ~11 threads plus one per peer: with pids_limit 16, 3 members fit (13 threads)
// and 8 do not (18).
const LIMIT = 16
const records = Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from(`order-${i}`) }))

t.test('the compose backend on the real Kinesis images', { skip: await composeSkip() }, async (t) => {
  // Replicas 4-6 are created at boot and wait unstarted; the scale-up to 8 starts them and has
  // compose create 7 and 8.
  const topo = await composePlatform.start(kinesisTopology({ frontends: 3, threadLimit: LIMIT }), {
    runDir: t.testdir(),
    signals: false,
    image: IMAGE,
    fleetPeaks: { main: 6 },
  })
  t.teardown(() => topo.stop())
  const e = topo.endpoints()
  const kinesis = new KinesisClient({ endpoint: e.kinesis, region: e.region, credentials: e.credentials, maxAttempts: 1 })
  t.teardown(() => kinesis.destroy())

  await t.test('the Kinesis topology boots in containers and serves the AWS SDK through its endpoint', async (t) => {
    t.equal(topo.threadLimitEnforcement, 'docker')
    t.match(e.kinesis, /^http:\/\/127\.0\.0\.1:\d+$/, 'the endpoint is published on 127.0.0.1')
    // Metadata, the back-ends and the front-ends are not published: the harness reaches them at
    // their container addresses (docs/compose.md; where this host has no route, on 127.0.0.1).
    for (const [name, url] of Object.entries(e.services)) {
      t.match(url, name === 'kinesis-endpoint-main' ? /^http:\/\/127\.0\.0\.1:\d+$/ : /^http:\/\/[\d.]+:\d+$/, `${name} at ${url}`)
    }
    t.same(e.fleets.main.members, ['kinesis-frontend-main-1', 'kinesis-frontend-main-2', 'kinesis-frontend-main-3'])
    const health = await topo.health()
    t.same(
      health.filter((h) => h.status !== 200).map((h) => h.name),
      [],
      'every service answers /health with 200',
    )
    t.equal(health.length, 7, 'replicas created ahead are not members: no endpoint, no health probe')
    t.equal(projectResources(topo.projectName).containers.length, 10, 'the 3 replicas created ahead exist as containers')

    await kinesis.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 1 }))
    const put = await kinesis.send(new PutRecordsCommand({ StreamName: 'orders', Records: records }))
    t.equal(put.FailedRecordCount, 0)
    // The stock client speaks h2c by default; the same endpoint serves HTTP/1.1 too.
    const h1 = new KinesisClient({
      endpoint: e.kinesis,
      region: e.region,
      credentials: e.credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 10_000 }),
    })
    t.teardown(() => h1.destroy())
    const { ShardIterator } = await h1.send(
      new GetShardIteratorCommand({ StreamName: 'orders', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }),
    )
    const got = await h1.send(new GetRecordsCommand({ ShardIterator }))
    t.same(
      got.Records?.map((r) => Buffer.from(r.Data!).toString()),
      records.map((r) => r.Data.toString()),
      'every acknowledged record reads back in order',
    )

    for (const fe of await frontends(topo)) {
      t.equal(fe.thread_limit_enforcement, 'docker', `${fe.name} knows its limit is docker's`)
      t.equal(fe.thread_limit, LIMIT, `${fe.name} reads its pids_limit`)
      t.equal(fe.shard_map_state, 'ready', `${fe.name} has a usable shard-map`)
      t.equal(fe.peers, 2, `${fe.name} knows its 2 peers`)
    }
  })

  await t.test('scaling the front-ends past pids_limit breaks every one (EAGAIN); removing them does not heal; a paced restart does', async (t) => {
    const up = await topo.scaleFleet('main', 8, { stepEveryMs: 300 })
    t.same(
      up.added,
      [4, 5, 6, 7, 8].map((n) => `kinesis-frontend-main-${n}`),
    )
    const started = topo.services().filter((s) => s.fleet === 'main')
    t.same(
      started.map((s) => s.name),
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `kinesis-frontend-main-${n}`),
      'created-ahead and newly created replicas are members now',
    )
    const broken = await eventually(
      async () => {
        const fes = await frontends(topo)
        return fes.length === 8 && fes.every((f) => f.shard_map_state === 'broken') ? fes : undefined
      },
      { what: 'every front-end broken', timeoutMs: 120_000, intervalMs: 250 },
    )
    for (const fe of broken) t.match(fe.lastError ?? fe.last_error ?? '', /EAGAIN/, `${fe.name} failed to create a peer thread with EAGAIN`)
    const failed = await kinesis.send(new PutRecordsCommand({ StreamName: 'orders', Records: records.slice(0, 1) })).then(
      () => undefined,
      (err) => err,
    )
    t.ok(failed, 'the data plane fails')
    t.equal(failed?.$metadata?.httpStatusCode, 500)
    t.equal(failed?.name, 'InternalFailure')

    const down = await topo.scaleFleet('main', 3)
    t.same(
      down.removed,
      [8, 7, 6, 5, 4].map((n) => `kinesis-frontend-main-${n}`),
    )
    t.equal(projectResources(topo.projectName).containers.length, 7, 'removed replicas leave no container')
    await new Promise((r) => setTimeout(r, 2_000))
    t.same(
      (await frontends(topo)).map((f) => f.shard_map_state),
      ['broken', 'broken', 'broken'],
      'removing the capacity does not heal',
    )

    const restarted = await topo.restartFleet('main', { ratePerSec: 2 })
    t.same(restarted.notReady, [])
    await eventually(
      async () => {
        const fes = await frontends(topo)
        return fes.length === 3 && fes.every((f) => f.shard_map_state === 'ready' && f.peers === 2) ? true : undefined
      },
      { what: 'every front-end ready', timeoutMs: 60_000, intervalMs: 250 },
    )
    const healed = await eventually(() => kinesis.send(new PutRecordsCommand({ StreamName: 'orders', Records: records.slice(0, 1) })).catch(() => undefined), {
      what: 'the endpoint routes again',
      timeoutMs: 30_000,
      intervalMs: 250,
    })
    t.equal(healed.FailedRecordCount, 0)
    t.same(
      topo
        .services()
        .filter((s) => s.fleet === 'main')
        .map((s) => s.restarts),
      [1, 1, 1],
    )
  })

  await t.test('process faults are container faults: pause, resume, kill, restart, partition', async (t) => {
    const name = 'kinesis-backend-1'
    const url = topo.endpoints().services[name]
    await topo.pause(name)
    t.equal(topo.services().find((s) => s.name === name)?.state, 'paused')
    const probe = (await topo.health()).find((h) => h.name === name)
    t.equal(probe?.status, undefined, 'a paused container answers nothing')
    await topo.resume(name)
    t.equal((await topo.health()).find((h) => h.name === name)?.status, 200, 'resumed, it answers again')

    await topo.kill(name)
    t.equal(topo.services().find((s) => s.name === name)?.state, 'exited')
    t.same(topo.services().find((s) => s.name === name)?.exit, { code: 137, signal: 'SIGKILL' })
    await topo.restart(name)
    t.equal(topo.services().find((s) => s.name === name)?.state, 'running')
    t.equal(topo.endpoints().services[name], url, 'a single service keeps its address across a restart')

    const cut = await topo.partition(name)
    t.match(cut.how, /docker network disconnect/)
    t.equal((await topo.health()).find((h) => h.name === name)?.status, undefined, 'a partitioned container is unreachable')
    await topo.healPartition(name)
    await eventually(async () => ((await topo.health()).find((h) => h.name === name)?.status === 200 ? true : undefined), {
      what: `${name} reachable again`,
      timeoutMs: 15_000,
      intervalMs: 250,
    })
    // Reachable by name again from the other containers: the stream's shards still read back.
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: 'orders', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }),
    )
    t.equal((await kinesis.send(new GetRecordsCommand({ ShardIterator }))).Records?.length, 21, 'the 20 records and the one put after the restart')
  })

  await t.test('teardown leaves no container and no network behind', async (t) => {
    t.ok(projectResources(topo.projectName).containers.length > 0, 'the project has containers before stop()')
    await topo.stop()
    t.same(projectResources(topo.projectName), { containers: [], networks: [] })
  })
})

t.test('a cellular fleet with a health system on compose', { skip: await composeSkip() }, async (t) => {
  // Cells of 2: members 1-2 in cell-1, 3-4 in cell-2, 5 (started by a scale-up) in cell-3. The
  // health system's window is long: only the test removes a member here.
  const events: { kind: string; detail: any }[] = []
  const topology = kinesisTopology({ frontends: 4, threadLimit: LIMIT, cellSize: 2, removeUnhealthyAfterMs: 600_000 })
  const topo = await composePlatform.start(topology, {
    runDir: t.testdir(),
    signals: false,
    image: IMAGE,
    fleetPeaks: { main: 5 },
    onEvent: (e) => events.push(e),
  })
  t.teardown(() => topo.stop())
  await topo.scaleFleet('main', 5)
  const e = topo.endpoints()
  // Metadata's membership routes are internal: the harness holds the run's credential.
  const internal = { 'x-outage-lab-internal': topo.internalToken }
  const listed = await eventually(
    async () => {
      const res = await fetch(`${e.services['kinesis-metadata']}/fleets/main/members`, { headers: internal })
      const body = (await res.json()) as { members: { id: string; cell: string | null }[] }
      return body.members.length === 5 ? body.members : undefined
    },
    { what: '5 members registered', timeoutMs: 30_000, intervalMs: 250 },
  )
  t.same(listed.map((m) => m.cell).sort(), ['cell-1', 'cell-1', 'cell-2', 'cell-2', 'cell-3'], 'metadata lists each replica in the cell of its number')
  const fes = await eventually(
    async () => {
      const fes = await frontends(topo)
      return fes.length === 5 && fes.every((f) => f.shard_map_state === 'ready') ? fes : undefined
    },
    { what: 'every front-end ready', timeoutMs: 60_000, intervalMs: 250 },
  )
  t.same(
    fes.map((f) => f.peers),
    [1, 1, 1, 1, 0],
    'a member runs a peer thread only for the members of its own cell',
  )

  // Removed from membership (what the endpoint does after REMOVE_UNHEALTHY_AFTER_MS), a front-end
  // exits 75 and its restart policy starts the same container again: it rejoins, in its cell.
  const name = 'kinesis-frontend-main-3'
  const memberId = `kinesis-frontend-main-${topo.containerOf(name)!.slice(0, 12)}`
  const res = await fetch(`${e.services['kinesis-metadata']}/fleets/main/members/${memberId}`, { method: 'DELETE', headers: internal })
  t.equal(res.status, 200)
  const replaced = await eventually(async () => events.find((x) => x.kind === 'member-replaced' && x.detail.name === name), {
    what: 'the member replaced',
    timeoutMs: 60_000,
    intervalMs: 250,
  })
  t.match(replaced.detail.reason, /exit 75/, 'it left with EX_TEMPFAIL and Docker started it again')
  const back = await eventually(
    async () => {
      const fe = (await frontends(topo)).find((f) => f.name === name)
      const st = topo.services().find((x) => x.name === name)
      return fe?.shard_map_state === 'ready' && st?.state === 'running' ? { fe, st } : undefined
    },
    { what: 'it rejoined with a ready map', timeoutMs: 60_000, intervalMs: 250 },
  )
  t.equal(back.st.restarts, 1, 'counted as a restart')
  t.equal(back.fe.peers, 1, 'back in cell-2 with its one peer')
  await topo.stop()
  t.same(projectResources(topo.projectName), { containers: [], networks: [] })
})
