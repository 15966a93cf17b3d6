// The harness's side of a customer service, without booting the lab: its open-loop HTTP workload
// against a real server on port 0 (every call recorded under the customer's name, as the detector
// reads them), which scraped series the observer keeps, and a platform that cannot run a customer
// refusing the experiment before anything starts.
import t from 'tap'
import http from 'node:http'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { ClientRecorder, type Outcome } from '../../harness/workload/recorder.js'
import { contentTypeOf, fillTemplate, startCustomerWorkloads } from '../../harness/workload/customer-http.js'
import { keepSample } from '../../harness/observe/observer.js'
import { runExperiment } from '../../harness/run/runner.js'
import type { CustomerConfig } from '../../harness/experiment/types.js'
import { silentProgress } from '../../harness/run/progress.js'

function customer(port: number, over: Partial<CustomerConfig['workload']> = {}): CustomerConfig {
  return {
    name: 'shop',
    command: ['node', 'app.mjs'],
    cwd: '/',
    env: {},
    port: 8080,
    readyTimeoutMs: 1_000,
    workload: {
      ratePerSec: 40,
      method: 'POST',
      path: '/orders/{{seq}}',
      body: '{"order": {{seq}}, "by": "{{customer}}"}',
      headers: { 'x-try': '{{seq}}' },
      clientTimeoutMs: 300,
      ...over,
    },
  }
}

t.test("a customer's workload: open-loop calls recorded under its name, HTTP errors and timeouts by name", async (t) => {
  const seen: { url: string; body: string; type?: string; header?: string }[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      seen.push({ url: req.url!, body, type: req.headers['content-type'], header: req.headers['x-try'] as string })
      const n = Number(req.url!.split('/').at(-1))
      if (n % 3 === 1) return void res.writeHead(503).end('busy')
      if (n % 3 === 2) return void setTimeout(() => res.writeHead(200).end('late'), 1_000)
      res.writeHead(201).end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  server.keepAliveTimeout = 100
  const port = (server.address() as AddressInfo).port
  const recorder = new ClientRecorder(() => performance.now())
  const outcomes: Outcome[] = []
  recorder.onOutcome((o) => outcomes.push(o))
  const w = startCustomerWorkloads([customer(port)], { urlOf: () => `http://127.0.0.1:${port}`, seed: 7, recorder, maxDurationMs: 10_000 })
  await new Promise((r) => setTimeout(r, 700))
  await w.stop()
  server.closeAllConnections()
  t.ok(outcomes.length >= 9, `calls made (${outcomes.length})`)
  t.ok(
    outcomes.every((o) => o.service === 'shop' && o.operation === 'POST /orders/{{seq}}'),
    "every call under the customer's name",
  )
  const byError = (e: string | undefined) => outcomes.filter((o) => o.error === e).length
  t.ok(
    byError(undefined) > 0 && byError('HTTP503') > 0 && byError('TimeoutError') > 0,
    `ok ${byError(undefined)}, HTTP503 ${byError('HTTP503')}, TimeoutError ${byError('TimeoutError')}`,
  )
  t.same(seen[0], { url: '/orders/0', body: '{"order": 0, "by": "shop"}', type: 'application/json', header: '0' }, 'templates filled per call')
})

t.test('templates and content types', async (t) => {
  t.equal(fillTemplate('/a/{{ seq }}/{{customer}}/{{unknown}}', { seq: 4, customer: 'shop' }), '/a/4/shop/{{unknown}}')
  t.equal(contentTypeOf('  {"a": 1}'), 'application/json')
  t.equal(contentTypeOf('hello'), 'text/plain; charset=utf-8')
})

t.test("the observer keeps the lab's series, the customers' own, and the per-caller counters of customers only", async (t) => {
  const caller = (c: string) => ({ name: 'lab_caller_calls_total', labels: { caller: c, operation: 'PutRecord' }, value: 3 })
  const callers = new Set(['AKIDCUSTSHOP123456'])
  t.ok(keepSample(caller('AKIDCUSTSHOP123456'), { callers }))
  t.notOk(keepSample(caller('AKIDOUTAGELAB'), { callers }), "the lab's own key: volume, not news")
  t.ok(keepSample({ name: 'lab_server_requests_total', labels: {}, value: 1 }))
  t.notOk(keepSample({ name: 'orders_total', labels: {}, value: 1 }), "another process's series")
  t.ok(keepSample({ name: 'orders_total', labels: {}, value: 1 }, { customer: true }), "a customer's own series")
  t.notOk(keepSample({ name: 'orders_seconds_bucket', labels: {}, value: 1 }, { customer: true }), 'buckets never')
})

t.test('a platform that cannot run a customer refuses the experiment before anything starts (exit 2)', async (t) => {
  const dir = t.testdir({
    'x.yaml': `title: a customer with an image only
duration: 5s
topology:
  fleets:
    main: { frontends: 2, threadLimit: 64 }
  services: []
  customers:
    - { name: shop, image: "shop:1", workload: { rate: 1 } }
method:
  - { type: action, name: pause, at: 1s, provider: wait, args: { for: 1s } }
`,
  })
  const errors: string[] = []
  const r = await runExperiment({
    file: path.join(dir, 'x.yaml'),
    platform: 'local',
    out: path.join(dir, 'out'),
    progress: { ...silentProgress, error: (m) => errors.push(m) },
  })
  t.equal(r.exitCode, 2)
  t.same(errors, [
    `${path.join(dir, 'x.yaml')}: topology.customers[0].command: expected the command that runs it on the local platform (a list [program, arguments...]), got nothing`,
  ])
  t.notOk(r.journal, 'nothing ran')
})
