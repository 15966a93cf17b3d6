// Customer services (the user's own) in the outputs: their own card in report.html, their node in
// the cascade graph (a column of their own, an edge from each lab service they called), their rows
// in summary.md, the suite's table and a comparison.
import t from 'tap'
import { reanalyze, type Journal, type TimelineRow } from '../../harness/analyze/index.js'
import { customerAccessKey } from '../../harness/topology/customers.js'
import { cascadeGraph } from '../../harness/report/cascade-graph.js'
import { reportHtml } from '../../harness/report/html.js'
import { summaryMarkdown } from '../../harness/report/summary.js'
import { suiteMarkdown, compareMarkdown } from '../../harness/report/compare.js'
import { compareHtml } from '../../harness/report/compare-html.js'
import { callRow } from '../../harness/observe/call-rows.js'
import { experiment, syntheticRun } from './fixture.js'

/** The synthetic flagship with a customer `shop` that writes to Kinesis and breaks 2 s after it. */
function withShop(): { journal: Journal; rows: TimelineRow[] } {
  const base = syntheticRun()
  const rows = [...base.rows]
  for (let at = -6_000; at <= 112_000; at += 100) {
    const bad = at >= 16_000 && at < 67_000
    rows.push(callRow({ service: 'shop', operation: 'POST /orders', startedAtMs: at, latencyMs: 30, ok: !bad, ...(bad ? { error: 'HTTP503' } : {}) }))
    // The observer's trailing-second view, every 250 ms, as for every service the recorder knows.
    if (at % 250 === 0) {
      rows.push({ service: 'shop', metric: 'client.success_ratio', value: bad ? 0 : 1, atMs: at })
      rows.push({ service: 'shop', metric: 'client.p99_ms', value: 30, atMs: at })
    }
  }
  const key = customerAccessKey('shop').accessKeyId
  let ok = 0
  let failed = 0
  for (let at = -6_000; at <= 112_000; at += 1_000) {
    if (at > 14_000 && at <= 66_000) failed += 10
    else ok += 10
    rows.push({
      service: 'kinesis-frontend-main-1',
      metric: `lab_caller_calls_total{caller="${key}",operation="PutRecord",outcome="ok",protocol="awsJson"}`,
      value: ok,
      atMs: at,
    })
    rows.push({
      service: 'kinesis-frontend-main-1',
      metric: `lab_caller_calls_total{caller="${key}",operation="PutRecord",outcome="server_error",protocol="awsJson"}`,
      value: failed,
      atMs: at,
    })
  }
  rows.sort((a, b) => a.atMs - b.atMs)
  const exp = experiment({
    topology: { customers: [{ name: 'shop', command: ['node', 'shop.mjs'], workload: { rate: 10, method: 'POST', path: '/orders' } }] },
  })
  return { journal: reanalyze({ ...base.journal, experiment: exp }, rows), rows }
}

const shop = withShop()

t.test('the cascade graph: the customer in a column of its own, its break through the lab service it called', async (t) => {
  t.equal(shop.journal.cascade.find((c) => c.service === 'shop')?.cause, 'kinesis')
  const svg = cascadeGraph(shop.journal)
  t.match(svg, /<g class="node recovered customer" data-service="shop" data-impacted="true" data-customer="true" data-rank="\d+"/)
  t.match(
    svg,
    /<path class="edge cause" data-from="kinesis" data-to="shop"[^>]*><title>shop depends on kinesis \(it called kinesis \d+ times, \d+ server errors\); it broke/,
  )
  t.match(svg, /<rect x="1160" y="[\d.]+" width="250"/, 'the fourth column')
  t.match(svg, /viewBox="0 0 1420 /)
  t.notMatch(cascadeGraph(syntheticRun().journal), /viewBox="0 0 1420 /, 'a run without customers keeps three columns')
})

t.test("report.html: the customer's own card and lanes", async (t) => {
  const html = reportHtml(shop.journal, shop.rows)
  t.match(html, /<section id="customers"><h2>Customer services<\/h2>/)
  t.match(
    html,
    /<div class="card warn" data-customer="shop"><div class="k">shop<\/div><div class="v">down [\d.]+ s<\/div><div class="d">onset 16\.0 s, <b>via kinesis<\/b>; recovered/,
  )
  t.match(html, /called: kinesis \d+ calls \(\d+ server errors; PutRecord \d+; awsJson\)/)
  t.match(html, /<td>shop<\/td><td class="bad">yes<\/td>/, 'a row in the services table')
  const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1])
  t.ok(
    data.impact.some((x: { service: string; impacted: boolean }) => x.service === 'shop' && x.impacted),
    'a lane in the impact chart',
  )
  t.ok(
    data.panels.some((p: { series: { id: string }[] }) => p.series.some((s) => s.id === 'success:shop')),
    'its success ratio charted',
  )
  t.notMatch(reportHtml(syntheticRun().journal, syntheticRun().rows), /id="customers"/, 'no section without customers')
})

t.test('summary.md, the suite and a comparison list the customer like every service', async (t) => {
  const md = summaryMarkdown(shop.journal, undefined, shop.rows)
  t.match(md, /## Customer services/)
  t.match(md, /\| \*\*shop\*\* \| \*\*yes\*\* \| 16\.0 s \| kinesis \| [\d.]+ s \| [\d.]+% \| kinesis \d+ calls/)
  const plain = syntheticRun()
  const suite = suiteMarkdown([
    { file: 'a.yaml', outDir: 'x/a', exitCode: 0, journal: plain.journal },
    { file: 'b.yaml', outDir: 'x/b', exitCode: 0, journal: shop.journal },
  ])
  t.match(suite, /\| status-page \| shop \| blast radius/, 'the customer is a column after the lab services')
  t.match(suite, /\(`a\.yaml`\) \| completed \|( [^|]+ \|){7} n\/a \|/, 'n/a where a run did not have it')
  t.match(compareMarkdown(plain.journal, shop.journal), /\| shop \| n\/a \| {2}\| {2}\| 🟧 yes \|/)
  const html = compareHtml([
    { source: 'a.yaml', journal: plain.journal, rows: plain.rows },
    { source: 'b.yaml', journal: shop.journal, rows: shop.rows },
  ])
  t.match(html, /<td class="cell-recovered" data-service="shop" data-run="B" data-impacted="true">/)
})
