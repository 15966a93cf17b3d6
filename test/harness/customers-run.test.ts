// A customer service in a real run on the local platform: a program of the user's (the fixture
// test/fixtures/customer-app.mjs: the stock AWS SDK's Kinesis client configured by nothing but the
// environment the harness gives it) through a short Kinesis outage, and one that crashes at start.
// Real processes, real cgroups; one run at a time.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { customerAccessKey } from '../../harness/topology/customers.js'
import { runExperiment as run, failedExpectations as failed } from '../helpers/cli-run.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { ROOT } from '../helpers/spawn.js'

const APP = path.join(ROOT, 'test/fixtures/customer-app.mjs')

// Two front-ends under a limit of 15 have room (about 12 threads each); seven do not (17): every
// shard-map breaks, Kinesis answers 500, the customer's writes fail. The paced restart heals it.
const OUTAGE = (customer: string) => `title: a customer service through a Kinesis outage
timeScale: 10
duration: 40s
seed: 3
topology:
  fleets:
    main: { frontends: 2, threadLimit: 15, bootstrap: metadata }
  services: []
  customers:
${customer}
workload:
  rates: { kinesisPut: 10, kinesisGet: 2 }
steady-state-hypothesis:
  title: the shop takes orders
  probes:
    - { type: probe, name: shop-serves, service: shop, measure: successRatio, window: 2s, tolerance: { min: 0.9 } }
method:
  - { type: action, name: add-capacity, at: 3s, provider: scale-fleet, args: { fleet: main, to: 7 } }
  - { type: action, name: remove-capacity, at: 16s, provider: scale-fleet, args: { fleet: main, to: 2 } }
  - { type: action, name: paced-restart, at: 18s, provider: restart-fleet, args: { fleet: main, ratePerSec: 2 } }
expect:
  impacted: [kinesis, shop]
  onsetOrder: [[kinesis], [shop]]
  recovered: true
`
const SHOP = `    - name: shop
      command: [node, ${JSON.stringify(APP)}]
      health: /health
      metrics: /metrics
      workload: { rate: 5, method: POST, path: /orders, body: '{"order": {{seq}}}' }`

t.test('customer services on the local platform', { skip: kinesisOutageSkip }, async (t) => {
  const dir = t.testdir({
    'outage.yaml': OUTAGE(SHOP),
    'crash.yaml': OUTAGE(`${SHOP}\n      env: { FIXTURE_EXIT_AT_START: 3 }`),
    'crash-later.yaml': OUTAGE(`${SHOP}\n      env: { FIXTURE_EXIT_AFTER_MS: 12000 }`),
  })

  await t.test('a customer that writes to Kinesis is impacted when Kinesis breaks, with cause kinesis', async (t) => {
    const r = await run(path.join(dir, 'outage.yaml'), path.join(dir, 'outage'))
    const j = r.journal
    t.ok(j, `journal.json written (stderr tail: ${r.stderr.slice(-2000)})`)
    t.same(failed(j), [], 'every expectation met')
    t.equal(r.code, 0)
    t.equal(j.status, 'completed')
    const shop = j.cascade.find((c: { service: string }) => c.service === 'shop')
    t.equal(shop?.cause, 'kinesis', 'its cause: the lab service it was calling')
    t.match(j.services.shop.corroboration, /^kinesis impacted since/)
    t.equal(j.customers.shop.accessKeyId, customerAccessKey('shop').accessKeyId)
    t.same(j.customers.shop.dependsOn, ['kinesis'], 'what it called, as the lab counted it under its key')
    t.ok(j.customers.shop.calls.kinesis.operations.PutRecord > 0, 'its PutRecords')
    t.ok(j.customers.shop.calls.kinesis.serverErrors > 0, 'some of them failed on the server')
    t.ok(fs.existsSync(path.join(r.outDir, 'logs', 'shop.log')), 'its log is kept in the run folder')
    const timeline = fs.readFileSync(path.join(r.outDir, 'timeline.jsonl'), 'utf8')
    t.match(timeline, /"service":"shop","metric":"shop_orders_total\{outcome=\\"ok\\"\}"/, 'its own /metrics scraped into the timeline')
    t.match(timeline, /"service":"shop","metric":"client\.call\{/, 'every call of its workload a row')
    t.match(fs.readFileSync(path.join(r.outDir, 'report.html'), 'utf8'), /data-customer="shop"/, 'its card in the report')
    t.same(processesOfRun(j.runId), [], 'no process of the run outlives it')
  })

  await t.test('a customer that exits at start aborts the run with its name, exit code and log, and leaves nothing running', async (t) => {
    const out = path.join(dir, 'crash')
    const r = await run(path.join(dir, 'crash.yaml'), out)
    const log = path.join(out, 'logs', 'shop.log')
    t.equal(r.code, 1, 'an aborted run')
    t.match(r.stderr, `run aborted: customer shop exited before it was ready; exit code 3; log: ${log}`)
    t.match(r.stderr, /customer-app: refusing to start \(FIXTURE_EXIT_AT_START=3\)/, 'the last lines of its log')
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace: the message says it all')
    t.equal(r.journal.status, 'aborted')
    t.match(r.journal.error, `customer shop exited before it was ready; exit code 3; log: ${log}`)
    t.match(fs.readFileSync(log, 'utf8'), /refusing to start/)
    t.ok(r.journal.runId, 'the journal names the run')
    t.same(processesOfRun(r.journal.runId), [], 'no process of the run is left')
    t.notOk(fs.existsSync(`/sys/fs/cgroup/pids/outage-lab/${r.journal.runId}`), 'nor its cgroups')
  })
  await t.test('a customer that exits during the run ends it, with its name, exit code and log, and leaves nothing running', async (t) => {
    const out = path.join(dir, 'crash-later')
    const r = await run(path.join(dir, 'crash-later.yaml'), out)
    const log = path.join(out, 'logs', 'shop.log')
    t.equal(r.code, 1)
    t.match(
      r.stderr,
      new RegExp(
        `run aborted: customer shop exited while the run needed it \\(at -?[\\d.]+s of the method\\); exit code 4; log: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    )
    t.match(r.stderr, /crashing on purpose after 12000 ms/, 'the last lines of its log')
    t.equal(r.journal.status, 'aborted')
    t.ok(r.journal.events.some((e: { kind: string; detail: { name?: string } }) => e.kind === 'service-exited' && e.detail.name === 'shop'))
    t.same(processesOfRun(r.journal.runId), [], 'no process of the run is left')
  })
})
