import t, { type Test } from 'tap'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { buildApp } from '../../services/kinesis/metadata/app.js'
import { MetadataStore } from '../../services/kinesis/metadata/store.js'
import { evenHashKeyRanges } from '../../services/kinesis/metadata/shards.js'
import { INTERNAL, INTERNAL_TOKEN, spawnService } from '../helpers/spawn.js'

const MAX_HASH_KEY = ((1n << 128n) - 1n).toString()

async function tempDir(t: Test): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-metadata-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

async function setup(t: Test, opts: { backends?: string[]; now?: () => number } = {}) {
  const dir = await tempDir(t)
  const file = path.join(dir, 'metadata.json')
  const store = await MetadataStore.open(file, { now: opts.now })
  // Every caller of metadata is one of the lab's services: the tests call as one, with the run's token.
  const app = buildApp({ store, internalToken: INTERNAL_TOKEN, logger: false })
  t.teardown(() => app.close())
  for (const id of opts.backends ?? ['backend-a', 'backend-b']) {
    const res = await app.inject({ headers: INTERNAL, method: 'PUT', url: `/backends/${id}`, payload: { url: `http://127.0.0.1:9/${id}` } })
    t.equal(res.statusCode, 200)
  }
  return { app, store, file, dir }
}

t.test('hash-key ranges split 0..2^128-1 evenly, as Kinesis does', async (t) => {
  t.same(evenHashKeyRanges(1), [{ startingHashKey: '0', endingHashKey: MAX_HASH_KEY }])
  t.same(evenHashKeyRanges(2), [
    { startingHashKey: '0', endingHashKey: '170141183460469231731687303715884105727' },
    { startingHashKey: '170141183460469231731687303715884105728', endingHashKey: MAX_HASH_KEY },
  ])
  // The figures Kinesis shows for a three-shard stream.
  const three = evenHashKeyRanges(3)
  t.equal(three[0].endingHashKey, '113427455640312821154458202477256070484')
  t.equal(three[1].startingHashKey, '113427455640312821154458202477256070485')
  t.equal(three[2].endingHashKey, MAX_HASH_KEY)
  for (const n of [7, 10, 10_000]) {
    const ranges = evenHashKeyRanges(n)
    t.equal(ranges.length, n)
    t.equal(ranges[0].startingHashKey, '0')
    t.equal(ranges[n - 1].endingHashKey, MAX_HASH_KEY)
    const sizes = new Set<bigint>()
    for (let i = 0; i < n; i++) {
      if (i > 0 && BigInt(ranges[i].startingHashKey) !== BigInt(ranges[i - 1].endingHashKey) + 1n) t.fail(`gap before shard ${i} of ${n}`)
      sizes.add(BigInt(ranges[i].endingHashKey) - BigInt(ranges[i].startingHashKey))
    }
    const [min, max] = [[...sizes].reduce((a, b) => (a < b ? a : b)), [...sizes].reduce((a, b) => (a > b ? a : b))]
    t.ok(max - min <= 1n, `shard sizes of ${n} differ by at most one key`)
  }
})

t.test('a created stream has even shards owned round robin by the back-ends sorted by id', async (t) => {
  const { app } = await setup(t, { backends: ['backend-b', 'backend-a'], now: () => 1_700_000_000_000 })
  const res = await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 4 } })
  t.equal(res.statusCode, 201)
  const stream = res.json()
  t.equal(stream.name, 'orders')
  t.equal(stream.arn, 'arn:aws:kinesis:us-east-1:000000000000:stream/orders')
  t.equal(stream.status, 'ACTIVE')
  t.equal(stream.createdAtMs, 1_700_000_000_000)
  t.equal(stream.retentionHours, 24)
  t.same(
    stream.shards.map((s: any) => s.shardId),
    ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'],
  )
  t.same(
    stream.shards.map((s: any) => s.owner),
    ['backend-a', 'backend-b', 'backend-a', 'backend-b'],
  )
  t.same(
    stream.shards.map((s: any) => [s.startingHashKey, s.endingHashKey]),
    evenHashKeyRanges(4).map((r) => [r.startingHashKey, r.endingHashKey]),
  )
  t.equal(stream.shards[1].startingSequenceNumber, '49000000000001' + '0'.repeat(42))
  t.equal(stream.shards[1].startingSequenceNumber.length, 56)

  // The rotation continues across streams, so one-shard streams do not all land on one back-end.
  const one = (await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'logs', shardCount: 1 } })).json()
  const two = (await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'metrics', shardCount: 1 } })).json()
  t.same([one.shards[0].owner, two.shards[0].owner], ['backend-a', 'backend-b'])

  const described = await app.inject({ headers: INTERNAL, url: '/streams/orders' })
  t.equal(described.statusCode, 200)
  t.same(described.json(), stream)
  t.same((await app.inject({ headers: INTERNAL, url: '/streams' })).json(), { streams: ['logs', 'metrics', 'orders'] })
  t.same((await app.inject({ headers: INTERNAL, url: '/backends' })).json(), {
    backends: [
      { id: 'backend-a', url: 'http://127.0.0.1:9/backend-a' },
      { id: 'backend-b', url: 'http://127.0.0.1:9/backend-b' },
    ],
  })
})

t.test('deleting a stream removes it and a second delete is ResourceNotFoundException', async (t) => {
  const { app } = await setup(t, { backends: [] })
  // No back-end is registered here, so nobody has to be told to drop the stream.
  const none = await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 1 } })
  t.equal(none.statusCode, 503)
  t.same(none.json(), { __type: 'ServiceUnavailable', message: 'No back-end is registered to own shards; start a kinesis backend first.' })
  await app.inject({ headers: INTERNAL, method: 'PUT', url: '/backends/backend-a', payload: { url: 'http://127.0.0.1:1' } })
  t.equal((await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 1 } })).statusCode, 201)
  const del = await app.inject({ headers: INTERNAL, method: 'DELETE', url: '/streams/orders' })
  t.equal(del.statusCode, 200)
  t.same(del.json(), { name: 'orders', deleted: true })
  t.same((await app.inject({ headers: INTERNAL, url: '/streams' })).json(), { streams: [] })
  const again = await app.inject({ headers: INTERNAL, method: 'DELETE', url: '/streams/orders' })
  t.equal(again.statusCode, 400)
  t.same(again.json(), { __type: 'ResourceNotFoundException', message: 'Stream orders under account 000000000000 not found.' })
  const missing = await app.inject({ headers: INTERNAL, url: '/streams/orders' })
  t.same([missing.statusCode, missing.json()], [400, { __type: 'ResourceNotFoundException', message: 'Stream orders under account 000000000000 not found.' }])
})

t.test('bad stream input answers AWS-shaped errors', async (t) => {
  const { app } = await setup(t)
  const create = (payload: unknown) => app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: payload as any })
  const cases: Array<[unknown, number, string, string]> = [
    [
      { name: 'bad name!', shardCount: 1 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ],
    [
      { name: 'x'.repeat(129), shardCount: 1 },
      400,
      'InvalidArgumentException',
      `1 validation error detected: Value '${'x'.repeat(129)}' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1`,
    ],
    [
      { name: '', shardCount: 1 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value '' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1",
    ],
    [
      { shardCount: 1 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value 'null' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1",
    ],
    [
      { name: 'ok', shardCount: 0 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must be an integer greater than or equal to 1 and less than or equal to 10000",
    ],
    [
      { name: 'ok', shardCount: 10_001 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value '10001' at 'shardCount' failed to satisfy constraint: Member must be an integer greater than or equal to 1 and less than or equal to 10000",
    ],
    [
      { name: 'ok', shardCount: 1.5 },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value '1.5' at 'shardCount' failed to satisfy constraint: Member must be an integer greater than or equal to 1 and less than or equal to 10000",
    ],
    [
      { name: 'ok', shardCount: '2' },
      400,
      'InvalidArgumentException',
      "1 validation error detected: Value '2' at 'shardCount' failed to satisfy constraint: Member must be an integer greater than or equal to 1 and less than or equal to 10000",
    ],
    [{ name: '..', shardCount: 1 }, 400, 'InvalidArgumentException', "Stream name '..' is not supported by outage-lab: URL paths cannot carry it."],
    [[1, 2], 400, 'SerializationException', 'Start of structure or map found where not expected.'],
  ]
  for (const [payload, status, type, message] of cases) {
    const res = await create(payload)
    t.equal(res.statusCode, status, JSON.stringify(payload).slice(0, 60))
    t.same(res.json(), { __type: type, message })
  }
  t.equal((await create({ name: 'a-b_c.D9', shardCount: 10_000 })).statusCode, 201, 'the limits themselves are accepted')
  const dup = await create({ name: 'a-b_c.D9', shardCount: 1 })
  t.same([dup.statusCode, dup.json()], [400, { __type: 'ResourceInUseException', message: 'Stream a-b_c.D9 under account 000000000000 already exists.' }])
  const garbled = await app.inject({ method: 'POST', url: '/streams', headers: { ...INTERNAL, 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(garbled.statusCode, 400)
  t.equal(garbled.json().__type, 'ValidationException')
  const badUrl = await app.inject({ headers: INTERNAL, method: 'PUT', url: '/backends/backend-c', payload: { url: 'ftp://x' } })
  t.same([badUrl.statusCode, badUrl.json().__type], [400, 'InvalidArgumentException'])
  const badId = await app.inject({
    headers: INTERNAL,
    method: 'PUT',
    url: `/fleets/main/members/${encodeURIComponent('a b')}`,
    payload: { url: 'http://127.0.0.1:1' },
  })
  t.same([badId.statusCode, badId.json().__type], [400, 'InvalidArgumentException'])
  const noFleet = await app.inject({ headers: INTERNAL, url: '/shardmap' })
  t.same([noFleet.statusCode, noFleet.json()], [400, { __type: 'InvalidArgumentException', message: 'The query parameter fleet is required.' }])
})

t.test('membership: register, heartbeat and delete, with version bumps on every mutation but heartbeats', async (t) => {
  let now = 1_000
  const { app, store } = await setup(t, { backends: ['backend-a'], now: () => now })
  const v0 = store.version
  const put = (id: string, body: object) => app.inject({ headers: INTERNAL, method: 'PUT', url: `/fleets/main/members/${id}`, payload: body })
  const list = async (q = '') => (await app.inject({ headers: INTERNAL, url: `/fleets/main/members${q}` })).json()

  const first = await put('fe-2', { url: 'http://127.0.0.1:2002', cell: 'cell-1' })
  t.equal(first.statusCode, 200)
  t.same(first.json(), {
    fleet: 'main',
    version: v0 + 1,
    member: { id: 'fe-2', url: 'http://127.0.0.1:2002', cell: 'cell-1', registeredAtMs: 1000, lastHeartbeatAtMs: 1000 },
  })
  now = 2_000
  await put('fe-1', { url: 'http://127.0.0.1:2001' })
  t.equal(store.version, v0 + 2)

  now = 3_000
  const same = await put('fe-2', { url: 'http://127.0.0.1:2002', cell: 'cell-1' })
  t.equal(same.json().version, v0 + 2, 'registering again unchanged is idempotent: no bump')
  t.equal(same.json().member.registeredAtMs, 1000)
  t.equal(same.json().member.lastHeartbeatAtMs, 3000)

  now = 4_000
  const hb = await app.inject({ headers: INTERNAL, method: 'POST', url: '/fleets/main/members/fe-1/heartbeat' })
  t.equal(hb.statusCode, 200)
  t.equal(hb.json().member.lastHeartbeatAtMs, 4000)
  t.equal(store.version, v0 + 2, 'heartbeats do not bump the version')

  const all = await list()
  t.equal(all.version, v0 + 2)
  t.same(
    all.members.map((m: any) => [m.id, m.cell, m.lastHeartbeatAtMs]),
    [
      ['fe-1', null, 4000],
      ['fe-2', 'cell-1', 3000],
    ],
  )
  t.same(
    (await list('?cell=cell-1')).members.map((m: any) => m.id),
    ['fe-2'],
  )
  t.same((await app.inject({ headers: INTERNAL, url: '/fleets/other/members' })).json(), { fleet: 'other', version: v0 + 2, members: [] })

  const moved = await put('fe-2', { url: 'http://127.0.0.1:2002', cell: 'cell-2' })
  t.equal(moved.json().version, v0 + 3, 'changing the cell is a mutation')
  t.equal(moved.json().member.registeredAtMs, 1000)

  const del = await app.inject({ headers: INTERNAL, method: 'DELETE', url: '/fleets/main/members/fe-1' })
  t.same(del.json(), { fleet: 'main', version: v0 + 4, removed: true })
  const delAgain = await app.inject({ headers: INTERNAL, method: 'DELETE', url: '/fleets/main/members/fe-1' })
  t.same(delAgain.json(), { fleet: 'main', version: v0 + 4, removed: false })
  const gone = await app.inject({ headers: INTERNAL, method: 'POST', url: '/fleets/main/members/fe-1/heartbeat' })
  t.same([gone.statusCode, gone.json()], [400, { __type: 'ResourceNotFoundException', message: 'Member fe-1 of fleet main not found.' }])

  await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 2 } })
  const map = (await app.inject({ headers: INTERNAL, url: '/shardmap?fleet=main&cell=cell-2' })).json()
  t.equal(map.version, v0 + 5)
  t.same(
    map.streams.map((s: any) => s.name),
    ['orders'],
  )
  t.same(map.backends, { 'backend-a': 'http://127.0.0.1:9/backend-a' })
  t.same(
    map.members.map((m: any) => m.id),
    ['fe-2'],
  )

  const metrics = (await app.inject({ url: '/metrics', headers: INTERNAL })).body
  t.match(metrics, /kinesis_metadata_streams\{[^}]*\} 1/)
  t.match(metrics, /kinesis_metadata_members\{[^}]*fleet="main"[^}]*\} 1/)
  t.match(metrics, new RegExp(`kinesis_metadata_version\\{[^}]*\\} ${v0 + 5}`))
})

t.test('names that are JavaScript object keys are ordinary names', async (t) => {
  const { app } = await setup(t, { backends: ['backend-a'] })
  t.equal((await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: '__proto__', shardCount: 1 } })).statusCode, 201)
  t.equal((await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'constructor', shardCount: 1 } })).statusCode, 201)
  t.same((await app.inject({ headers: INTERNAL, url: '/streams' })).json(), { streams: ['__proto__', 'constructor'] })
  const toString = await app.inject({ headers: INTERNAL, url: '/streams/toString' })
  t.equal(toString.statusCode, 400)
  t.equal(
    (await app.inject({ headers: INTERNAL, method: 'PUT', url: '/fleets/__proto__/members/__proto__', payload: { url: 'http://127.0.0.1:1' } })).statusCode,
    200,
  )
  t.same(
    (await app.inject({ headers: INTERNAL, url: '/fleets/__proto__/members' })).json().members.map((m: any) => m.id),
    ['__proto__'],
  )
})

t.test('every mutation is on disk before it is answered, and a new store reloads it', async (t) => {
  const { app, file } = await setup(t, { backends: ['backend-a'] })
  await app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 3 } })
  await app.inject({ headers: INTERNAL, method: 'PUT', url: '/fleets/main/members/fe-1', payload: { url: 'http://127.0.0.1:2001' } })
  // Concurrent mutations share writes; the file must still hold all of them once they are answered.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => app.inject({ headers: INTERNAL, method: 'POST', url: '/streams', payload: { name: `s${i}`, shardCount: 1 } })),
  )
  const onDisk = JSON.parse(await fs.readFile(file, 'utf8'))
  t.equal(Object.keys(onDisk.streams).length, 21)
  t.equal(onDisk.fleets.main['fe-1'].url, 'http://127.0.0.1:2001')
  const reopened = await MetadataStore.open(file)
  t.equal(reopened.version, onDisk.version)
  t.same(reopened.stream('orders').shards.length, 3)
  t.same(
    reopened.members('main').map((m) => m.id),
    ['fe-1'],
  )
  await t.rejects(fs.access(`${file}.tmp`), 'no temp file is left behind')

  await fs.writeFile(file, '{"format": 1, "version": ')
  await t.rejects(MetadataStore.open(file), /is not valid JSON/, 'a corrupt file fails loudly instead of starting empty')
})

t.test('a restarted metadata process keeps its streams, back-ends and members', async (t) => {
  const dir = await tempDir(t)
  const env = { OUTAGE_LAB_DATA_DIR: dir }
  const first = await spawnService('services/kinesis/metadata/main.js', env)
  t.teardown(() => first.stop('SIGKILL'))
  const call = async (base: string, method: string, p: string, body?: unknown) => {
    const res = await request(`${base}${p}`, {
      method: method as any,
      headers: body ? { ...INTERNAL, 'content-type': 'application/json' } : INTERNAL,
      body: body ? JSON.stringify(body) : undefined,
    })
    return { status: res.statusCode, body: (await res.body.json()) as any }
  }
  t.equal((await call(first.url, 'PUT', '/backends/backend-a', { url: 'http://127.0.0.1:4000' })).status, 200)
  const created = await call(first.url, 'POST', '/streams', { name: 'orders', shardCount: 2 })
  t.equal(created.status, 201)
  t.equal((await call(first.url, 'PUT', '/fleets/main/members/fe-1', { url: 'http://127.0.0.1:5000', cell: 'c1' })).status, 200)
  const before = await call(first.url, 'GET', '/shardmap?fleet=main')
  // SIGKILL: nothing gets a chance to flush; what was answered must already be on disk.
  await first.stop('SIGKILL')

  const second = await spawnService('services/kinesis/metadata/main.js', env)
  t.teardown(() => second.stop())
  const after = await call(second.url, 'GET', '/shardmap?fleet=main')
  t.same(after.body.streams, [created.body])
  t.same(after.body, before.body)
  t.equal(after.body.version, before.body.version)
  t.same((await call(second.url, 'GET', '/backends')).body, { backends: [{ id: 'backend-a', url: 'http://127.0.0.1:4000' }] })
  t.equal(await second.stop(), 0, 'SIGTERM closes cleanly')
})

t.test('a metadata process started by hand without OUTAGE_LAB_INTERNAL_TOKEN keeps its internal routes closed and says how to open them', async (t) => {
  const dir = await tempDir(t)
  const md = await spawnService('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir, OUTAGE_LAB_INTERNAL_TOKEN: '' })
  t.teardown(() => md.stop())
  const warning = md.logs.find((l) => /no OUTAGE_LAB_INTERNAL_TOKEN/.test(l.msg ?? ''))
  t.match(
    warning?.msg,
    /internal routes refuse every caller.*start it with OUTAGE_LAB_INTERNAL_TOKEN set to the run's internal token/,
    'the log says so and how',
  )
  for (const headers of [{}, INTERNAL, { 'x-outage-lab-internal': '' }]) {
    const res = await request(`${md.url}/streams`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"name":"orders","shardCount":1}',
    })
    t.equal(res.statusCode, 403, `POST /streams refused (${Object.keys(headers).length ? 'with a token it does not hold' : 'no token'})`)
    t.equal(((await res.body.json()) as { __type: string }).__type, 'AccessDeniedException')
  }
  const health = await request(`${md.url}/health`)
  await health.body.dump()
  t.equal(health.statusCode, 200, '/health still answers')
})
