import t, { type Test } from 'tap'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { buildApp } from '../../services/kinesis/backend/app.js'
import { ShardStore } from '../../services/kinesis/backend/shard-store.js'
import { ShardLog } from '../../services/kinesis/backend/shard-log.js'
import { _tableCrc32ForTests } from '../../services/kinesis/backend/frame.js'
import { buildApp as buildMetadataApp } from '../../services/kinesis/metadata/app.js'
import { MetadataStore } from '../../services/kinesis/metadata/store.js'
import { eventually } from '../helpers/eventually.js'
import { INTERNAL, INTERNAL_TOKEN } from '../helpers/spawn.js'

const SECRET = 'test-iterator-secret'
const SHARD0 = 'shardId-000000000000'
const SHARD1 = 'shardId-000000000001'
const b64 = (s: string) => Buffer.from(s).toString('base64')

async function tempDir(t: Test): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-backend-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** A back-end on inject() with a clock the test moves. */
async function setup(t: Test, opts: { dir?: string; secret?: string } = {}) {
  const clock = { ms: 1_700_000_000_000 }
  const now = () => clock.ms
  const dir = opts.dir ?? (await tempDir(t))
  const { store } = await ShardStore.open(dir, { now })
  // A back-end's callers are the lab's services (front-ends, metadata): the tests call as one.
  const app = buildApp({ id: 'backend-a', store, iteratorSecret: opts.secret ?? SECRET, now, internalToken: INTERNAL_TOKEN, logger: false })
  t.teardown(() => app.close())
  const post = async (url: string, payload: unknown) => {
    const res = await app.inject({ method: 'POST', url, headers: INTERNAL, payload: payload as any })
    return { status: res.statusCode, body: res.json() }
  }
  const append = async (stream: string, shardId: string, datas: string[]) => {
    const res = await post(`/shards/${stream}/${shardId}/records`, { records: datas.map((d, i) => ({ data: b64(d), partitionKey: `pk-${i}` })) })
    if (res.status !== 200) throw new Error(`append answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body.records.map((r: any) => r.sequenceNumber as string)
  }
  const iterator = async (body: object) => post('/iterators', { stream: 'orders', shardId: SHARD0, ...body })
  const get = async (shardIterator: string, limit?: number) => post('/records/get', { shardIterator, ...(limit ? { limit } : {}) })
  const readAll = async (it: string) => {
    const out: any[] = []
    for (;;) {
      const page = await get(it)
      if (page.status !== 200) throw new Error(JSON.stringify(page.body))
      out.push(...page.body.records)
      it = page.body.nextShardIterator
      if (page.body.records.length === 0) return { records: out, next: it }
    }
  }
  return { app, store, clock, dir, post, append, iterator, get, readAll }
}

const texts = (records: any[]) => records.map((r) => Buffer.from(r.data, 'base64').toString())

t.test('appends answer 56-digit sequence numbers, increasing in request order, encoding the shard', async (t) => {
  const b = await setup(t)
  const first = await b.append('orders', SHARD1, ['a', 'b', 'c'])
  b.clock.ms -= 10_000 // the clock steps back: numbers must still increase
  const second = await b.append('orders', SHARD1, ['d'])
  b.clock.ms += 20_000
  const third = await b.append('orders', SHARD1, ['e'])
  const all = [...first, ...second, ...third]
  for (const s of all) t.match(s, /^49000000000001\d{42}$/)
  t.same([...all].sort(), all, 'string order is arrival order')
  t.equal(new Set(all).size, all.length)
  const bad = await b.post('/shards/orders/shard-1/records', { records: [{ data: '', partitionKey: 'k' }] })
  t.same([bad.status, bad.body.__type], [400, 'ValidationException'])
  const noKey = await b.post(`/shards/orders/${SHARD0}/records`, { records: [{ data: 'AA==' }] })
  t.same(
    [noKey.status, noKey.body.message],
    [
      400,
      "1 validation error detected: Value 'null' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256 and greater than or equal to 1",
    ],
  )
  const none = await b.post(`/shards/orders/${SHARD0}/records`, { records: [] })
  t.same([none.status, none.body.__type], [400, 'ValidationException'])
})

t.test('iterator types: TRIM_HORIZON, LATEST, AT/AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP start where Kinesis starts', async (t) => {
  const b = await setup(t)
  const empty = await b.iterator({ type: 'TRIM_HORIZON' })
  t.equal(empty.status, 200, 'a shard never written has iterators too')
  t.same((await b.get(empty.body.shardIterator)).body.records, [])

  const t0 = b.clock.ms
  const seqs = await b.append('orders', SHARD0, ['r0', 'r1'])
  b.clock.ms = t0 + 1000
  seqs.push(...(await b.append('orders', SHARD0, ['r2', 'r3'])))

  const latest = (await b.iterator({ type: 'LATEST' })).body.shardIterator
  t.same(texts((await b.readAll((await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)).records), ['r0', 'r1', 'r2', 'r3'])
  t.same(texts((await b.readAll(empty.body.shardIterator)).records), ['r0', 'r1', 'r2', 'r3'], 'an iterator made on an empty shard sees later records')
  t.same(texts((await b.readAll((await b.iterator({ type: 'AT_SEQUENCE_NUMBER', startingSequenceNumber: seqs[1] })).body.shardIterator)).records), [
    'r1',
    'r2',
    'r3',
  ])
  t.same(texts((await b.readAll((await b.iterator({ type: 'AFTER_SEQUENCE_NUMBER', startingSequenceNumber: seqs[1] })).body.shardIterator)).records), [
    'r2',
    'r3',
  ])
  t.same(texts((await b.readAll((await b.iterator({ type: 'AT_TIMESTAMP', timestampMs: t0 + 1 })).body.shardIterator)).records), ['r2', 'r3'])
  t.same(texts((await b.readAll((await b.iterator({ type: 'AT_TIMESTAMP', timestampMs: t0 })).body.shardIterator)).records), ['r0', 'r1', 'r2', 'r3'])
  const future = await b.iterator({ type: 'AT_TIMESTAMP', timestampMs: t0 + 500 })
  b.clock.ms = t0 + 2000
  await b.append('orders', SHARD0, ['r4'])
  t.same(texts((await b.readAll(latest)).records), ['r4'], 'LATEST sees only records appended after it')
  t.same(texts((await b.readAll(future.body.shardIterator)).records), ['r2', 'r3', 'r4'])
  b.clock.ms += 1
  const afterAll = await b.iterator({ type: 'AT_TIMESTAMP', timestampMs: b.clock.ms })
  t.same((await b.get(afterAll.body.shardIterator)).body.records, [])
  t.same(texts((await b.readAll((await b.iterator({ type: 'TRIM_HORIZON', shardId: SHARD1 })).body.shardIterator)).records), [], 'shards do not see each other')

  const reads = await b.readAll((await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)
  t.same(reads.records[0], { sequenceNumber: seqs[0], data: b64('r0'), partitionKey: 'pk-0', approximateArrivalTimestampMs: t0 })
})

t.test('bad iterator requests answer Kinesis errors', async (t) => {
  const b = await setup(t)
  const [seq] = await b.append('orders', SHARD1, ['x'])
  const cases: Array<[object, string, string]> = [
    [
      { type: 'AT_SEQUENCE_NUMBER', startingSequenceNumber: seq },
      'InvalidArgumentException',
      `Invalid StartingSequenceNumber. It encodes ${SHARD1}, while it was used in a call to a shard with ${SHARD0}`,
    ],
    [
      { type: 'AT_SEQUENCE_NUMBER', startingSequenceNumber: '12345' },
      'InvalidArgumentException',
      `StartingSequenceNumber 12345 used in GetShardIterator on shard ${SHARD0} in stream orders under account 000000000000 is invalid.`,
    ],
    [
      { type: 'AFTER_SEQUENCE_NUMBER' },
      'InvalidArgumentException',
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber.',
    ],
    [
      { type: 'LATEST', startingSequenceNumber: seq },
      'InvalidArgumentException',
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified LATEST and also a StartingSequenceNumber.',
    ],
    [
      { type: 'AT_TIMESTAMP' },
      'InvalidArgumentException',
      'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
    ],
    [
      { type: 'AT_TIMESTAMP', timestampMs: 1_700_000_000_001 },
      'InvalidArgumentException',
      'The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: 1700000000001, currentTimestampInMillis: 1700000000000',
    ],
    [
      { type: 'OLDEST' },
      'ValidationException',
      "1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
    ],
    [
      { type: 'LATEST', stream: 'no/slash' },
      'ValidationException',
      "1 validation error detected: Value 'no/slash' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ],
  ]
  for (const [body, type, message] of cases) {
    const res = await b.iterator(body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.same(res.body, { __type: type, message })
  }
})

t.test('GetRecords pages by limit, always returns a next iterator, and reports millisBehindLatest', async (t) => {
  const b = await setup(t)
  const t0 = b.clock.ms
  for (let i = 0; i < 10; i++) {
    b.clock.ms = t0 + i * 100
    await b.append('orders', SHARD0, [`r${i}`])
  }
  let it = (await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator
  const pages: Array<{ texts: string[]; behind: number }> = []
  for (let n = 0; n < 5; n++) {
    const page = await b.get(it, 3)
    t.equal(page.status, 200)
    t.type(page.body.nextShardIterator, 'string')
    pages.push({ texts: texts(page.body.records), behind: page.body.millisBehindLatest })
    it = page.body.nextShardIterator
  }
  t.same(pages, [
    { texts: ['r0', 'r1', 'r2'], behind: 700 }, // newest arrived at +900, last returned at +200
    { texts: ['r3', 'r4', 'r5'], behind: 400 },
    { texts: ['r6', 'r7', 'r8'], behind: 100 },
    { texts: ['r9'], behind: 0 },
    { texts: [], behind: 0 },
  ])
  await b.append('orders', SHARD0, ['r10'])
  t.same(texts((await b.get(it, 3)).body.records), ['r10'], 'the iterator of an empty page waits at the tip')

  for (const [limit, message] of [
    [0, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"],
    [10_001, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"],
  ] as const) {
    const res = await b.post('/records/get', { shardIterator: it, limit })
    t.same([res.status, res.body], [400, { __type: 'ValidationException', message }])
  }
})

t.test('GetRecords answers at most 10 MiB', async (t) => {
  const b = await setup(t)
  const big = 'x'.repeat(1_000_000)
  for (let i = 0; i < 4; i++) await b.append('orders', SHARD0, [big, big, big])
  const page = await b.get((await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)
  // 10 records of 1,000,000 B plus their one-byte-ish keys fit in 10,485,760; an 11th does not.
  t.equal(page.body.records.length, 10)
  t.ok(page.body.millisBehindLatest >= 0)
  const rest = await b.get(page.body.nextShardIterator)
  t.equal(rest.body.records.length, 2)
})

t.test('iterators expire after 5 minutes', async (t) => {
  const b = await setup(t)
  await b.append('orders', SHARD0, ['a'])
  const it = (await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator
  b.clock.ms += 300_000
  t.equal((await b.get(it)).status, 200, 'still valid at exactly 5 minutes')
  b.clock.ms += 1
  const res = await b.get(it)
  t.equal(res.status, 400)
  t.same(res.body, {
    __type: 'ExpiredIteratorException',
    message:
      'Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while right now it is Tue Nov 14 22:18:20 UTC 2023 which is further in the future than the tolerated delay of 300000 milliseconds.',
  })
})

t.test('a forged or garbled iterator is InvalidArgumentException; a front-end can read stream and shard without the secret', async (t) => {
  const b = await setup(t)
  await b.append('orders', SHARD0, ['secret record'])
  const it: string = (await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator
  const [payload, sig] = it.split('.')
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString())
  t.match(decoded, { stream: 'orders', shardId: SHARD0 })
  t.ok(it.length <= 512, "fits Kinesis's 512-character ShardIterator limit")

  const forgedPayload = Buffer.from(JSON.stringify({ ...decoded, shardId: SHARD1 })).toString('base64url')
  const other = await setup(t, { secret: 'another-secret' })
  await other.append('orders', SHARD0, ['x'])
  const otherIt = (await other.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator
  for (const bad of [`${forgedPayload}.${sig}`, 'garbage', `${payload}.`, `.${sig}`, `${payload}.${sig}x`, otherIt, `${payload}.${sig}.${sig}`, 42]) {
    const res = await b.post('/records/get', { shardIterator: bad })
    t.same([res.status, res.body], [400, { __type: 'InvalidArgumentException', message: 'Invalid ShardIterator.' }], String(bad).slice(0, 40))
  }
})

t.test('records and sequence numbers survive reopening the store, and numbers keep increasing', async (t) => {
  const dir = await tempDir(t)
  const first = await setup(t, { dir })
  const before = await first.append('orders', SHARD0, ['a', 'b'])
  await first.app.close()
  const second = await setup(t, { dir })
  second.clock.ms -= 60_000 // even a clock that went back cannot make a number repeat
  const after = await second.append('orders', SHARD0, ['c'])
  t.ok(after[0] > before[1])
  t.same(texts((await second.readAll((await second.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)).records), ['a', 'b', 'c'])
})

t.test('a torn tail is cut off on recovery and the intact records stay', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'shard.log')
  const opened = await ShardLog.open(file, 0, { create: true })
  const seqs = await opened.log.append([
    { data: b64('one'), partitionKey: 'k' },
    { data: b64('two'), partitionKey: 'k' },
  ])
  await opened.log.append([{ data: b64('three'), partitionKey: 'k' }])
  await opened.log.close()
  const intact = (await fs.stat(file)).size
  const whole = await fs.readFile(file)
  const lastFrame = whole.length - (8 + 18 + 1 + 5)

  // A frame cut short, as a crash mid-write leaves it.
  await fs.appendFile(file, whole.subarray(0, 20))
  let r = await ShardLog.open(file, 0)
  t.match(r.recovery, { records: 3, truncatedBytes: 20, reason: 'incomplete frame' })
  t.equal((await fs.stat(file)).size, intact)
  await r.log.close()

  // A whole-looking last frame whose bytes did not all reach the disk: the CRC catches it.
  const flipped = Buffer.from(whole)
  flipped[flipped.length - 1] ^= 0xff
  await fs.writeFile(file, flipped)
  r = await ShardLog.open(file, 0)
  t.match(r.recovery, { records: 2, truncatedBytes: whole.length - lastFrame, reason: 'CRC mismatch' })
  const read = await r.log.read(0, 10, 1 << 20)
  t.same(
    read.map((x) => [x.sequenceNumber, x.data.toString()]),
    [
      [seqs[0], 'one'],
      [seqs[1], 'two'],
    ],
  )
  const next = await r.log.append([{ data: b64('four'), partitionKey: 'k' }])
  t.ok(next[0] > seqs[1])
  await r.log.close()
  const again = await ShardLog.open(file, 0)
  t.match(again.recovery, { records: 3, truncatedBytes: 0 })
  t.same(
    (await again.log.read(0, 10, 1 << 20)).map((x) => x.data.toString()),
    ['one', 'two', 'four'],
  )
  await again.log.close()

  const sample = Buffer.from('The quick brown fox jumps over the lazy dog')
  t.equal(_tableCrc32ForTests(sample), zlib.crc32(sample), 'the fallback CRC matches zlib')
})

t.test('stream names stay inside the data directory and a dropped stream starts empty', async (t) => {
  const b = await setup(t)
  // URL parsers resolve ".." in paths, so no HTTP caller can name this stream (metadata refuses
  // it); the store must still keep it inside its directory.
  await (await b.store.shard('..', SHARD0, true))!.append([{ data: b64('dots'), partitionKey: 'k' }])
  t.same(await fs.readdir(b.dir), ['s-..'])
  await b.append('orders', SHARD0, ['old'])
  const del = await b.app.inject({ method: 'DELETE', url: '/streams/orders', headers: INTERNAL })
  t.same(del.json(), { stream: 'orders', droppedShards: 1 })
  await b.append('orders', SHARD0, ['new'])
  t.same(texts((await b.readAll((await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)).records), ['new'])
  t.same(texts((await b.readAll((await b.iterator({ type: 'TRIM_HORIZON', stream: '..' })).body.shardIterator)).records), ['dots'])
  const metrics = (await b.app.inject({ url: '/metrics', headers: INTERNAL })).body
  t.match(metrics, /kinesis_backend_records_appended_total\{[^}]*\} 3/)
  t.match(metrics, /kinesis_backend_fsyncs_total\{[^}]*\} 3/)
  t.match(metrics, /kinesis_backend_group_commit_records_count\{[^}]*\} 3/)
  t.match(metrics, /kinesis_backend_fsync_duration_seconds_count\{[^}]*\} 3/)
})

t.test('concurrent appends to one shard share fsyncs and keep every request in order', async (t) => {
  const b = await setup(t)
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, w) =>
      b.append(
        'orders',
        SHARD0,
        Array.from({ length: 5 }, (_, i) => `w${w}-${i}`),
      ),
    ),
  )
  for (const seqs of answers) t.same([...seqs].sort(), seqs)
  const all = answers.flat()
  t.equal(new Set(all).size, 100)
  const read = await b.readAll((await b.iterator({ type: 'TRIM_HORIZON' })).body.shardIterator)
  t.same(
    read.records.map((r: any) => r.sequenceNumber),
    [...all].sort(),
  )
  const byText = new Map(read.records.map((r: any) => [Buffer.from(r.data, 'base64').toString(), r.sequenceNumber]))
  answers.forEach((seqs, w) => seqs.forEach((s: string, i: number) => t.equal(byText.get(`w${w}-${i}`), s)))
  const fsyncs = Number(/kinesis_backend_fsyncs_total\{[^}]*\} (\d+)/.exec((await b.app.inject({ url: '/metrics', headers: INTERNAL })).body)![1])
  t.ok(fsyncs < 20, `20 concurrent appends took ${fsyncs} fsyncs`)
})

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
}

t.test('a back-end started before metadata registers once metadata answers, and drops a stream metadata deletes', async (t) => {
  const dir = await tempDir(t)
  const metadataPort = await freePort()
  const { store } = await ShardStore.open(path.join(dir, 'backend'))
  const backend = buildApp({
    id: 'backend-a',
    store,
    iteratorSecret: SECRET,
    metadataUrl: `http://127.0.0.1:${metadataPort}`,
    internalToken: INTERNAL_TOKEN,
    logger: false,
  })
  t.teardown(() => backend.close())
  await backend.listen({ port: 0, host: '127.0.0.1' })
  const backendUrl = `http://127.0.0.1:${(backend.server.address() as net.AddressInfo).port}`
  const health = await backend.inject({ url: '/health' })
  t.same([health.statusCode, health.json().status, health.json().registered], [503, 'starting', false])

  const metadata = buildMetadataApp({ store: await MetadataStore.open(path.join(dir, 'metadata.json')), internalToken: INTERNAL_TOKEN, logger: false })
  t.teardown(() => metadata.close())
  await metadata.listen({ port: metadataPort, host: '127.0.0.1' })
  // A soft wait: the assertion below says what is wrong if it never turns healthy.
  const healthStatus = async () => (await backend.inject({ url: '/health' })).statusCode
  const ready = await eventually(healthStatus, { what: 'the back-end healthy', timeoutMs: 5_000, intervalMs: 50, until: (status) => status === 200 }).catch(
    healthStatus,
  )
  t.equal(ready, 200, 'healthy once registered')
  t.same((await metadata.inject({ url: '/backends', headers: INTERNAL })).json().backends, [{ id: 'backend-a', url: backendUrl }])

  t.equal((await metadata.inject({ method: 'POST', url: '/streams', headers: INTERNAL, payload: { name: 'orders', shardCount: 1 } })).statusCode, 201)
  await backend.inject({
    method: 'POST',
    url: `/shards/orders/${SHARD0}/records`,
    headers: INTERNAL,
    payload: { records: [{ data: b64('before delete'), partitionKey: 'k' }] },
  })
  t.equal(store.shardCount(), 1)
  t.equal((await metadata.inject({ method: 'DELETE', url: '/streams/orders', headers: INTERNAL })).statusCode, 200)
  t.equal(store.shardCount(), 0, 'metadata told the owner to drop the stream')
})
