// The shard-map in one process: its pure parts (learn delay, map documents, cgroup discovery) and
// the map itself against a METADATA TEST DOUBLE (a tiny fastify app in this file, so each test
// scripts membership exactly). Peer threads are real worker_threads; the map is loaded from dist/
// because the peer thread's entry is compiled JS. The fleet tests with real processes, real
// metadata and real pids cgroups are in shardmap-fleet.test.ts.
import t from 'tap'
import path from 'node:path'
import { readdirSync } from 'node:fs'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { request } from 'undici'
import { INTERNAL, INTERNAL_TOKEN, ROOT } from '../helpers/spawn.js'
import { learnDelayMs } from '../../services/kinesis/frontend/shardmap/learn-delay.js'
import { buildDocument, processDocument, makeEntry, toNdjson } from '../../services/kinesis/frontend/shardmap/map-document.js'
import { pidsMaxCandidates, parsePidsMax, ThreadLimit, PROCESS_CAP_CODE } from '../../services/kinesis/frontend/shardmap/thread-limit.js'
import type * as ShardMapModule from '../../services/kinesis/frontend/shardmap/index.js'
import type { FrontendShardMap } from '../../services/kinesis/frontend/shardmap/index.js'
import { eventually } from '../helpers/eventually.js'

const dist = (await import(path.join(ROOT, 'dist/services/kinesis/frontend/shardmap/index.js'))) as typeof ShardMapModule
// The kit from dist/ too: its error handler recognises AwsError by class, and the map throws dist's.
const { createService } = (await import(path.join(ROOT, 'dist/services/kit/service.js'))) as typeof import('../../services/kit/service.js')
const threads = () => readdirSync('/proc/self/task').length
const silent = { info() {}, warn() {}, error() {}, debug() {} }

const stream = (name: string, owner = 'backend-a') => ({
  name,
  arn: `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`,
  status: 'ACTIVE' as const,
  createdAtMs: 1,
  retentionHours: 24,
  shards: [0, 1].map((i) => ({
    shardId: `shardId-00000000000${i}`,
    startingHashKey: String(i),
    endingHashKey: String(i + 1),
    startingSequenceNumber: '0',
    owner,
  })),
})

/** METADATA TEST DOUBLE: the membership and /shardmap contract of kinesis/metadata, scriptable. */
async function metadataDouble(t: Tap.Test) {
  const state = { version: 1, members: new Map<string, { id: string; url: string; cell: string | null }>(), streams: [stream('orders')], registrations: 0 }
  const app = Fastify()
  app.put('/fleets/:fleet/members/:id', async (req) => {
    const { id } = req.params as { id: string }
    state.members.set(id, { id, url: (req.body as { url: string }).url, cell: null })
    state.version++
    state.registrations++
    return state.members.get(id)
  })
  app.post('/fleets/:fleet/members/:id/heartbeat', async () => ({}))
  app.get('/fleets/:fleet/members', async (req) => ({
    fleet: (req.params as { fleet: string }).fleet,
    version: state.version,
    members: [...state.members.values()].sort((a, b) => a.id.localeCompare(b.id)),
  }))
  app.get('/shardmap', async () => ({
    version: state.version,
    streams: state.streams,
    backends: { 'backend-a': 'http://127.0.0.1:9' },
    members: [...state.members.values()],
  }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  return {
    url,
    state,
    addMember(id: string, memberUrl: string) {
      state.members.set(id, { id, url: memberUrl, cell: null })
      state.version++
    },
    removeMember(id: string) {
      state.members.delete(id)
      state.version++
    },
  }
}

function newMap(t: Tap.Test, metadataUrl: string, over: Partial<ShardMapModule.ShardMapOptions> = {}): FrontendShardMap {
  const map = dist.createShardMap({
    metadataUrl,
    fleet: 'main',
    selfId: 'fe-self',
    selfUrl: 'http://127.0.0.1:9',
    bootstrap: 'metadata',
    learnDelayMs: 0,
    seed: 1,
    membershipPollMs: 50,
    peerHeartbeatMs: 200,
    retryMs: 100,
    threadLimit: 10_000,
    enforcement: 'process',
    logger: silent,
    metrics: new Registry(),
    ...over,
  })
  t.teardown(() => map.close())
  return map
}

/** A port nothing listens on: a member whose server is gone. */
const DEAD = 'http://127.0.0.1:9'

t.test('the learn delay is seeded per (seed, self, peer), repeats, and stays within [0, max]', async (t) => {
  const a = learnDelayMs(7, 'fe-1', 'fe-9', 60_000)
  t.equal(learnDelayMs(7, 'fe-1', 'fe-9', 60_000), a, 'same inputs, same delay')
  const delays = Array.from({ length: 40 }, (_, i) => learnDelayMs(7, `fe-${i}`, 'fe-new', 60_000))
  t.ok(delays.every((d) => d >= 0 && d <= 60_000))
  t.ok(new Set(delays).size > 30, 'different servers learn the same new member at different moments')
  t.not(learnDelayMs(8, 'fe-1', 'fe-9', 60_000), a, 'another seed, another schedule')
  t.equal(learnDelayMs(7, 'fe-1', 'fe-9', 0), 0)
})

t.test('a peer map document verifies entry by entry and merges by revision', async (t) => {
  const doc = buildDocument({
    member: 'fe-2',
    version: 9,
    streams: [{ stream: stream('orders'), rev: 9 }],
    backends: [{ id: 'backend-a', url: 'http://127.0.0.1:9', rev: 9 }],
    members: [
      { id: 'fe-2', url: 'http://a', version: 9 },
      { id: 'fe-3', url: 'http://b', version: 7 },
    ],
  })
  // backend + stream + per member (member + one ack per shard): 1 + 1 + 2 * (1 + 2)
  t.equal(doc.entries.length, 8, 'the map grows with members x shards')
  const ok = processDocument(toNdjson(doc))
  t.match(ok, { peerVersion: 9, entries: 8, verified: 8, rejected: 0, memberAcks: { 'fe-2': 9, 'fe-3': 7 } })
  t.same(
    ok.streams.map((s) => s.stream.name),
    ['orders'],
  )

  const tampered = structuredClone(doc)
  ;(tampered.entries[1].value as { shards: unknown[] }).shards = []
  const bad = processDocument(toNdjson(tampered))
  t.equal(bad.rejected, 1, 'an entry whose checksum does not match is dropped')
  t.same(bad.rejectedKeys, ['stream/orders'])
  t.same(bad.streams, [])

  const into = new Map([['stream/orders', makeEntry('stream/orders', 12, stream('orders', 'backend-b'))]])
  const merged = processDocument(toNdjson(doc), into)
  t.equal(merged.streams[0].stream.shards[0].owner, 'backend-b', 'the newer revision already held wins the merge')
  t.throws(() => processDocument('{"hello":1}\n'), { message: 'not a shard-map document (want a {member, version, entries} header line)' })
  t.throws(() => processDocument(toNdjson(doc).split('\n').slice(0, 4).join('\n')), { message: 'truncated shard-map: 3 of 8 entries' })
})

t.test('the pids.max of this process is found from /proc/self/cgroup (v1, v2, inside docker)', async (t) => {
  t.same(pidsMaxCandidates('8:pids:/outage-lab/fe-3\n4:memory:/x\n0::/', '/cg'), ['/cg/pids/outage-lab/fe-3/pids.max', '/cg/pids/pids.max', '/cg/pids.max'])
  t.same(pidsMaxCandidates('0::/outage-lab/fe-3\n', '/cg'), ['/cg/pids/pids.max', '/cg/outage-lab/fe-3/pids.max', '/cg/pids.max'])
  t.same(
    pidsMaxCandidates('5:cpuacct,pids:/docker/abc\n', '/cg').slice(0, 2),
    ['/cg/pids/docker/abc/pids.max', '/cg/pids/pids.max'],
    'a container sees its own cgroup at the root',
  )
  t.equal(parsePidsMax('40\n'), 40)
  t.equal(parsePidsMax('max\n'), Number.POSITIVE_INFINITY)
  t.equal(parsePidsMax('forty'), undefined)
  t.equal(parsePidsMax(undefined), undefined)
  const noLimit = new ThreadLimit({ enforcement: 'cgroup', threadLimit: 77 }, '8:pids:/no-such-cgroup-here\n')
  t.match(noLimit.warning, /no finite pids.max found/, 'a launcher that promised a cgroup it did not make is named in a warning')
  t.equal(noLimit.current(), 77)
})

t.test('the in-process cap refuses a thread only when the real task count + 1 exceeds the limit', async (t) => {
  const now = threads()
  const tight = new ThreadLimit({ enforcement: 'process', threadLimit: now })
  t.throws(() => tight.spawn(new URL('data:text/javascript,'), {}), {
    code: PROCESS_CAP_CODE,
    message: `in-process thread cap: ${now} threads + 1 would exceed THREAD_LIMIT ${now}`,
  })
  t.equal(threads(), now, 'no thread was made')
})

t.test('a fleet of one is ready after the metadata read and routes', async (t) => {
  const md = await metadataDouble(t)
  const map = newMap(t, md.url)
  t.equal(map.state, 'building')
  t.throws(() => map.requireUsable(), { name: 'ServiceUnavailable', statusCode: 503 })
  map.start()
  await eventually(() => map.state === 'ready', { what: 'ready', timeoutMs: 10_000, intervalMs: 20 })
  t.doesNotThrow(() => map.requireUsable())
  t.same(map.listStreams(), ['orders'])
  t.equal((await map.stream('orders'))?.shards.length, 2)
  t.equal(map.backendUrl('backend-a'), 'http://127.0.0.1:9')
  t.throws(() => map.backendUrl('backend-z'), { name: 'InternalFailure', message: 'shard-map has no back-end backend-z' })
  md.state.streams.push(stream('late'))
  t.equal((await map.stream('late'))?.name, 'late', 'a miss re-reads metadata once')
  t.equal(await map.stream('nope'), undefined)
  t.match(map.stats(), { state: 'ready', peers: 0, peerThreads: 0, enforcement: 'process', threadLimit: 10_000 })
  t.equal(md.state.registrations, 1, 'registered itself once')
})

t.test('initial members are learned at once; a later one after its seeded delay; a learned one is never forgotten', async (t) => {
  const md = await metadataDouble(t)
  md.addMember('fe-a', DEAD)
  const before = threads()
  const map = newMap(t, md.url, { learnDelayMs: 400, seed: 3 })
  map.start()
  await eventually(() => map.state === 'ready' && map.stats().peerThreads === 1, { what: 'ready with fe-a', timeoutMs: 10_000, intervalMs: 20 })
  // Exact counts are asserted in the fleet test (a quiet process); this one shares the process
  // with the test runner, which may start a thread of its own.
  t.ok(threads() >= before + 1, 'one real OS thread for the one peer')

  const delay = learnDelayMs(3, 'fe-self', 'fe-b', 400)
  const seenAt = Date.now()
  md.addMember('fe-b', DEAD)
  await eventually(() => map.stats().pendingPeers === 1, { what: 'fe-b pending', timeoutMs: 10_000, intervalMs: 20 })
  t.equal(map.stats().peerThreads, 1, 'no thread inside the learn delay')
  await eventually(() => map.stats().peerThreads === 2, { what: 'fe-b learned', timeoutMs: 10_000, intervalMs: 20 })
  t.ok(Date.now() - seenAt >= delay - 60, `learned after its delay (${delay} ms)`)
  t.ok(threads() >= before + 2)

  md.removeMember('fe-a')
  await eventually(() => map.stats().members === 1, { what: 'membership read', timeoutMs: 10_000, intervalMs: 20 })
  t.match(map.stats(), { peers: 2, peerThreads: 2, stalePeers: ['fe-a'] }, 'removal from membership does not remove the learned peer')

  md.addMember('fe-c', DEAD)
  await eventually(() => map.stats().pendingPeers === 1, { what: 'fe-c pending', timeoutMs: 10_000, intervalMs: 20 })
  md.removeMember('fe-c')
  await eventually(() => map.stats().pendingPeers === 0, { what: 'fe-c dropped', timeoutMs: 10_000, intervalMs: 20 })
  t.equal(map.stats().peers, 2, 'a member gone before its learn delay ended is never learned')

  await map.close()
  await eventually(() => threads() <= before, { what: 'threads gone', timeoutMs: 3_000, intervalMs: 20 })
  t.pass('close() ends every peer thread')
})

t.test('a member removed from the fleet rejoins: it registers again and rebuilds from a fresh snapshot', async (t) => {
  const md = await metadataDouble(t)
  md.addMember('fe-a', DEAD)
  md.addMember('fe-b', DEAD)
  const map = newMap(t, md.url)
  map.start()
  await eventually(() => map.state === 'ready' && map.stats().peerThreads === 2, { what: 'ready with two peers', timeoutMs: 10_000, intervalMs: 20 })
  const registrations = md.state.registrations
  md.removeMember('fe-a')
  await eventually(() => map.stats().members === 1, { what: 'membership read', timeoutMs: 10_000, intervalMs: 20 })
  t.match(map.stats(), { peers: 2, stalePeers: ['fe-a'] }, 'a running member keeps a peer that left')

  // The fleet's health system (kinesis/endpoint, REMOVE_UNHEALTHY_AFTER_MS) takes this member out.
  md.removeMember('fe-self')
  await eventually(() => md.state.registrations > registrations, { what: 'registered again', timeoutMs: 10_000, intervalMs: 20 })
  await eventually(() => map.state === 'ready' && map.stats().fleetRemovals === 1, { what: 'ready again', timeoutMs: 10_000, intervalMs: 20 })
  t.match(map.stats(), { peers: 1, peerThreads: 1, stalePeers: [], fleetRemovals: 1 }, 'the rejoin is a cold start: the peer that left is no longer held')
  t.ok(md.state.members.has('fe-self'), 'back in membership')
})

t.test('a member removed from the fleet leaves when its process is replaced by a scheduler (front-end main.ts exits 75)', async (t) => {
  const md = await metadataDouble(t)
  md.addMember('fe-a', DEAD)
  let removed = 0
  const map = newMap(t, md.url, { onRemovedFromFleet: () => removed++ })
  map.start()
  await eventually(() => map.state === 'ready', { what: 'ready', timeoutMs: 10_000, intervalMs: 20 })
  const registrations = md.state.registrations
  md.removeMember('fe-self')
  await eventually(() => removed === 1, { what: 'told to leave', timeoutMs: 10_000, intervalMs: 20 })
  await new Promise((r) => setTimeout(r, 300))
  t.equal(removed, 1, 'told once, not on every later membership read')
  t.equal(md.state.registrations, registrations, 'it does not register again: its replacement will')
})

t.test('over the in-process cap the map breaks, retries, and keeps failing while the learned peers stay', async (t) => {
  const md = await metadataDouble(t)
  md.addMember('fe-a', DEAD)
  md.addMember('fe-b', DEAD)
  const map = newMap(t, md.url, { threadLimit: threads() + 1 })
  map.start()
  await eventually(() => map.state === 'broken', { what: 'broken', timeoutMs: 10_000, intervalMs: 20 })
  const cause = map.stats().lastError!
  t.match(cause, /^cannot create peer thread for fe-b \(ERR_THREAD_LIMIT_PROCESS_CAP in-process thread cap: \d+ threads \+ 1 would exceed THREAD_LIMIT \d+\)$/)
  t.throws(() => map.requireUsable(), { name: 'InternalFailure', statusCode: 500, message: `shard-map construction failed: ${cause}` })
  md.removeMember('fe-b')
  const failures = map.stats().threadCreateFailures
  await eventually(() => map.stats().threadCreateFailures >= failures + 3, { what: 'three more retries', timeoutMs: 10_000, intervalMs: 20 })
  t.equal(map.state, 'broken', 'still broken after the member was removed')
  t.same(map.stats().stalePeers, ['fe-b'])
})

t.test('bootstrap from peers: building until every peer map is fetched, verified and merged', async (t) => {
  const md = await metadataDouble(t)
  // A peer serving its whole map only when the test lets it, with one stream metadata has not
  // shown us yet (a newer revision) and one tampered entry.
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  const peer = Fastify()
  let fetched = 0
  peer.get('/peer/shardmap', async () => {
    fetched++
    await released
    const doc = buildDocument({
      member: 'fe-p',
      version: 1_000,
      streams: [
        { stream: stream('gossiped'), rev: 1_000 },
        { stream: stream('orders', 'backend-x'), rev: 0 },
      ],
      backends: [],
      members: [{ id: 'fe-p', url: 'x', version: 1_000 }],
    })
    doc.entries.push({ ...makeEntry('stream/forged', 1_000, stream('forged')), checksum: 'f'.repeat(64) })
    return toNdjson(doc)
  })
  peer.get('/peer/stream', async (_req, reply) => reply.code(503).send({ __type: 'ServiceUnavailable', message: 'not in this test' }))
  await peer.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => peer.close())
  md.addMember('fe-p', `http://127.0.0.1:${(peer.server.address() as { port: number }).port}`)

  const map = newMap(t, md.url, { bootstrap: 'peers' })
  map.start()
  await eventually(() => fetched === 1, { what: 'the peer thread to ask for the map', timeoutMs: 10_000, intervalMs: 20 })
  await new Promise((r) => setTimeout(r, 200))
  t.equal(map.state, 'building', 'not usable while a peer map is outstanding')
  t.throws(() => map.requireUsable(), { name: 'ServiceUnavailable', message: 'shard-map is still building: 0/1 peers bootstrapped' })
  release()
  await eventually(() => map.state === 'ready', { what: 'ready', timeoutMs: 10_000, intervalMs: 20 })
  t.equal(map.streamSync('gossiped')?.name, 'gossiped', "a newer entry from the peer's map is merged")
  t.equal(map.streamSync('orders')?.shards[0].owner, 'backend-a', 'an older entry does not override metadata')
  t.equal(map.streamSync('forged'), undefined, 'an entry failing its checksum is not merged')
  t.equal(map.stats().bootstrappedPeers, 1)
})

t.test('peer routes serve the whole map and an NDJSON gossip stream', async (t) => {
  const md = await metadataDouble(t)
  const svc = createService({ name: 'peer-routes-probe', internalToken: INTERNAL_TOKEN, logger: false })
  const map = newMap(t, md.url, { metrics: svc.metrics })
  svc.app.register(dist.peerRoutes, { shardMap: map, metrics: svc.metrics })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  const url = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`

  const early = await svc.app.inject({ method: 'GET', url: '/peer/shardmap', headers: INTERNAL })
  t.equal(early.statusCode, 503, 'no map to hand out before the metadata read')
  t.same(early.json(), { __type: 'ServiceUnavailable', message: 'shard-map of fe-self has not read metadata yet' })

  map.start(url)
  await eventually(() => map.state === 'ready', { what: 'ready', timeoutMs: 10_000, intervalMs: 20 })
  const whole = await svc.app.inject({ method: 'GET', url: '/peer/shardmap', headers: INTERNAL })
  t.equal(whole.statusCode, 200)
  t.match(processDocument(whole.body), { rejected: 0, peerVersion: map.version }, 'a peer verifies every entry of what we serve')

  const noFrom = await svc.app.inject({ method: 'GET', url: '/peer/stream', headers: INTERNAL })
  t.equal(noFrom.statusCode, 400)
  t.same(noFrom.json(), { __type: 'InvalidArgumentException', message: 'GET /peer/stream: query parameter from (the reading member id) is required' })

  const res = await request(`${url}/peer/stream?from=fe-reader`, { headers: INTERNAL })
  t.equal(res.headers['content-type'], 'application/x-ndjson')
  const lines: any[] = []
  for await (const chunk of res.body) {
    for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l))
    if (lines.length >= 3) break
  }
  res.body.destroy()
  t.match(lines[0], { kind: 'hello', member: 'fe-self', version: map.version, heartbeatMs: 200 })
  t.match(lines[1], { kind: 'heartbeat', member: 'fe-self', seq: 0 })
  t.match(lines[2], { kind: 'heartbeat', seq: 1 })
  t.match(await svc.metrics.metrics(), /kinesis_frontend_shard_map_state\{state="ready",service="peer-routes-probe",instance="peer-routes-probe"\} 1/)
})

t.test('bad options are refused when the map is made', async (t) => {
  const base = {
    metadataUrl: 'http://127.0.0.1:1',
    fleet: 'main',
    selfId: 'x',
    bootstrap: 'metadata',
    learnDelayMs: 0,
    seed: 1,
    membershipPollMs: 1,
    peerHeartbeatMs: 1,
    retryMs: 1,
    threadLimit: 1,
    enforcement: 'process',
    logger: silent,
    metrics: new Registry(),
  } as const
  t.throws(() => dist.createShardMap({ ...base, bootstrap: 'gossip' as 'peers' }), {
    name: 'TypeError',
    message: `createShardMap: bootstrap must be 'peers' or 'metadata', got "gossip"`,
  })
  t.throws(() => dist.createShardMap({ ...base, retryMs: 0 }), { message: 'createShardMap: retryMs must be an integer >= 1, got 0' })
  t.throws(() => dist.createShardMap({ ...base, metadataUrl: 'metadata:4100' }), /metadataUrl must be an http\(s\) URL/)
})
