// The timeline a run keeps in memory and the report reads back (TimelineStore): the same rows as
// timeline.jsonl holds, and the same analysis, summary and report as the rows as plain objects.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { TimelineStore, TimelineWriter, readTimeline, type TimelineRow } from '../../harness/observe/timeline.js'
import { callRow } from '../../harness/observe/call-rows.js'
import { reanalyze } from '../../harness/analyze/index.js'
import { summaryMarkdown } from '../../harness/report/summary.js'
import { reportHtml } from '../../harness/report/html.js'
import { compareHtml } from '../../harness/report/compare-html.js'
import { syntheticRun } from '../report/fixture.js'

const tmpDir = (t: Tap.Test) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-timeline-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The file's rows as plain objects, one JSON.parse a line. */
const parsedLines = (file: string): TimelineRow[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))

/** The flagship's synthetic run with every customer call as a row, as a run writes them. */
function flagshipWithCalls() {
  const run = syntheticRun()
  const rows = [...run.rows]
  for (let at = -6_000; at <= 100_000; at += 40) {
    const bad = at > 14_000 && at <= 66_000
    rows.push(
      callRow({
        service: 'kinesis',
        operation: 'PutRecords',
        startedAtMs: at,
        latencyMs: 20 + (at % 7),
        ok: !bad,
        ...(bad ? { error: 'ServiceUnavailable' } : {}),
      }),
    )
  }
  return { journal: run.journal, rows }
}

t.test('what a run keeps is what timeline.jsonl gives back, row for row', (t) => {
  const file = path.join(tmpDir(t), 'timeline.jsonl')
  const writer = new TimelineWriter(file, { keep: true })
  const rows: TimelineRow[] = [
    { service: 'kinesis', metric: 'client.success_ratio', value: 0.25, atMs: -250 },
    { service: 'kinesis', metric: 'client.p99_ms', value: null, atMs: 0 },
    { service: 'kinesis-frontend-main-1', metric: 'kinesis_frontend_threads', value: 17, atMs: Math.round(-0.3) },
    { service: 'status-page', metric: 'lab_server_requests_total{outcome="ok"}', value: Infinity, atMs: 1_000 },
    { service: 'café', metric: 'client.call{error="Throttl\\"ed",op="PutRecord",outcome="error"}', value: -0, atMs: 1_806_130.5 },
  ]
  for (const r of rows) writer.write(r)
  writer.close()
  const fromFile = parsedLines(file)
  t.same([...writer.kept!], fromFile, 'kept rows equal the file: null stays null, what JSON cannot hold is as JSON writes it')
  t.same([...readTimeline(file)], fromFile, 'read back the same')
  t.equal(writer.kept!.length, 5)
  t.same(writer.kept!.row(4), fromFile[4], 'a row by its number')
  t.throws(() => writer.kept!.row(5), RangeError, 'no row past the end')
  t.end()
})

t.test('rows past a chunk keep their order, and their names are held once', (t) => {
  const store = new TimelineStore()
  const n = 3 * 65_536 + 17
  for (let i = 0; i < n; i++)
    store.push({ service: `kinesis-frontend-main-${i % 4}`, metric: `lab_server_in_flight`, value: i % 10 === 0 ? null : i / 4, atMs: i * 250 })
  t.equal(store.length, n)
  let i = 0
  let inOrder = true
  for (const r of store) {
    if (r.atMs !== i * 250 || r.value !== (i % 10 === 0 ? null : i / 4) || r.service !== `kinesis-frontend-main-${i % 4}`) inOrder = false
    i++
  }
  t.ok(inOrder && i === n, 'every row comes back, in the order written')
  t.ok(store.columnBytes <= 24 * 4 * 65_536, `four chunks of columns (${store.columnBytes} bytes), 24 bytes a row`)
  t.end()
})

t.test('readTimeline: missing file, torn last line, a line longer than a read, characters across reads', (t) => {
  const dir = tmpDir(t)
  t.equal(readTimeline(path.join(dir, 'none.jsonl')).length, 0, 'a run that wrote nothing has no rows')

  const file = path.join(dir, 'timeline.jsonl')
  const long = { service: 'shop', metric: `custom{label="${'x'.repeat(3 << 20)}"}`, value: 1, atMs: 5 }
  const lines: string[] = []
  // Enough two-byte characters that some straddle the boundary of a 1 MiB read.
  for (let i = 0; i < 40_000; i++) lines.push(JSON.stringify({ service: 'cognito-é', metric: `ünïcode{op="Ä${i % 13}"}`, value: i, atMs: i }))
  lines.push(JSON.stringify(long))
  fs.writeFileSync(file, lines.join('\n') + '\n{"service":"kinesis","metric":"client.ca')
  const store = readTimeline(file)
  t.equal(store.length, 40_001, 'the torn last line is skipped, every whole line is read')
  t.same(store.row(39_999), JSON.parse(lines[39_999]))
  t.same(store.row(40_000), long, 'a line longer than the read buffer')
  t.same(
    [...store].slice(0, 40_000),
    lines.slice(0, 40_000).map((l) => JSON.parse(l)),
    'multi-byte characters intact',
  )

  fs.writeFileSync(file, lines[0])
  t.same([...readTimeline(file)], [JSON.parse(lines[0])], 'a last line without a newline is read')
  t.end()
})

t.test('the analysis, summary, report and comparison of a run are the same from the store as from plain rows', (t) => {
  const { journal, rows } = flagshipWithCalls()
  const file = path.join(tmpDir(t), 'timeline.jsonl')
  const writer = new TimelineWriter(file, { keep: true })
  for (const r of rows) writer.write(r)
  writer.close()
  const plain = parsedLines(file)
  const fromArray = reanalyze(journal, plain)
  t.ok(fromArray.services.kinesis?.impacted, 'the run has a cascade to judge')
  for (const [how, store] of [
    ['kept by the run', writer.kept!],
    ['read back', readTimeline(file)],
  ] as const) {
    const j = reanalyze(journal, store)
    t.same(j, fromArray, `the journal's analysis, ${how}`)
    t.equal(summaryMarkdown(j, undefined, store), summaryMarkdown(fromArray, undefined, plain), `summary.md, ${how}`)
    t.equal(reportHtml(j, store), reportHtml(fromArray, plain), `report.html, ${how}`)
  }
  const runs = (r: typeof plain | TimelineStore) => [{ source: 'a', journal: fromArray, rows: r }]
  t.equal(compareHtml(runs(readTimeline(file))), compareHtml(runs(plain)), 'compare.html')
  t.end()
})
