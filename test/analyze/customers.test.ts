// Customer services (the user's own) in the analysis: their dependencies are what the lab counted
// under their keys, their onset's cause the impacted lab service they were calling, and the journal
// records what each called.
import t from 'tap'
import { analyzeRun, increase, labServiceOf, orderServices, type TimelineRow } from '../../harness/analyze/index.js'
import { customerAccessKey } from '../../harness/topology/customers.js'
import { experiment, calls, actionStart, served, alive } from './helpers.js'

const customer = (name: string) => ({ name, command: ['node', 'app.mjs'], workload: { rate: 10 } })
const exp = experiment({
  topology: { services: ['cloudwatch'], customers: [customer('shop'), customer('reports'), customer('quiet')] },
  expect: { impacted: ['kinesis', 'shop'], onsetOrder: [['kinesis'], ['shop']] },
})

/** What a lab process counted of one caller: `perSecond` calls each second of (from, to], cumulative, as the observer writes a counter. */
function callerCalls(process: string, who: string, operation: string, outcome: string, spans: [number, number][], perSecond = 5): TimelineRow[] {
  const key = customerAccessKey(who).accessKeyId
  const rows: TimelineRow[] = []
  let n = 0
  for (let at = -3_000; at <= 90_000; at += 1_000) {
    if (spans.some(([a, b]) => at > a && at <= b)) n += perSecond
    if (n > 0)
      rows.push({
        service: process,
        metric: `lab_caller_calls_total{caller="${key}",operation="${operation}",outcome="${outcome}",protocol="awsJson"}`,
        value: n,
        atMs: at,
      })
  }
  return rows
}

// Kinesis breaks at 20s, CloudWatch at 22s; the paced restart heals both by 60s. shop writes to
// Kinesis (and read a CloudWatch alarm once, at boot); reports reads CloudWatch only; quiet calls
// nothing of the lab and breaks on its own at 30s.
const down = (from: number, to: number) => (t: number) => (t >= from && t < to ? 'bad' : 'ok')
const timeline: TimelineRow[] = [
  ...calls('kinesis', down(20_000, 60_000)),
  ...calls('cloudwatch', down(22_000, 60_000)),
  ...calls('shop', down(23_000, 61_000)),
  ...calls('reports', down(24_000, 61_000)),
  ...calls('quiet', down(30_000, 40_000)),
  ...served('kinesis-endpoint-main', [[20_000, 60_000]]),
  ...served('cloudwatch', [[22_000, 60_000]]),
  ...alive('kinesis-frontend-main-1'),
  ...callerCalls('kinesis-frontend-main-1', 'shop', 'PutRecord', 'ok', [
    [-3_000, 20_000],
    [60_000, 90_000],
  ]),
  ...callerCalls('kinesis-frontend-main-1', 'shop', 'PutRecord', 'server_error', [[20_000, 60_000]]),
  ...callerCalls('cloudwatch', 'shop', 'DescribeAlarms', 'ok', [[-3_000, -2_000]], 1),
  ...callerCalls('cloudwatch', 'reports', 'GetMetricData', 'ok', [[-3_000, 90_000]], 2),
].sort((a, b) => a.atMs - b.atMs)
const events = [actionStart(10_000, 'add-capacity', 'scale-fleet'), actionStart(50_000, 'paced-restart', 'restart-fleet')]

t.test('a customer broke through the lab service it was calling when it broke', async (t) => {
  const a = analyzeRun({ experiment: exp, timeline, events })
  const entry = (s: string) => a.cascade.find((c) => c.service === s)
  t.same(
    a.cascade.map((c) => [c.service, c.onsetMs, c.cause]),
    [
      ['kinesis', 20_000, 'trigger'],
      ['cloudwatch', 22_000, 'kinesis'],
      ['shop', 23_000, 'kinesis'],
      ['reports', 24_000, 'cloudwatch'],
      ['quiet', 30_000, 'unexplained'],
    ],
  )
  t.same(entry('shop')!.causes, ['kinesis'], 'CloudWatch was impacted too, but shop had not called it since boot')
  t.equal(entry('shop')!.lagMs, 3_000)
  t.equal(a.services.shop.corroboration, 'kinesis impacted since 20.0s', 'a lab service it called was impacted: that holds its onset')
  t.equal(a.services.quiet.corroboration, 'client-side only (quiet exposes no lab_server_* counters)')
  t.equal(a.services.shop.recoveredMs, 61_000)
  t.same(
    a.expectations.map((x) => [x.name, x.met]),
    [
      ['impacted', true],
      ['onsetOrder', true],
    ],
  )
})

t.test('the journal records per customer what it called of the lab, and how', async (t) => {
  const a = analyzeRun({ experiment: exp, timeline, events })
  const shop = a.customers!.shop
  t.equal(shop.accessKeyId, customerAccessKey('shop').accessKeyId)
  t.same(shop.dependsOn, ['kinesis', 'cloudwatch'], "in the catalogue's order")
  t.same(shop.calls.kinesis, {
    calls: 5 * 23 + 5 * 30 + 5 * 40,
    ok: 5 * 23 + 5 * 30,
    clientErrors: 0,
    serverErrors: 5 * 40,
    operations: { PutRecord: 5 * 93 },
    protocols: { awsJson: 5 * 93 },
  })
  t.same(shop.calls.cloudwatch.operations, { DescribeAlarms: 1 })
  t.same(a.customers!.reports.dependsOn, ['cloudwatch'])
  t.same(a.customers!.quiet, { accessKeyId: customerAccessKey('quiet').accessKeyId, dependsOn: [], calls: {} })
  t.same(Object.keys(a.services), ['kinesis', 'cloudwatch', 'shop', 'reports', 'quiet'], 'lab services first, then the customers in file order')
})

t.test("a customer that exposes the lab's server-side counters is held by them", async (t) => {
  const rows = [...timeline.filter((r) => r.service !== 'quiet'), ...calls('quiet', down(30_000, 40_000)), ...served('quiet', [[29_000, 40_000]])]
  const a = analyzeRun({ experiment: exp, timeline: rows, events })
  t.match(a.services.quiet.corroboration, /^server-side: quiet: \d+ server errors/)
  const without = analyzeRun({
    experiment: exp,
    timeline: [...rows.filter((r) => r.service !== 'quiet'), ...calls('quiet', down(30_000, 40_000)), ...served('quiet')],
    events,
  })
  t.equal(without.services.quiet.impacted, false, 'its own counters show nothing: the client-side breach is not its')
  t.same(without.services.quiet.uncorroborated, [{ onsetMs: 30_000 }])
})

t.test('counters: a restarted process counts from 0 again; processes map to the lab service they answer for', async (t) => {
  const pts = [
    { atMs: 0, value: 5 },
    { atMs: 1_000, value: 9 },
    { atMs: 2_000, value: 2 },
    { atMs: 3_000, value: 6 },
  ]
  t.equal(increase(pts), 5 + 4 + 2 + 4)
  t.equal(increase(pts, 1_000, 3_000), 2 + 4)
  t.equal(labServiceOf('kinesis-frontend-main-3'), 'kinesis')
  t.equal(labServiceOf('kinesis-frontend-cloudwatch-1'), 'kinesis')
  t.equal(labServiceOf('kinesis-frontend-cache-1'), undefined, 'the cache fleet serves no customer')
  t.equal(labServiceOf('lambda'), 'lambda')
  t.equal(labServiceOf('kinesis-metadata'), undefined)
  t.same(orderServices(['zeta', 'lambda', 'alpha', 'kinesis'], ['zeta', 'alpha']), ['kinesis', 'lambda', 'zeta', 'alpha'])
})
