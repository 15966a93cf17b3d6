// The local store's log on a real disk: what PutMetricData acknowledged survives a reopen, shipped
// datapoints stay shipped, a torn last line is cut off, and the retention drops old entries.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { LocalStore } from '../../services/cloudwatch/local-store.js'
import type { Datapoint } from '../../services/cloudwatch/datapoints.js'

function points(prefix: string, count: number, atMs: number): Datapoint[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}:${i}`,
    namespace: 'App',
    metricName: 'm',
    dimensions: [],
    timestampMs: atMs,
    unit: 'None',
    sampleCount: 1,
    sum: i,
    min: i,
    max: i,
    acceptedAtMs: atMs,
  }))
}

t.test('acknowledged datapoints survive a reopen; shipped ones are no longer pending', async (t) => {
  const file = path.join(t.testdir(), 'cw', 'local.log')
  const store = await LocalStore.open(file, { retentionMs: 60_000 })
  await Promise.all([store.append(points('a', 3, Date.now())), store.append(points('b', 2, Date.now()))])
  await store.markShipped(['a:0', 'b:1'])
  await store.close()

  const again = await LocalStore.open(file, { retentionMs: 60_000 })
  t.teardown(() => again.close())
  t.same(
    again.pending(10).map((p) => p.id),
    ['a:1', 'a:2', 'b:0'],
  )
  t.equal(again.size, 5, 'shipped datapoints stay readable until the retention drops them')
  t.same(
    again.pending(2).map((p) => p.id),
    ['a:1', 'a:2'],
    'oldest first, limited',
  )
})

t.test('a torn last line (a crash mid-write) is cut off and appends continue cleanly', async (t) => {
  const file = path.join(t.testdir(), 'local.log')
  const store = await LocalStore.open(file, { retentionMs: 60_000 })
  await store.append(points('a', 2, Date.now()))
  await store.close()
  fs.appendFileSync(file, '{"k":"put","d":[{"id":"torn')
  const again = await LocalStore.open(file, { retentionMs: 60_000 })
  await again.append(points('c', 1, Date.now()))
  await again.close()
  const third = await LocalStore.open(file, { retentionMs: 60_000 })
  t.teardown(() => third.close())
  t.same(
    third.pending(10).map((p) => p.id),
    ['a:0', 'a:1', 'c:0'],
  )
})

t.test('entries older than the retention are dropped, pending ones counted as expired, and the log compacted', async (t) => {
  let now = 1_000_000
  const file = path.join(t.testdir(), 'local.log')
  const store = await LocalStore.open(file, { retentionMs: 10_000, now: () => now })
  await store.append(points('old', 4, now))
  await store.markShipped(['old:0'])
  now += 5_000
  await store.append(points('new', 2, now))
  now += 6_000 // 'old' stored 11 s ago, 'new' 6 s ago
  t.equal(store.expire(), 3, 'three pending datapoints outlived the retention')
  await store.compact()
  t.same(
    store.pending(10).map((p) => p.id),
    ['new:0', 'new:1'],
  )
  t.equal(store.expiredTotal, 3)
  await store.close()
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n')
  t.equal(lines.length, 1, 'the compacted log holds only the live entries')
  const again = await LocalStore.open(file, { retentionMs: 10_000, now: () => now })
  t.teardown(() => again.close())
  t.same(
    again.pending(10).map((p) => p.id),
    ['new:0', 'new:1'],
  )
})
