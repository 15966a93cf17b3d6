// `outage-lab repeat`: the summary of many runs (pass counts with Wilson intervals, spreads,
// cascade orders) on synthetic journals, and the command itself on a short real experiment:
// distinct seeds, a folder per run, the summary re-written after each run, resume, Ctrl-C.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { wilson, distribution, cascadeOrder, summarizeRepeat, runOf } from '../../harness/analyze/repeat.js'
import { repeatHtml, repeatMarkdown } from '../../harness/report/repeat.js'
import { repeatSeeds } from '../../harness/run/cli-repeat.js'
import type { Journal, ServiceResult } from '../../harness/analyze/index.js'
import { runCli } from '../helpers/cli-run.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'

const near = (a: number, b: number) => Math.abs(a - b) < 5e-4

t.test('the Wilson interval says how sure a pass count is', async (t) => {
  const [lo, hi] = wilson(19, 20)!
  t.ok(near(lo, 0.7639) && near(hi, 0.9911), `19/20: ${lo}, ${hi}`)
  const [lo0, hi0] = wilson(0, 5)!
  t.ok(lo0 === 0 && near(hi0, 0.4345), `0/5: ${lo0}, ${hi0}`)
  t.same(wilson(10, 10)![1], 1)
  t.equal(wilson(0, 0), null)
})

t.test('distributions give quartiles by interpolation, and nothing for no values', async (t) => {
  t.same(distribution([4, 1, 3, 2]), { n: 4, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4 })
  t.same(distribution([7]), { n: 1, min: 7, q1: 7, median: 7, q3: 7, max: 7 })
  t.same(distribution([]), { n: 0, min: null, q1: null, median: null, q3: null, max: null })
})

const svc = (onsetMs: number | null, recoveredMs: number | null = null): ServiceResult => ({
  impacted: onsetMs !== null,
  onsetMs,
  recoveredMs,
  impactMs: onsetMs === null ? null : (recoveredMs ?? 90_000) - onsetMs,
  timeToRecoverMs: null,
  availability: 0.9,
  p99Ms: 100,
  calls: 100,
  errors: 10,
})

function journal(seed: number, services: Record<string, ServiceResult>, met: Record<string, boolean>, status: Journal['status'] = 'completed'): Journal {
  return {
    title: 'synthetic',
    experiment: {} as Journal['experiment'],
    backend: 'local',
    seed,
    status,
    deviated: false,
    startedAt: '',
    endedAt: '',
    durationMs: 100_000 + seed,
    threadLimitEnforcement: 'cgroup',
    steadyState: { before: { met: true, probes: [] }, after: { met: true, probes: [] } },
    events: [],
    services,
    cascade: [],
    expectations: Object.entries(met).map(([name, m]) => ({ name, met: m, detail: '' })),
    fidelity: { score: 1, checks: [] },
  }
}

t.test('cascade orders list services by onset, those in the same window grouped', async (t) => {
  t.equal(
    cascadeOrder({ services: { kinesis: svc(20_000), cloudwatch: svc(22_000), eventbridge: svc(22_000), lambda: svc(35_000), cognito: svc(null) } }),
    'kinesis -> {cloudwatch, eventbridge} -> lambda',
  )
  t.equal(cascadeOrder({ services: { kinesis: svc(20_000), cloudwatch: svc(22_000), eventbridge: svc(21_000) } }), 'kinesis -> eventbridge -> cloudwatch')
  t.equal(cascadeOrder({ services: { kinesis: svc(null) } }), '(nothing impacted)')
})

t.test('a repeat counts passes per expectation, spreads per service, and the orders seen', async (t) => {
  const runs = [
    journal(7, { kinesis: svc(20_000, 70_000), lambda: svc(35_000, 72_000) }, { impacted: true, onsetOrder: true }),
    journal(8, { kinesis: svc(21_000, 71_000), lambda: svc(22_000, 73_000) }, { impacted: true, onsetOrder: false }),
    journal(9, { kinesis: svc(22_000, 72_000), lambda: svc(37_000) }, { impacted: true, onsetOrder: true }),
    journal(10, { kinesis: svc(22_000) }, { impacted: false }, 'interrupted'),
    journal(11, {}, {}, 'aborted'),
  ].map((j, i) => ({ journal: j, run: runOf(j, `run-${i + 1}`, 0) }))
  const s = summarizeRepeat({ title: 'synthetic', experiment: 'x.yaml', platform: 'local' }, runs)
  t.same([s.held.passed, s.held.runs], [2, 4], 'the interrupted run is listed, not counted; the aborted one counts as not held')
  t.same(
    s.expectations.map((e) => [e.name, e.passed, e.runs]),
    [
      ['impacted', 3, 4],
      ['onsetOrder', 2, 4],
    ],
  )
  t.same(s.services.kinesis.onsetMs, { n: 3, min: 20_000, q1: 20_500, median: 21_000, q3: 21_500, max: 22_000 })
  t.same([s.services.lambda.impacted.passed, s.services.lambda.recoveredMs.n], [3, 2], 'one run never recovered Lambda')
  t.same(s.cascadeOrders, [
    { order: 'kinesis -> lambda', count: 3 },
    { order: '(nothing impacted)', count: 1 },
  ])
  t.equal(s.runs.length, 5)
  const md = repeatMarkdown(s, { machine: '2 cores', date: '2026-12-06' })
  t.match(md, /\*\*Every expectation met: 2\/4 \(95% CI 15-85%\)\*\*/)
  t.match(md, /\| onsetOrder \| 2\/4 \| 15% - 85% \|/)
  t.match(md, /\| kinesis -> lambda \| 3 \|/)
  const html = repeatHtml(s)
  t.match(html, /<a href="run-1\/report.html">report<\/a>/)
  t.match(html, /interrupted/)
  t.notMatch(html, /<script[^>]*src=/, 'self-contained')
})

t.test('seeds: the list given, else the experiment seed and the ones after it', async (t) => {
  t.same(repeatSeeds(7, 3), [7, 8, 9])
  t.same(repeatSeeds(7, 2, [3, 11]), [3, 11])
})

const TINY = `title: a quiet fleet
description: nothing goes wrong; used to test repeat
timeScale: 10
duration: 4s
seed: 3
topology:
  fleets:
    main: { frontends: 2, threadLimit: 64 }
  services: []
workload:
  rates: { kinesisPut: 10, kinesisGet: 2 }
steady-state-hypothesis:
  title: served
  probes:
    - { type: probe, name: kinesis-available, service: kinesis, measure: successRatio, window: 2s, tolerance: { min: 0.9 } }
method:
  - { type: action, name: pause-a-moment, at: 1s, provider: wait, args: { for: 1s } }
expect:
  healthy: [kinesis]
`

t.test('outage-lab repeat on a real (short) experiment', { skip: kinesisOutageSkip }, async (t) => {
  const dir = t.testdir({ 'tiny.yaml': TINY })
  const file = path.join(dir, 'tiny.yaml')
  const out = path.join(dir, 'repeat')

  await t.test('bad --seeds are bad input', async (t) => {
    const dup = await runCli(['repeat', file, '--runs', '2', '--seeds', '4,4', '--out', out])
    t.equal(dup.code, 2)
    t.match(dup.stderr, /every seed must be distinct/)
    const short = await runCli(['repeat', file, '--runs', '3', '--seeds', '4,5', '--out', out])
    t.equal(short.code, 2)
    t.match(short.stderr, /--seeds names 2 seed\(s\) but --runs is 3/)
    const junk = await runCli(['repeat', file, '--runs', '2', '--seeds', '4,x'])
    t.equal(junk.code, 2)
    t.match(junk.stderr, /--seeds.*got "x"/)
  })

  await t.test('two runs with distinct seeds, each an ordinary run folder, and their summary', async (t) => {
    const r = await runCli(['repeat', file, '--runs', '2', '--seeds', '4,9', '--out', out])
    t.equal(r.code, 0, r.stderr.slice(-1500))
    const s = JSON.parse(fs.readFileSync(path.join(out, 'repeat.json'), 'utf8'))
    t.same(
      s.runs.map((x: { seed: number; dir: string; held: boolean }) => [x.seed, x.dir, x.held]),
      [
        [4, 'run-01-seed-4', true],
        [9, 'run-02-seed-9', true],
      ],
    )
    t.same([s.held.passed, s.held.runs], [2, 2])
    t.same(
      s.expectations.map((e: { name: string; passed: number }) => [e.name, e.passed]),
      [['healthy', 2]],
    )
    for (const d of ['run-01-seed-4', 'run-02-seed-9']) {
      const j = JSON.parse(fs.readFileSync(path.join(out, d, 'journal.json'), 'utf8'))
      t.equal(j.seed, Number(d.split('-').at(-1)), `${d} ran with its own seed`)
      t.ok(fs.existsSync(path.join(out, d, 'report.html')))
    }
    t.ok(fs.existsSync(path.join(out, 'repeat.html')) && fs.existsSync(path.join(out, 'repeat.md')))
    t.match(r.stderr, /run 2\/2, seed 9: held · every expectation met in 2\/2/)
    t.match(r.stdout, /Every expectation met: 2\/2/)
  })

  await t.test('given the same folder again, it resumes: only the missing run is run', async (t) => {
    const before = fs.statSync(path.join(out, 'run-01-seed-4', 'journal.json')).mtimeMs
    const r = await runCli(['repeat', file, '--runs', '3', '--seeds', '4,9,12', '--out', out])
    t.equal(r.code, 0, r.stderr.slice(-1500))
    t.match(r.stderr, /run 1\/3, seed 4: already in run-01-seed-4/)
    t.equal(fs.statSync(path.join(out, 'run-01-seed-4', 'journal.json')).mtimeMs, before, 'not run again')
    const s = JSON.parse(fs.readFileSync(path.join(out, 'repeat.json'), 'utf8'))
    t.same([s.held.passed, s.held.runs], [3, 3])
  })

  await t.test('Ctrl-C stops after tearing down the current run and still writes what it has', async (t) => {
    const out2 = path.join(dir, 'interrupted')
    const r = await runCli(['repeat', file, '--runs', '3', '--out', out2], { interruptOn: /run 2\/3, seed 4 ->[\s\S]*phase: method/ })
    t.equal(r.code, 130)
    const s = JSON.parse(fs.readFileSync(path.join(out2, 'repeat.json'), 'utf8'))
    t.same(
      s.runs.map((x: { seed: number; status: string }) => [x.seed, x.status]),
      [
        [3, 'completed'],
        [4, 'interrupted'],
      ],
    )
    t.same([s.held.passed, s.held.runs], [1, 1], 'the interrupted run is not counted')
    t.notOk(fs.existsSync(path.join(out2, 'run-03-seed-5')), 'no run after the interruption')
  })
})
