// The resilience parts of examples/clickstream-ts, in process: the spool (durability, order,
// replay after a crash), backoff with full jitter, the circuit breaker, the shipper and the
// metric aggregator against fake dependencies. No lab service is started. The crash test runs the
// compiled spool (examples/clickstream-ts/dist: `make build` or `npx tsc -p examples/clickstream-ts`).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { ROOT } from '../helpers/spawn.js'
import { Spool } from '../../examples/clickstream-ts/src/spool.js'
import { backoffCeiling, fullJitter } from '../../examples/clickstream-ts/src/backoff.js'
import { CircuitBreaker } from '../../examples/clickstream-ts/src/breaker.js'
import { Shipper } from '../../examples/clickstream-ts/src/shipper.js'
import { MetricAggregator } from '../../examples/clickstream-ts/src/aggregator.js'
import { outcomeOf } from '../../examples/clickstream-ts/src/metrics.js'

const ev = (i: number) => ({ id: `e${i}`, user: `user-${i % 3}`, page: `/p/${i}` })

t.test('spool: appends are on disk, in order, before they resolve', async (t) => {
  const dir = t.testdir()
  const s = Spool.open(dir)
  await Promise.all([0, 1, 2, 3, 4].map((i) => s.append(ev(i))))
  const lines = fs.readFileSync(path.join(dir, 'events.log'), 'utf8').trim().split('\n')
  t.same(
    lines.map((l) => JSON.parse(l).id),
    ['e0', 'e1', 'e2', 'e3', 'e4'],
    'one line per event, in the order they were appended (group commit keeps it)',
  )
  t.same(s.acknowledged(), ['e0', 'e1', 'e2', 'e3', 'e4'])
  t.equal(s.backlog, 5)
  t.same(
    s.unshipped(2).map((e) => e.id),
    ['e0', 'e1'],
  )
  s.markShipped(2)
  t.equal(s.backlog, 3)
  t.same(
    s.unshipped(10).map((e) => e.id),
    ['e2', 'e3', 'e4'],
  )
  t.equal(Number(fs.readFileSync(path.join(dir, 'shipped'), 'utf8')), Buffer.byteLength(lines.slice(0, 2).join('\n') + '\n'))
  s.close()
})

t.test('spool: a new process replays what was not shipped, and keeps the whole ledger', async (t) => {
  const dir = t.testdir()
  const a = Spool.open(dir)
  for (let i = 0; i < 6; i++) await a.append(ev(i))
  a.markShipped(4)
  // A crash: no close, the process is gone.
  const b = Spool.open(dir)
  t.same(
    b.unshipped(10).map((e) => e.id),
    ['e4', 'e5'],
    'only the unshipped ones, in order',
  )
  t.same(b.acknowledged(), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'], 'every acknowledged id')
  await b.append(ev(6))
  t.same(
    b.unshipped(10).map((e) => e.id),
    ['e4', 'e5', 'e6'],
  )
  b.markShipped(3)
  const c = Spool.open(dir)
  t.equal(c.backlog, 0)
  t.equal(c.acknowledged().length, 7)
  a.close()
  b.close()
  c.close()
})

t.test('spool: a torn last line (its fsync never returned, never acknowledged) is dropped on replay', async (t) => {
  const dir = t.testdir()
  const a = Spool.open(dir)
  await a.append(ev(0))
  await a.append(ev(1))
  a.close()
  fs.appendFileSync(path.join(dir, 'events.log'), '{"id":"e2","us')
  const b = Spool.open(dir)
  t.same(b.acknowledged(), ['e0', 'e1'])
  await b.append(ev(3))
  b.close()
  const c = Spool.open(dir)
  t.same(c.acknowledged(), ['e0', 'e1', 'e3'], 'the next append starts on a clean line')
  t.same(
    c.unshipped(10).map((e) => e.id),
    ['e0', 'e1', 'e3'],
  )
  c.close()
})

t.test('spool: a shipped offset beyond the log (a log cut short) replays nothing twice and nothing past the end', async (t) => {
  const dir = t.testdir()
  const a = Spool.open(dir)
  await a.append(ev(0))
  a.close()
  fs.writeFileSync(path.join(dir, 'shipped'), '999999')
  const b = Spool.open(dir)
  t.equal(b.backlog, 0)
  b.close()
})

t.test('backoff: full jitter stays in [0, min(cap, base * 2^n))', async (t) => {
  const o = { baseMs: 100, capMs: 5_000 }
  t.same(
    [0, 1, 2, 3, 5, 6, 100, 2000].map((n) => backoffCeiling(n, o)),
    [100, 200, 400, 800, 3200, 5000, 5000, 5000],
  )
  t.equal(
    fullJitter(3, o, () => 0),
    0,
    'the lowest draw waits nothing',
  )
  t.equal(
    fullJitter(3, o, () => 0.999999),
    799,
    'the highest stays under the ceiling',
  )
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < 5000; i++) {
    const d = fullJitter(4, o)
    min = Math.min(min, d)
    max = Math.max(max, d)
  }
  t.ok(min >= 0 && max < 1600, `5000 draws of retry 4 within [0, 1600): ${min}..${max}`)
  t.ok(max - min > 1200, 'and spread over the range (not a fixed delay)')
})

t.test('breaker: closed -> open after the threshold -> half-open after openMs -> one trial', async (t) => {
  let now = 0
  const b = new CircuitBreaker('kinesis', { failureThreshold: 3, openMs: 1000 }, () => now)
  t.equal(b.state(), 'closed')
  b.failure()
  b.failure()
  t.equal(b.state(), 'closed', 'two failures are not enough')
  b.success()
  b.failure()
  b.failure()
  t.equal(b.state(), 'closed', 'a success resets the count')
  b.failure()
  t.equal(b.state(), 'open')
  t.equal(b.opens, 1)
  t.notOk(b.allow(), 'open: no call goes')
  t.equal(b.retryAt(), 1000)
  now = 999
  t.notOk(b.allow())
  now = 1000
  t.equal(b.state(), 'half-open')
  t.ok(b.allow(), 'half-open: the trial goes')
  t.notOk(b.allow(), 'and only the trial')
  b.failure()
  t.equal(b.state(), 'open', 'a failed trial opens it again')
  t.equal(b.opens, 2)
  t.equal(b.retryAt(), 2000)
  now = 2000
  t.ok(b.allow())
  b.success()
  t.equal(b.state(), 'closed', 'a successful trial closes it')
  t.ok(b.allow())
  t.ok(b.allow(), 'closed: every call goes')
})

t.test('breaker: a late failure of a call started before it opened does not extend the open time', async (t) => {
  let now = 0
  const b = new CircuitBreaker('cloudwatch', { failureThreshold: 1, openMs: 1000 }, () => now)
  b.failure()
  now = 500
  b.failure()
  t.equal(b.retryAt(), 1000)
  t.equal(b.opens, 1)
})

t.test('shipper: ships in order, backs off with jitter on failures, opens the breaker, drains after recovery', async (t) => {
  const dir = t.testdir()
  const spool = Spool.open(dir)
  for (let i = 0; i < 7; i++) await spool.append(ev(i))
  let now = 0
  let failing = true
  const sent: string[][] = []
  const shippedIds: string[] = []
  const breaker = new CircuitBreaker('kinesis', { failureThreshold: 2, openMs: 3000 }, () => now)
  const s = new Shipper(
    spool,
    async (batch) => {
      if (failing) throw Object.assign(new Error('boom'), { name: 'InternalFailure' })
      sent.push(batch.map((e) => e.id))
      return batch.length
    },
    breaker,
    { batchSize: 3, random: () => 0.5, now: () => now, onShipped: (ids) => shippedIds.push(...ids) },
  )
  t.equal(await s.step(), 50, 'first failure: half of the 100 ms ceiling')
  t.equal(await s.step(), 100, 'second: half of 200 ms; the breaker opens')
  t.equal(breaker.state(), 'open')
  t.equal(await s.step(), 3000, 'open: wait until it may try again, nothing sent')
  now = 3000
  failing = false
  t.equal(await s.step(), 0, 'the trial succeeds: next batch at once')
  t.equal(breaker.state(), 'closed')
  await s.step()
  await s.step()
  t.same(sent, [['e0', 'e1', 'e2'], ['e3', 'e4', 'e5'], ['e6']])
  t.same(shippedIds, ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6'])
  t.equal(spool.backlog, 0)
  t.equal(s.failures, 2)
  spool.close()
})

t.test('shipper: a partly stored batch advances to the first refused record and sends the rest again', async (t) => {
  const spool = Spool.open(t.testdir())
  for (let i = 0; i < 4; i++) await spool.append(ev(i))
  const sent: string[][] = []
  let first = true
  const s = new Shipper(
    spool,
    async (batch) => {
      sent.push(batch.map((e) => e.id))
      if (first) {
        first = false
        return 2
      }
      return batch.length
    },
    new CircuitBreaker('kinesis'),
    { random: () => 0 },
  )
  await s.step()
  t.equal(spool.backlog, 2)
  await s.step()
  t.same(sent, [
    ['e0', 'e1', 'e2', 'e3'],
    ['e2', 'e3'],
  ])
  t.equal(spool.backlog, 0)
  spool.close()
})

t.test('shipper: started, it ships what is appended and stops cleanly', async (t) => {
  const spool = Spool.open(t.testdir())
  const got: string[] = []
  const s = new Shipper(
    spool,
    async (batch) => {
      got.push(...batch.map((e) => e.id))
      return batch.length
    },
    new CircuitBreaker('kinesis'),
    { idleMs: 5_000 },
  )
  s.start()
  await spool.append(ev(1))
  await spool.append(ev(2))
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
  t.same(got, ['e1', 'e2'], 'an append wakes the idle shipper')
  await s.stop()
  spool.close()
})

t.test('metric aggregator: never loses the count, never calls through an open breaker', async (t) => {
  let now = 0
  let fail = true
  const sent: number[] = []
  const a = new MetricAggregator(
    async (n) => {
      if (fail) throw new Error('down')
      sent.push(n)
    },
    new CircuitBreaker('cloudwatch', { failureThreshold: 1, openMs: 1000 }, () => now),
  )
  a.add()
  a.add(2)
  await a.flush()
  t.equal(a.pending, 3, 'a failed flush keeps the count')
  a.add()
  fail = false
  await a.flush()
  t.same(sent, [], 'open: no call')
  now = 1000
  await a.flush()
  t.same(sent, [4], 'aggregated into one datapoint')
  t.equal(a.pending, 0)
})

t.test('served-request outcomes, in the shape of the lab', async (t) => {
  t.equal(outcomeOf(200, true), 'ok')
  t.equal(outcomeOf(202, true), 'ok')
  t.equal(outcomeOf(404, true), 'client_error')
  t.equal(outcomeOf(503, true), 'server_error')
  t.equal(outcomeOf(200, false), 'aborted')
})

t.test('spool: a process killed (SIGKILL) while appending loses none of the events it acknowledged', async (t) => {
  const dir = t.testdir()
  // The child acknowledges (prints) each id once its append resolved, as the service answers.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Spool } from ${JSON.stringify(path.join(ROOT, 'examples/clickstream-ts/dist/spool.js'))}
       const s = Spool.open(process.argv[1])
       for (let i = 0; ; i++) {
         await Promise.all([0, 1, 2].map((j) => s.append({ id: 'e' + (3 * i + j), pad: 'x'.repeat(200) }).then(() => process.stdout.write('e' + (3 * i + j) + '\\n'))))
       }`,
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (out.split('\n').length > 300) {
        clearInterval(check)
        resolve()
      }
    }, 20)
  })
  child.kill('SIGKILL')
  await new Promise((r) => child.once('close', r))
  const acked = out.split('\n').filter(Boolean)
  const s = Spool.open(dir)
  const ledger = new Set(s.acknowledged())
  t.ok(acked.length >= 300, `${acked.length} acknowledged before the kill`)
  t.same(
    acked.filter((id) => !ledger.has(id)),
    [],
    'every acknowledged id is in the spool after the crash',
  )
  t.equal(s.backlog, ledger.size, 'and every one of them is to be shipped (nothing was)')
  s.close()
})
