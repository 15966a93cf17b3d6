// expect.delivered on synthetic inputs: a fake customer list and a fake stream reader stand in for
// the customer's GET /acknowledged and the lab's Kinesis (no topology is started).
import t from 'tap'
import path from 'node:path'
import { checkDelivery, idsOfRecords, parseAcknowledged, readWholeStream, LOST_IDS_SHOWN, type DeliveryDeps } from '../../harness/run/delivery.js'
import { checkDelivered } from '../../harness/analyze/expect.js'
import { loadExperiment } from '../../harness/experiment/index.js'
import { VALID, writeFiles } from '../experiment/helpers.js'

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
const X = { customer: 'clicks', stream: 'clickstream', path: '/acknowledged', withinMs: 10_000 }

/** A clock that only moves when the check sleeps; the stream grows by one pass's worth each read. */
function fake(acked: string[] | Error, passes: (Uint8Array[] | Error)[]): DeliveryDeps & { slept: number[]; reads: number } {
  let now = 0
  const d = {
    slept: [] as number[],
    reads: 0,
    acknowledged: async () => {
      if (acked instanceof Error) throw acked
      return acked
    },
    readStream: async (stream: string) => {
      if (stream !== 'clickstream') throw new Error(`wrong stream ${stream}`)
      const p = passes[Math.min(d.reads++, passes.length - 1)]
      if (p instanceof Error) throw p
      return p
    },
    now: () => now,
    sleep: async (ms: number) => {
      d.slept.push(ms)
      now += ms
    },
  }
  return d
}

t.test('ids of records: one event per record, a list of events, and what is not an event', async (t) => {
  const r = idsOfRecords([
    enc({ id: 'a' }),
    enc([{ id: 'b' }, { id: 'c' }]),
    enc({ id: 'a' }),
    enc('not json'),
    enc({ noId: 1 }),
    enc([]),
    enc([{ id: 'd' }, 5]),
  ])
  t.same([...r.ids.entries()].sort(), [
    ['a', 2],
    ['b', 1],
    ['c', 1],
    ['d', 1],
  ])
  t.equal(r.unreadable, 4, 'not JSON, no id, an empty list, a list with a non-event')
})

t.test('the acknowledged list: a JSON list or {ids}', async (t) => {
  t.same(parseAcknowledged(['a', 'b']), ['a', 'b'])
  t.same(parseAcknowledged({ ids: ['a'], count: 1 }), ['a'])
  t.throws(() => parseAcknowledged({ acked: [] }), /expected a JSON list of event ids/)
  t.throws(() => parseAcknowledged([1, 2]), /expected a JSON list of event ids/)
})

t.test('every acknowledged event in the stream: delivered at the first read', async (t) => {
  const d = fake(['e1', 'e2', 'e2'], [[enc({ id: 'e1' }), enc({ id: 'e2' }), enc({ id: 'e2' }), enc({ id: 'e3' })]])
  const r = await checkDelivery(X, d)
  t.same(r, {
    customer: 'clicks',
    stream: 'clickstream',
    acknowledged: 2,
    delivered: 2,
    lost: 0,
    lostIds: [],
    records: 4,
    unreadable: 0,
    duplicates: 1,
    reads: 1,
    tookMs: 0,
  })
  t.same(d.slept, [])
  const x = checkDelivered(X, [{ atMs: 1, kind: 'delivery', detail: { ...r } }])
  t.same(x, { name: 'delivered.clicks', met: true, detail: 'all 2 acknowledged events in clickstream (4 records read; 1 written more than once)' })
})

t.test('a spool still draining: the check reads again until every id is there', async (t) => {
  const d = fake(['e1', 'e2', 'e3'], [[enc({ id: 'e1' })], [enc({ id: 'e1' }), enc({ id: 'e2' })], [enc({ id: 'e1' }), enc({ id: 'e2' }), enc({ id: 'e3' })]])
  const r = await checkDelivery(X, d)
  t.equal(r.lost, 0)
  t.equal(r.delivered, 3)
  t.equal(r.reads, 3)
  t.same(d.slept, [2000, 2000], 'a pass every 2 s')
  t.equal(r.tookMs, 4000)
})

t.test('events never delivered: lost after `within`, the first ids named', async (t) => {
  const acked = Array.from({ length: 30 }, (_, i) => `e${i}`)
  const d = fake(acked, [[enc({ id: 'e0' }), enc({ id: 'e1' }), enc('garbage')]])
  const r = await checkDelivery({ ...X, withinMs: 5_000 }, d)
  t.equal(r.acknowledged, 30)
  t.equal(r.delivered, 2)
  t.equal(r.lost, 28)
  t.equal(r.lostIds.length, LOST_IDS_SHOWN)
  t.equal(r.lostIds[0], 'e2')
  t.equal(r.unreadable, 1)
  t.same(d.slept, [2000, 2000, 1000], 'the last wait ends at `within`')
  t.equal(r.tookMs, 5000)
  const x = checkDelivered(X, [{ atMs: 1, kind: 'delivery', detail: { ...r } }])
  t.equal(x.met, false)
  t.equal(x.detail, `28 of 30 acknowledged events not in clickstream after 5.0s: ${acked.slice(2, 22).join(', ')}, ... (8 more)`)
})

t.test('a stream that cannot be read is retried, then reported as an error, not as loss', async (t) => {
  const err = Object.assign(new Error('Internal error'), { name: 'InternalFailure' })
  const d = fake(['e1'], [err])
  const r = await checkDelivery({ ...X, withinMs: 3_000 }, d)
  t.equal(r.error, 'could not read stream clickstream: InternalFailure: Internal error')
  t.equal(r.lost, 0)
  t.equal(r.reads, 0)
  t.same(checkDelivered(X, [{ atMs: 1, kind: 'delivery', detail: { ...r } }]), { name: 'delivered.clicks', met: false, detail: r.error })
  const later = fake(['e1'], [err, [enc({ id: 'e1' })]])
  const r2 = await checkDelivery({ ...X, withinMs: 3_000 }, later)
  t.equal(r2.error, undefined, 'a read that works later clears it')
  t.equal(r2.delivered, 1)
})

t.test('a customer whose list cannot be read: an error, no read of the stream', async (t) => {
  const d = fake(new Error('HTTP 404'), [[]])
  const r = await checkDelivery(X, d)
  t.equal(r.error, 'could not read the acknowledged ids at /acknowledged: HTTP 404')
  t.equal(d.reads, 0)
})

t.test('the expectation without its event, or with nothing acknowledged', async (t) => {
  t.same(checkDelivered(X, []), {
    name: 'delivered.clicks',
    met: false,
    detail: "the delivery of clicks's events to clickstream was not checked (the method did not complete)",
  })
  const d = fake([], [[enc({ id: 'x' })]])
  const r = await checkDelivery(X, d)
  t.same(checkDelivered(X, [{ atMs: 1, kind: 'delivery', detail: { ...r } }]), {
    name: 'delivered.clicks',
    met: false,
    detail: 'clicks acknowledged no event: nothing to check',
  })
})

t.test('expect.delivered loads with its defaults', async (t) => {
  const dir = t.testdir()
  const customer = `  customers:\n    - name: clicks\n      command: [node, app.js]\n      workload: { rate: 5, method: POST, path: /events, body: '{"user": {{random}}}' }\n`
  const line = '  services: [cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page]\n'
  writeFiles(dir, {
    'x.yaml':
      VALID.replace(line, line + customer) +
      '  delivered:\n    - { customer: clicks, stream: clickstream }\n    - { customer: clicks, stream: other, path: /acked, within: 5s }\n',
  })
  const e = await loadExperiment(path.join(dir, 'x.yaml'))
  t.same(e.expect.delivered, [
    { customer: 'clicks', stream: 'clickstream', path: '/acknowledged', withinMs: 30_000 },
    { customer: 'clicks', stream: 'other', path: '/acked', withinMs: 5_000 },
  ])
})

t.test('reading the whole stream: every shard (ListShards pages), from TRIM_HORIZON to the tip', async (t) => {
  // Shard 0 has two pages then the tip; shard 1 is closed after one page (no next iterator).
  const pages: Record<string, { Records: { Data: Uint8Array }[]; NextShardIterator?: string; MillisBehindLatest?: number }> = {
    's0-a': { Records: [{ Data: enc({ id: 'a' }) }], NextShardIterator: 's0-b', MillisBehindLatest: 500 },
    's0-b': { Records: [{ Data: enc({ id: 'b' }) }], NextShardIterator: 's0-c', MillisBehindLatest: 0 },
    's0-c': { Records: [], NextShardIterator: 's0-d', MillisBehindLatest: 0 },
    's1-a': { Records: [{ Data: enc({ id: 'c' }) }] },
  }
  const calls: string[] = []
  const kinesis = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, string> }) => {
      const op = cmd.constructor.name.replace(/Command$/, '')
      calls.push(`${op} ${cmd.input.NextToken ?? cmd.input.ShardId ?? cmd.input.ShardIterator ?? cmd.input.StreamName}`)
      if (op === 'ListShards') return cmd.input.NextToken ? { Shards: [{ ShardId: 'shardId-1' }] } : { Shards: [{ ShardId: 'shardId-0' }], NextToken: 'more' }
      if (op === 'GetShardIterator') {
        t.equal(cmd.input.ShardIteratorType, 'TRIM_HORIZON')
        return { ShardIterator: cmd.input.ShardId === 'shardId-0' ? 's0-a' : 's1-a' }
      }
      if (op === 'GetRecords') return pages[cmd.input.ShardIterator]
      throw new Error(op)
    },
  }
  const data = await readWholeStream(kinesis as never, 'clickstream')
  t.same([...idsOfRecords(data).ids.keys()], ['a', 'b', 'c'])
  t.same(calls, [
    'ListShards clickstream',
    'ListShards more',
    'GetShardIterator shardId-0',
    'GetRecords s0-a',
    'GetRecords s0-b',
    'GetRecords s0-c',
    'GetShardIterator shardId-1',
    'GetRecords s1-a',
  ])
})
