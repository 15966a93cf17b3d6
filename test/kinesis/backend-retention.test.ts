// The back-end's retention: records older than it leave the reads and the disk (Kinesis's 24 h,
// compressed by the run's time scale), while everything younger stays readable, in order, with
// its sequence number, through compactions that run beside appends and reads.
import t, { type Test } from 'tap'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildApp } from '../../services/kinesis/backend/app.js'
import { ShardStore } from '../../services/kinesis/backend/shard-store.js'
import { COMPACT_SUFFIX, ShardLog, type StoredRecord } from '../../services/kinesis/backend/shard-log.js'
import { eventually } from '../helpers/eventually.js'
import { INTERNAL, INTERNAL_TOKEN } from '../helpers/spawn.js'

const SECRET = 'retention-secret'
const SHARD0 = 'shardId-000000000000'
const RETENTION_MS = 1_000
const b64 = (s: string) => Buffer.from(s).toString('base64')
const texts = (records: { data: string }[]) => records.map((r) => Buffer.from(r.data, 'base64').toString())
const stored = (records: StoredRecord[]) => records.map((r) => r.data.toString())

async function tempDir(t: Test): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-retention-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** A back-end on inject() with a retention of RETENTION_MS; `clock` is the test's unless `realClock`. */
async function setup(t: Test, opts: { dir?: string; realClock?: boolean } = {}) {
  const clock = { ms: 1_700_000_000_000 }
  const now = opts.realClock ? Date.now : () => clock.ms
  const dir = opts.dir ?? (await tempDir(t))
  const { store } = await ShardStore.open(dir, { now, retentionMs: RETENTION_MS })
  const app = buildApp({ id: 'backend-r', store, iteratorSecret: SECRET, now, internalToken: INTERNAL_TOKEN, logger: false })
  t.teardown(() => app.close())
  const post = async (url: string, payload: unknown) => {
    const res = await app.inject({ method: 'POST', url, headers: INTERNAL, payload: payload as any })
    return { status: res.statusCode, body: res.json() }
  }
  const append = async (datas: string[]): Promise<string[]> => {
    const res = await post(`/shards/orders/${SHARD0}/records`, { records: datas.map((d) => ({ data: b64(d), partitionKey: 'pk' })) })
    if (res.status !== 200) throw new Error(`append answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body.records.map((r: any) => r.sequenceNumber as string)
  }
  const iterator = async (body: object) => {
    const res = await post('/iterators', { stream: 'orders', shardId: SHARD0, ...body })
    if (res.status !== 200) throw new Error(`GetShardIterator answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body.shardIterator as string
  }
  const readAll = async (body: object = { type: 'TRIM_HORIZON' }) => {
    let it = await iterator(body)
    const out: any[] = []
    for (;;) {
      const page = await post('/records/get', { shardIterator: it })
      if (page.status !== 200) throw new Error(JSON.stringify(page.body))
      out.push(...page.body.records)
      it = page.body.nextShardIterator
      if (page.body.records.length === 0) return out
    }
  }
  const file = path.join(dir, 's-orders', `${SHARD0}.log`)
  const fileSize = async () => (await fs.stat(file)).size
  return { app, store, clock, dir, file, fileSize, append, readAll }
}

t.test('records older than the retention leave the reads and the file; younger ones stay, in order, with their numbers', async (t) => {
  const b = await setup(t)
  const t0 = b.clock.ms
  const old = await b.append(['old-1', 'old-2', 'old-3'])
  const sizeOfOld = await b.fileSize()
  b.clock.ms = t0 + 600
  const young = await b.append(['young-1', 'young-2'])
  const sizeOfAll = await b.fileSize()
  b.clock.ms = t0 + RETENTION_MS + 1 // old-* are past the retention, young-* are not

  const reports = await b.store.trim()
  t.same(
    reports.map((r) => [r.records, r.bytes]),
    [[3, sizeOfOld]],
    'one trim of the three old records',
  )
  t.equal(await b.fileSize(), sizeOfAll - sizeOfOld, 'the file shrank by exactly the old records')
  const horizon = await b.readAll()
  t.same(texts(horizon), ['young-1', 'young-2'], 'TRIM_HORIZON starts at the oldest retained record')
  t.same(
    horizon.map((r) => r.sequenceNumber),
    young,
    'with the sequence numbers they were acknowledged with',
  )
  t.same(
    texts(await b.readAll({ type: 'AT_SEQUENCE_NUMBER', startingSequenceNumber: old[1] })),
    ['young-1', 'young-2'],
    'a trimmed record: from the trim horizon',
  )
  t.same(texts(await b.readAll({ type: 'AFTER_SEQUENCE_NUMBER', startingSequenceNumber: young[0] })), ['young-2'])
  t.same(texts(await b.readAll({ type: 'AT_TIMESTAMP', timestampMs: t0 })), ['young-1', 'young-2'], 'a time before the horizon: from the horizon')

  const next = await b.append(['new-1'])
  t.ok(next[0] > young[1], 'numbers go on rising')
  t.same(texts(await b.readAll()), ['young-1', 'young-2', 'new-1'])
  t.same(await b.store.trim(), [], 'nothing more is old enough')

  const metrics = (await b.app.inject({ url: '/metrics', headers: INTERNAL })).body
  t.match(metrics, /kinesis_backend_records_trimmed_total\{[^}]*\} 3\n/)
  t.match(metrics, new RegExp(`kinesis_backend_bytes_trimmed_total\\{[^}]*\\} ${sizeOfOld}\\n`))
  t.match(metrics, new RegExp(`kinesis_backend_log_bytes\\{[^}]*\\} ${await b.fileSize()}\\n`))
  t.match(metrics, /kinesis_backend_compaction_duration_seconds_count\{[^}]*\} 1\n/)
  t.equal((await b.app.inject({ url: '/health' })).json().retentionMs, RETENTION_MS)
})

t.test('with the real clock the back-end trims by itself, and the disk use stays flat under steady appends', async (t) => {
  const b = await setup(t, { realClock: true })
  const payload = 'x'.repeat(1000)
  const sizes: number[] = []
  const acked: string[] = []
  // 3 s of appends at 20 batches a second, 3 retention periods: without a trim the file would triple.
  const started = Date.now()
  for (let i = 0; Date.now() - started < 3 * RETENTION_MS; i++) {
    acked.push(...(await b.append([`${i}:${payload}`])))
    if (i % 10 === 0) sizes.push(await b.fileSize())
    await new Promise((r) => setTimeout(r, 50))
  }
  const perRecord = (await b.fileSize()) / (await b.readAll()).length
  const bound = Math.ceil((RETENTION_MS * 1.25 + 200) / 50) * perRecord
  t.ok(
    Math.max(...sizes.slice(sizes.length / 2)) <= bound,
    `the file stays under ${Math.round(bound)} bytes (retention + a quarter of it), its largest ${Math.max(...sizes)}`,
  )
  const kept = await eventually(async () => (await b.readAll()).filter((r) => Date.now() - r.approximateArrivalTimestampMs > RETENTION_MS * 1.25 + 100), {
    what: 'no record older than the retention plus a trim interval',
    until: (older) => older.length === 0,
  })
  t.same(kept, [])
  const left = await b.readAll()
  t.ok(left.length > 0 && left.length < acked.length, `${left.length} of ${acked.length} records left`)
  t.same(
    left.map((r) => r.sequenceNumber),
    acked.slice(acked.length - left.length),
    'what is left is the newest acknowledged records, in order',
  )
})

t.test('appends during a compaction are all acknowledged, in order, and readable after it', async (t) => {
  const dir = await tempDir(t)
  const clock = { ms: 1_700_000_000_000 }
  const { log } = await ShardLog.open(path.join(dir, 'shard.log'), 0, { create: true, now: () => clock.ms })
  t.teardown(() => log.close())
  const big = 'o'.repeat(2000)
  for (let i = 0; i < 20; i++) await log.append(Array.from({ length: 100 }, (_, j) => ({ data: b64(`old-${i}-${j}:${big}`), partitionKey: 'k' })))
  clock.ms += 2_000
  const kept = await log.append([{ data: b64('kept'), partitionKey: 'k' }])
  clock.ms += 1

  const trim = log.trimBefore(clock.ms - 1_000)
  // Queued while the compaction runs, from the turn it starts: some are written while it copies
  // the bulk, the last ones wait for its last step.
  const during: Promise<string[]>[] = []
  let turns = 0
  let trimmed = false
  let acknowledgedDuring = 0
  void trim.finally(() => (trimmed = true))
  while (!trimmed || turns < 3) {
    during.push(
      log.append([{ data: b64(`during-${turns}-a`), partitionKey: 'k' }]).then((seqs) => {
        if (!trimmed) acknowledgedDuring++
        return seqs
      }),
    )
    during.push(log.append([{ data: b64(`during-${turns}-b`), partitionKey: 'k' }]))
    turns++
    await new Promise((r) => setImmediate(r))
  }
  const report = await trim
  t.equal(report?.records, 2000, 'the 2000 old records went')
  t.ok(acknowledgedDuring > 0, `appends went on while the bulk was copied (${acknowledgedDuring} of ${during.length}), the last step carried them over`)
  const seqs = (await Promise.all(during)).flat()
  t.equal(seqs.length, turns * 2, 'every append queued during the compaction is acknowledged')
  t.same([...seqs].sort(), seqs, 'in the order they were queued')
  t.ok(seqs[0] > kept[0], 'after the record appended before it')
  const all = await log.read(0, 10_000, 10 * 1024 * 1024)
  t.same(
    stored(all),
    ['kept', ...Array.from({ length: turns }, (_, i) => [`during-${i}-a`, `during-${i}-b`]).flat()],
    'the log holds the retained record then every append, nothing else',
  )
  t.same(
    all.map((r) => r.sequenceNumber),
    [...kept, ...seqs],
  )
})

t.test('reads in flight while a compaction swaps the file return whole, correct records', async (t) => {
  const dir = await tempDir(t)
  const clock = { ms: 1_700_000_000_000 }
  const { log } = await ShardLog.open(path.join(dir, 'shard.log'), 0, { create: true, now: () => clock.ms })
  t.teardown(() => log.close())
  const byNumber = new Map<string, string>()
  const add = async (prefix: string, batches: number, size: number) => {
    for (let i = 0; i < batches; i++) {
      const datas = Array.from({ length: 100 }, (_, j) => `${prefix}-${i}-${j}:${String.fromCharCode(97 + ((i + j) % 26)).repeat(size)}`)
      const seqs = await log.append(datas.map((d) => ({ data: b64(d), partitionKey: 'k' })))
      seqs.forEach((s, j) => byNumber.set(s, datas[j]))
    }
  }
  // 24 MiB to trim, a small tail to keep: the copy is quick, the big read is not.
  await add('old', 24, 10 * 1024)
  clock.ms += 2_000
  await add('new', 1, 10)
  const order = [...byNumber.keys()]

  let trimmed = false
  // A read that ends with the index shorter than it began was in flight across the swap.
  const read = (limit: number) => log.read(0, limit, 100 * 1024 * 1024).then((records) => ({ records, acrossSwap: log.count < order.length }))
  const reads = [read(order.length)]
  const trim = log.trimBefore(clock.ms - 1_000).finally(() => (trimmed = true))
  // A small read started each turn until the compaction is over: each takes the file and the
  // offsets as they are when it starts, before or after the swap.
  while (!trimmed) {
    reads.push(read(5))
    await new Promise((r) => setImmediate(r))
  }
  t.equal((await trim)?.records, 2400)
  const done = await Promise.all(reads)
  const bad = done.filter(({ records }) => {
    const first = order.indexOf(records[0].sequenceNumber)
    return !records.every((r, i) => r.sequenceNumber === order[first + i] && r.data.toString() === byNumber.get(r.sequenceNumber))
  })
  t.same(bad, [], `each of ${done.length} reads returned a run of records in order, each with its own data`)
  t.equal(done[0].records.length, order.length, 'the read started before the trim returned every record')
  t.ok(
    done.some((d) => d.acrossSwap),
    `reads were in flight across the swap (${done.filter((d) => d.acrossSwap).length} of ${done.length}; the big one ${done[0].acrossSwap ? 'too' : 'not'})`,
  )
  t.same(
    (await log.read(0, 100_000, 10 * 1024 * 1024)).map((r) => r.sequenceNumber),
    order.slice(2400),
    'after it, the log starts at the first new record',
  )
})

t.test('a compacted log reopens with the same records, and a stale .compact file is removed on open', async (t) => {
  const dir = await tempDir(t)
  const clock = { ms: 1_700_000_000_000 }
  const file = path.join(dir, 'shard.log')
  const first = await ShardLog.open(file, 0, { create: true, now: () => clock.ms })
  await first.log.append([{ data: b64('gone'), partitionKey: 'k' }])
  clock.ms += 2_000
  const kept = await first.log.append(['a', 'b', 'c'].map((d) => ({ data: b64(d), partitionKey: 'k' })))
  await first.log.trimBefore(clock.ms - 1_000)
  const before = await first.log.read(0, 100, 1024 * 1024)
  await first.log.close()
  // A crash in the middle of the next compaction would leave its copy beside the log.
  await fs.writeFile(file + COMPACT_SUFFIX, 'half a copy')

  const second = await ShardLog.open(file, 0, { now: () => clock.ms })
  t.teardown(() => second.log.close())
  await t.rejects(fs.access(file + COMPACT_SUFFIX), { code: 'ENOENT' }, 'the stale copy is gone')
  t.same([second.recovery.records, second.recovery.truncatedBytes], [3, 0], 'the log replays whole')
  const after = await second.log.read(0, 100, 1024 * 1024)
  t.same(after, before, 'the same records, numbers, data and arrival times')
  t.same(
    after.map((r) => r.sequenceNumber),
    kept,
  )
  const more = await second.log.append([{ data: b64('d'), partitionKey: 'k' }])
  t.ok(more[0] > kept[2], 'numbers continue after the retained ones')
})

t.test('sequence numbers keep rising after every record expired, even with a clock that went back', async (t) => {
  const b = await setup(t)
  const t0 = b.clock.ms
  const first = await b.append(['a', 'b'])
  b.clock.ms = t0 + 5_000
  await b.store.trim()
  t.equal(await b.fileSize(), 0, 'the log is empty')
  t.same(await b.readAll(), [], 'TRIM_HORIZON reads nothing')
  t.same(await b.readAll({ type: 'LATEST' }), [], 'LATEST reads nothing')
  b.clock.ms = t0 - 60_000
  const next = await b.append(['c'])
  t.ok(next[0] > first[1], 'the next number is above every number handed out')
  t.same(texts(await b.readAll({ type: 'AT_SEQUENCE_NUMBER', startingSequenceNumber: first[0] })), ['c'])
})
