// The access-pattern buffer on its own, against a shipper scripted call by call: batches, order,
// partial failures, and the two ways a full buffer behaves.
import t from 'tap'
import { AccessLog, type AccessRecord } from '../../services/cognito/access-log.js'
import { eventually } from '../helpers/eventually.js'

const rec = (i: number): AccessRecord => ({ data: Buffer.from(`r${i}`), partitionKey: `k${i}` })
const names = (rs: AccessRecord[]) => rs.map((r) => r.data.toString())

t.test('ships in PutRecords batches of at most 500, in order, and retries only what Kinesis refused', async (t) => {
  const calls: string[][] = []
  const refuseOnce = new Set(['r3', 'r700'])
  const log = new AccessLog({
    capacity: 2000,
    flushIntervalMs: 5,
    sustainKinesisErrors: false,
    ship: async (batch) => {
      calls.push(names(batch))
      return batch.flatMap((r, i) => (refuseOnce.delete(r.data.toString()) ? [i] : []))
    },
  })
  const appended = Array.from({ length: 1200 }, (_, i) => log.append(rec(i)))
  t.ok(
    appended.every((a) => a === undefined),
    'appends below capacity never wait',
  )
  log.start()
  t.teardown(() => log.close())
  await eventually(() => log.stats().records === 0, { what: 'the log drained', timeoutMs: Infinity, intervalMs: 5 })
  t.ok(
    calls.every((c) => c.length <= 500),
    'no batch above 500',
  )
  t.equal(calls[0].length, 500, 'a full batch goes out as soon as it is there')
  t.equal(calls.flat().length, 1202, 'every record once, the two refused ones twice')
  t.equal(calls[1][0], 'r3', 'the refused record goes out again first, ahead of newer ones')
  const shippedOnce = calls.flat().filter((n) => n === 'r3' || n === 'r700')
  t.same(shippedOnce, ['r3', 'r3', 'r700', 'r700'], 'each refused record sent twice, nothing else repeated')
  t.equal(new Set(calls.flat()).size, 1200)
  t.match(log.stats(), { shipped: 1200, shed: 0, shipFailures: 0, records: 0 })
})

t.test('holds records until the stream is ready', async (t) => {
  let ready = false
  const shipped: string[] = []
  const log = new AccessLog({
    capacity: 10,
    flushIntervalMs: 5,
    sustainKinesisErrors: false,
    ready: () => ready,
    ship: async (b) => (shipped.push(...names(b)), []),
  }).start()
  t.teardown(() => log.close())
  log.append(rec(1))
  await new Promise((r) => setTimeout(r, 40))
  t.same(shipped, [])
  ready = true
  await new Promise((r) => setTimeout(r, 40))
  t.same(shipped, ['r1'])
})

t.test('default: a full buffer makes append() wait, in arrival order, for space the shipper frees', async (t) => {
  let failing = true
  const events: string[] = []
  const log = new AccessLog({
    capacity: 3,
    flushIntervalMs: 5,
    maxBackoffMs: 20,
    sustainKinesisErrors: false,
    ship: async (_b) => {
      if (failing) throw new Error('InternalFailure')
      return []
    },
    events: { shipFailed: () => events.push('failed') },
  }).start()
  t.teardown(() => log.close())
  for (let i = 0; i < 3; i++) t.equal(log.append(rec(i)), undefined)
  const order: number[] = []
  const waits = [3, 4].map((i) => log.append(rec(i))!.then(() => order.push(i)))
  t.ok(waits.every((w) => w instanceof Promise))
  await new Promise((r) => setTimeout(r, 100))
  t.same(order, [], 'nobody gets space while Kinesis fails')
  t.equal(log.stats().blockedRequests, 2)
  t.ok(events.length >= 2, 'the shipper keeps retrying with backoff')
  failing = false
  await Promise.all(waits)
  t.same(order, [3, 4])
  t.equal(log.stats().blockedRequests, 0)
})

t.test('sustainKinesisErrors: a full buffer sheds the new record, counts it, and append() never waits', async (t) => {
  let shedEvents = 0
  const log = new AccessLog({
    capacity: 3,
    flushIntervalMs: 5,
    sustainKinesisErrors: true,
    ship: async () => Promise.reject(new Error('InternalFailure')),
    events: { shed: (n) => (shedEvents += n) },
  }).start()
  t.teardown(() => log.close())
  for (let i = 0; i < 10; i++) t.equal(log.append(rec(i)), undefined)
  t.match(log.stats(), { records: 3, shed: 7, blockedRequests: 0 })
  t.equal(shedEvents, 7)
})

t.test('bad options are refused up front', async (t) => {
  const ship = async () => []
  t.throws(() => new AccessLog({ capacity: 0, flushIntervalMs: 5, sustainKinesisErrors: false, ship }), /capacity must be a positive integer/)
  t.throws(
    () => new AccessLog({ capacity: 1, flushIntervalMs: 5, batchSize: 501, sustainKinesisErrors: false, ship }),
    /batchSize must be an integer in \[1, 500\]/,
  )
})
