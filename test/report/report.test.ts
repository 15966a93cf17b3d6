// The report as a function of the journal and the timeline: chart data (resampling, panels,
// markers), the 2020 timeline mapped onto a run, the cascade graph, report.html's self-containment,
// summary.md and the comparison. The browser renders the pages in browser.test.ts.
import t from 'tap'
import { buildCharts, gridFor, gridTimes, resample, MAX_POINTS } from '../../harness/report/chart-data.js'
import { publishedTimeline } from '../../harness/report/published.js'
import { cascadeGraph } from '../../harness/report/cascade-graph.js'
import { reportHtml } from '../../harness/report/html.js'
import { summaryMarkdown, verdictLine } from '../../harness/report/summary.js'
import { compareHtml } from '../../harness/report/compare-html.js'
import { suiteMarkdown, compareMarkdown } from '../../harness/report/compare.js'
import type { Journal, TimelineRow } from '../../harness/analyze/journal.js'
import { syntheticRun } from './fixture.js'

const flagship = syntheticRun()
const remediation = syntheticRun({ cognitoSustains: true, threadAlarm: true, jitterMs: 1_000 })

/** The JSON data block of a page. */
function pageData(html: string): any {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)
  if (!m) throw new Error('no data block')
  return JSON.parse(m[1])
}

t.test('resampling keeps dips and peaks, carries scraped values forward, and forgets a gone process', async (t) => {
  const times = [1_000, 2_000, 3_000, 4_000, 5_000, 6_000]
  const pts = [
    { atMs: 600, value: 1 },
    { atMs: 900, value: 0.2 },
    { atMs: 1_800, value: 0.9 },
    { atMs: 2_100, value: 5 },
  ]
  t.same(resample(pts, times, 1_000, 'min', 2_500), [0.2, 0.9, 5, 5, null, null], 'min per step, then the last value until it is stale')
  t.same(resample(pts, times, 1_000, 'max', 1_000), [1, 0.9, 5, null, null, null])
  t.same(resample([{ atMs: 1_500, value: null }], times, 1_000, 'last', 5_000), [null, null, null, null, null, null], 'a window without data stays empty')
})

t.test('a long run is resampled onto at most MAX_POINTS steps', async (t) => {
  const g = gridFor({ startMs: -5_000, endMs: 3_600_000 })
  t.ok(gridTimes(g).length <= MAX_POINTS, `${gridTimes(g).length} points`)
  t.equal(g.stepMs % 250, 0)
  t.equal(gridFor({ startMs: 0, endMs: 100_000 }).stepMs, 250, 'a two-minute run keeps every 250 ms sample')
})

t.test('the charts of a run: one panel per mechanism, every action as a marker', async (t) => {
  const c = buildCharts(flagship.journal, flagship.rows)
  t.same(
    c.panels.map((p) => p.id),
    ['success', 'p99', 'threads', 'shardmap', 'buffer-cognito', 'buffer-lambda', 'alarms', 'tasks', 'delivery'],
  )
  t.match(c.missing, [/CloudWatch local store \(stayed at 0\)/], 'a buffer that stayed empty is named, not drawn')
  t.same(
    c.markers.map((m) => [m.label, m.atMs, m.phase]),
    [
      ['add-capacity', 10_000, 'method'],
      ['post-status-primary', 45_000, 'method'],
      ['post-status-backup', 47_000, 'method'],
      ['remove-capacity', 50_000, 'method'],
      ['paced-restart', 60_000, 'method'],
      ['restore-fleet', 100_000, 'rollbacks'],
    ],
  )
  const success = c.panels.find((p) => p.id === 'success')!
  t.same(
    success.series.map((s) => s.label),
    ['kinesis', 'cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'],
  )
  for (const p of c.panels) for (const s of p.series) t.equal(s.values.length, c.x.length, `${s.id} is on the shared axis`)
  const kinesis = success.series[0].values
  const at = (sec: number) => kinesis[c.x.indexOf(sec)]
  t.equal(at(5), 1, 'kinesis served before the trigger')
  t.ok(at(30)! < 0.5, 'and failed during the outage')
  const threads = c.panels.find((p) => p.id === 'threads')!
  t.equal(threads.series.filter((s) => s.id.startsWith('threads:')).length, 10, 'one line per front-end that ever ran')
  const limit = threads.series.find((s) => s.id === 'thread-limit:main')!
  t.equal(Math.max(...limit.values.filter((v): v is number => v !== null)), 18)
  const broken = c.panels.find((p) => p.id === 'shardmap')!.series.find((s) => s.id === 'shardmap:broken:main')!
  t.equal(broken.values[c.x.indexOf(30)], 10, 'all ten front-ends broken at 30 s')
  t.equal(broken.values[c.x.indexOf(55)], 4, 'removing capacity left four broken')
  t.equal(broken.values[c.x.indexOf(80)], 0, 'the restart healed them')
  const alarms = c.panels.find((p) => p.id === 'alarms')!
  t.equal(alarms.series[0].values[c.x.indexOf(40)], 1, 'the alarm was INSUFFICIENT_DATA at 40 s')
})

t.test('the 2020 timeline: the trigger stands for 03:47, each published moment beside what the run measured', async (t) => {
  const p = publishedTimeline(flagship.journal, flagship.rows)
  t.equal(p.anchor, '03:47')
  t.equal(p.triggerMs, 10_000)
  const entry = (pst: string) => p.entries.find((e) => e.pst === pst)!
  t.equal(entry('03:47').mappedMs, 10_000)
  t.equal(entry('02:44').mappedMs, 10_000 - 10_500, '1 h 03 min before the trigger at 10 s per hour')
  t.equal(entry('05:15').mappedMs, 10_000 + Math.round((88 / 60) * 10_000))
  const broke = entry('03:47').measured.find((m) => m.text === 'first front-end shard-map broken')!
  t.ok(broke.atMs! >= 12_500 && broke.atMs! <= 14_000, `first break from the timeline (${broke.atMs})`)
  t.ok(entry('03:47').measured.some((m) => m.text === 'all 10 front-ends broken'))
  t.same(entry('06:15').measured, [{ atMs: 25_000, text: 'lambda impacted', short: 'lambda' }])
  t.same(
    entry('07:01').measured.map((m) => m.atMs),
    [31_000],
  )
  t.same(
    entry('09:39').measured.map((m) => m.text),
    ['capacity removed: remove-capacity'],
  )
  const ready = entry('10:07').measured[0]
  t.ok(ready.atMs! > 60_000 && ready.atMs! < 66_000, `first front-end ready after the restart (${ready.atMs})`)
  t.same(
    entry('22:23').measured.map((m) => m.atMs),
    [66_000],
  )
  t.same(entry('10:15').measured, [], 'the Cognito fix has no counterpart')
  t.same(publishedTimeline(remediation.journal, remediation.rows).entries.find((e) => e.pst === '07:01')!.measured, [
    { atMs: null, text: 'cognito not impacted', short: 'cognito' },
  ])
  t.same(
    publishedTimeline(remediation.journal, remediation.rows)
      .entries.find((e) => e.pst === '09:39')!
      .measured.map((m) => m.text),
    ['thread-alarm fired', 'capacity removed: remove-capacity'],
  )
})

t.test('the cascade graph: impacted services in onset order, the edge each break came through', async (t) => {
  const svg = cascadeGraph(flagship.journal)
  const ranked = [...svg.matchAll(/<g class="node [a-z]+" data-service="([^"]+)" data-impacted="true" data-rank="(\d+)"/g)].map((m) => [m[1], Number(m[2])])
  t.same(
    ranked,
    flagship.journal.cascade.map((c, i) => [c.service, i + 1]),
  )
  t.same(
    flagship.journal.cascade.map((c) => c.service),
    ['kinesis', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'cognito'],
  )
  t.match(svg, /<path class="edge cause" data-from="kinesis" data-to="cognito"/)
  t.match(svg, /<path class="edge cause" data-from="cloudwatch" data-to="lambda"/)
  t.match(svg, /<path class="edge also" data-from="eventbridge" data-to="autoscaler"/, 'a second impacted dependency is marked too')
  t.match(svg, /<path class="edge cause" data-from="trigger" data-to="kinesis"/)
  t.match(svg, /<g class="node healthy" data-service="status-page" data-impacted="false"/)
  const list = [...svg.matchAll(/<li data-service="([^"]+)">/g)].map((m) => m[1])
  t.same(list, ['kinesis', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'cognito'])
  // A service still down at the end is drawn as such.
  const stuck: Journal = {
    ...flagship.journal,
    services: { ...flagship.journal.services, cognito: { ...flagship.journal.services.cognito, recoveredMs: null } },
  }
  t.match(cascadeGraph(stuck), /<g class="node down" data-service="cognito"[^>]*>[\s\S]*?NOT recovered by the end/)
})

t.test('report.html is one self-contained file with the verdict first', async (t) => {
  const html = reportHtml(flagship.journal, flagship.rows)
  t.notMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing is loaded from elsewhere')
  t.same(
    [...html.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]).filter((u) => !u.startsWith('http://www.w3.org/')),
    ['https://github.com/leeoniya/uPlot'],
    "no URL but the SVG namespace and uPlot's licence header",
  )
  t.match(html, /uPlot/, 'the charts library is inlined')
  t.ok(html.indexOf('id="verdict"') < html.indexOf('class="cascade"'), 'the verdict comes before the cascade')
  t.ok(html.indexOf('class="cascade"') < html.indexOf('id="charts"'))
  t.match(html, /<div class="v">completed<\/div>/)
  const exp = flagship.journal.expectations
  t.ok(exp.length >= 4 && exp.every((x) => x.met), 'the synthetic flagship meets its expectations')
  t.match(html, `<div class="v">${exp.length}/${exp.length} met</div>`)
  t.match(html, /<div class="v">6\/7<\/div>/)
  t.match(html, /<table id="steady-state">[\s\S]*kinesis-available[\s\S]*&gt;= 0.99/)
  t.match(html, /<table id="published-timeline">[\s\S]*05:15/)
  const data = pageData(html)
  t.equal(data.panels.length, 9)
  t.equal(data.lane.anchor, '03:47')
  t.ok(html.length < 600_000, `report.html is ${Math.round(html.length / 1024)} KiB`)
})

t.test('a title cannot break out of the page', async (t) => {
  const j = { ...flagship.journal, title: 'x</script><script>alert(1)</script>' }
  const html = reportHtml(j, flagship.rows)
  t.notMatch(html, /<script>alert/)
  t.equal(html.match(/<script/g)!.length, 3, 'the data block, uPlot and the drawing code: nothing else')
})

t.test('a run whose steady state failed before the method still renders, and says why', async (t) => {
  const failed: Journal = {
    ...flagship.journal,
    status: 'failed',
    events: flagship.journal.events.filter((e) => !e.kind.startsWith('action')),
    cascade: [],
    blastRadius: { impacted: [], count: 0, total: 7, share: 0 },
  }
  const rows: TimelineRow[] = flagship.rows.filter((r) => r.atMs < 2_000)
  const html = reportHtml(failed, rows)
  t.match(html, /the method did not run/)
  t.match(html, /No service was impacted/)
  t.match(html, /there is no trigger to map the 2020 timeline onto/)
  t.notMatch(html, /class="trigger"/, 'no trigger drawn in the graph')
  t.equal(pageData(html).lane, null)
  const md = summaryMarkdown(failed, undefined, rows)
  t.match(md, /status \*\*failed\*\*/)
  t.match(md, /Nothing: the method did not run/)
  t.notMatch(md, /2020 timeline/, 'no timeline mapping without a method')
  t.doesNotThrow(() => reportHtml(failed, []), 'no timeline at all')
})

t.test('summary.md: the verdict, the cascade table, the 2020 timeline', async (t) => {
  const md = summaryMarkdown(flagship.journal, undefined, flagship.rows)
  const n = flagship.journal.expectations.length
  t.equal(verdictLine(flagship.journal), `status **completed** · expectations ${n}/${n} met · fidelity 100% · blast radius 6/7 · time to recover 18.0 s`)
  t.match(md, /Recovered 18\.0 s after \*\*paced-restart\*\*/)
  const cascade = md.split('## Cascade')[1].split('##')[0]
  t.same(
    [...cascade.matchAll(/^\| (\d) \| \*\*([a-z-]+)\*\* \| ([\d.]+ s) \| ([a-z-]+) \|/gm)].map((m) => [m[2], m[3], m[4]]),
    [
      ['kinesis', '14.0 s', 'trigger'],
      ['cloudwatch', '17.0 s', 'kinesis'],
      ['eventbridge', '18.0 s', 'kinesis'],
      ['autoscaler', '20.0 s', 'cloudwatch'],
      ['lambda', '25.0 s', 'cloudwatch'],
      ['cognito', '31.0 s', 'kinesis'],
    ],
  )
  t.match(md, /\| 06:15 \| Lambda invocation errors .* \| 34\.7 s \| lambda impacted at 25\.0 s \(-9\.7 s\) \|/)
  t.match(md, /\| kinesis-available \| kinesis \| >= 0\.99 \| 1 ✅ \| 1 ✅ \|/)
  for (const line of md.split('\n').filter((l) => l.startsWith('|'))) t.notMatch(line, /<\/?[a-z]+[\s>/]/i, 'no HTML in the tables')
})

t.test('the comparison: a matrix of impact per service and run, the runs overlaid', async (t) => {
  const html = compareHtml([
    { source: 'experiments/kinesis-2020-11-25.yaml', journal: flagship.journal, rows: flagship.rows },
    { source: 'experiments/remediation-9.yaml', journal: remediation.journal, rows: remediation.rows },
    { source: 'experiments/broken.yaml', rows: [], exitCode: 2 },
  ])
  t.match(html, /<td class="cell-recovered" data-service="cognito" data-run="A" data-impacted="true">/)
  t.match(html, /<td class="cell-healthy" data-service="cognito" data-run="B" data-impacted="false">ok <span class="muted">\(-47\.0 s vs A\)/)
  t.match(html, /<code>experiments\/broken\.yaml<\/code>: <span class="bad">did not run \(exit 2\)/)
  t.match(html, /<rect class="window" data-service="cognito" data-run="A"/)
  t.notMatch(html, /<rect class="window" data-service="cognito" data-run="B"/)
  const data = pageData(html)
  const kinesis = data.panels.find((p: any) => p.id === 'success-kinesis')
  t.same(
    kinesis.series.map((s: any) => s.label),
    ['A', 'B'],
    'one line per run',
  )
  t.ok(
    data.panels.some((p: any) => p.id === 'cognito'),
    'the Cognito buffer overlaid',
  )
  t.notOk(
    data.panels.some((p: any) => p.id === 'p99-status-page'),
    'no latency chart for a service no run impacted',
  )
  t.same(
    data.markers.map((m: any) => m.label),
    ['add-capacity', 'post-status-primary', 'post-status-backup', 'remove-capacity', 'paced-restart', 'restore-fleet'],
    'actions both runs took at the same time are drawn once',
  )
  const md = compareMarkdown(flagship.journal, remediation.journal)
  t.match(md, /\| cognito \| 🟧 yes \| 47\.0 s \| [^|]+ \| ✅ no \| - \| - \| changed \|/)
  const suite = suiteMarkdown([
    { file: 'a.yaml', outDir: 'x/a', exitCode: 0, journal: flagship.journal },
    { file: 'b.yaml', outDir: 'x/b', exitCode: 0, journal: remediation.journal },
  ])
  t.match(suite, /\| Remediation 9 \(synthetic\) \(`b\.yaml`\) \| completed \| 🟧 down 52\.0 s \| ✅ ok \|/)
})
