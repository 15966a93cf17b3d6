// The onset detector on synthetic call records: windows judged on enough evidence, hung calls that
// age, latencies net of the harness's own delay, and onsets that the services' own counters (or a
// broken dependency) must corroborate.
import t from 'tap'
import { analyzeRun, binomialTail, windowsFromCalls, observationOf, SeriesIndex, type Journal } from '../../harness/analyze/index.js'
import { parseCallRow, callRow } from '../../harness/observe/call-rows.js'
import { summaryMarkdown } from '../../harness/report/summary.js'
import { experiment, calls, served, actionStart, type CallHealth } from './helpers.js'

const slo = { minSuccessRatio: 0.95, maxP99Ms: 3_000 }
const kinesisOnly = experiment({ topology: { services: [] } })
const between =
  (from: number, to: number, inside: CallHealth, outside: CallHealth = 'ok') =>
  (t: number): CallHealth =>
    t >= from && t < to ? inside : outside
const records = (rows: ReturnType<typeof calls>) => rows.map(parseCallRow).filter((c) => c !== undefined)

t.test('a call row keeps its outcome, operation, error and timing', async (t) => {
  const row = callRow({ service: 'kinesis', operation: 'PutRecords', startedAtMs: 1_000, latencyMs: 250.4, ok: false, error: 'Internal"Failure' })
  t.same(row, { service: 'kinesis', metric: 'client.call{error="Internal\\"Failure",op="PutRecords",outcome="error"}', value: 250, atMs: 1_250 })
  t.same(parseCallRow(row), { service: 'kinesis', operation: 'PutRecords', startMs: 1_000, endMs: 1_250, ok: false, error: 'Internal"Failure' })
  t.equal(parseCallRow({ service: 'kinesis', metric: 'client.calls', value: 3, atMs: 0 }), undefined)
})

t.test('the binomial tail is the chance of at least k bad calls from a service meeting its SLO', async (t) => {
  t.equal(binomialTail(0, 5, 0.05), 1)
  t.equal(binomialTail(6, 5, 0.05), 0)
  t.ok(Math.abs(binomialTail(1, 1, 0.05) - 0.05) < 1e-12)
  t.ok(Math.abs(binomialTail(2, 3, 0.05) - (3 * 0.05 ** 2 * 0.95 + 0.05 ** 3)) < 1e-12)
  t.ok(Math.abs(binomialTail(1, 3, 0.01) - (1 - 0.99 ** 3)) < 1e-12)
})

t.test('one late or failed call among few is no evidence: the window is unknown, not breached', async (t) => {
  // Three calls in (0, 1s]: one of them took 3.5 s (it started before the window).
  const few = [
    { service: 'eventbridge', operation: 'PutEvents', startMs: -3_000, endMs: 500, ok: true },
    { service: 'eventbridge', operation: 'PutEvents', startMs: 600, endMs: 650, ok: true },
    { service: 'eventbridge', operation: 'PutEvents', startMs: 700, endMs: 760, ok: true },
  ]
  t.equal(windowsFromCalls(few, slo, 0, 1_000, 1_000)[0].verdict, 'unknown', 'one slow call of three')
  const oneError = few.map((c, i) => ({ ...c, startMs: 100 * i, endMs: 100 * i + 40, ok: i !== 0 }))
  t.equal(windowsFromCalls(oneError, slo, 0, 1_000, 1_000)[0].verdict, 'unknown', 'one failed call of three')
  const twoErrors = oneError.map((c, i) => ({ ...c, ok: i === 2 }))
  t.equal(windowsFromCalls(twoErrors, slo, 0, 1_000, 1_000)[0].verdict, 'breached', 'two failed calls of three')
  t.equal(windowsFromCalls(oneError.slice(1, 2), slo, 0, 1_000, 1_000)[0].verdict, 'unknown', 'one healthy call is too few to call the window healthy')
  t.equal(windowsFromCalls(few.slice(1).concat(oneError.slice(1)), slo, 0, 1_000, 1_000)[0].verdict, 'healthy')
})

t.test('sparse traffic: a single breached window among unknown ones is no onset; steady failures are', async (t) => {
  // One call every 700 ms: one or two per window, never enough to call a window healthy.
  const sparse = calls('kinesis', between(20_000, 40_000, 'bad'), { everyMs: 700 })
  const k = analyzeRun({ experiment: kinesisOnly, timeline: sparse, events: [] }).services.kinesis
  t.equal(k.impacted, true, 'twenty seconds of failures breach window after window')
  t.ok(k.onsetMs! >= 20_000 && k.onsetMs! <= 22_000, `onset ${k.onsetMs}`)
  const blip = calls('kinesis', between(20_000, 20_700, 'bad'), { everyMs: 700 })
  t.equal(analyzeRun({ experiment: kinesisOnly, timeline: blip, events: [] }).services.kinesis.impacted, false, 'one failed call')
})

t.test('a hung call counts in every window it outlives the bound: a silent service still breaches', async (t) => {
  // From 20s every call hangs until 40s; none ends in between, so no window has a finished call.
  const silent = calls('kinesis', between(20_000, 40_000, 'hang'), { hangUntil: 40_000 })
  const w = windowsFromCalls(records(silent), slo, 10_000, 40_000, 1_000)
  t.same(
    w.slice(10, 16).map((x) => x.calls),
    [0, 0, 0, 0, 0, 0],
    'nothing ends between 20s and 26s',
  )
  t.equal(w[12].verdict, 'unknown', 'at 23s no call has waited 3 s yet')
  t.equal(w[13].verdict, 'breached', 'from 24s the first calls have waited past the bound')
  const k = analyzeRun({ experiment: kinesisOnly, timeline: silent, events: [] }).services.kinesis
  t.equal(k.onsetMs, 23_000, 'the window (23s, 24s] holds calls waiting past 3 s')
})

t.test('latencies are judged net of the harness’s own event-loop delay', async (t) => {
  // Every call takes 4 s from 20s to 30s, while the harness's loop was held 1.5 s at each sample.
  const slow = calls('kinesis', between(20_000, 30_000, 'slow'))
  const delay = Array.from({ length: 60 }, (_, i) => ({ service: 'harness', metric: 'harness.loop_delay_ms', value: 1_500, atMs: 20_000 + i * 250 }))
  const k = analyzeRun({ experiment: kinesisOnly, timeline: [...slow, ...delay], events: [] }).services.kinesis
  t.equal(k.impacted, false, '4 s measured, 1.5 s of it the harness: 2.5 s is within the bound')
  t.equal(analyzeRun({ experiment: kinesisOnly, timeline: slow, events: [] }).services.kinesis.impacted, true, 'without the delay the same calls breach')
})

t.test('an observation that lagged past its bound says so in the journal and the summary', async (t) => {
  const rows = [
    ...calls('kinesis', () => 'ok'),
    ...Array.from({ length: 40 }, (_, i) => ({ service: 'harness', metric: 'harness.sample_gap_ms', value: i === 30 ? 1_800 : 250, atMs: 10_000 + i * 250 })),
    ...Array.from({ length: 40 }, (_, i) => ({ service: 'harness', metric: 'harness.loop_delay_ms', value: i === 30 ? 1_600 : 12, atMs: 10_000 + i * 250 })),
  ]
  const o = observationOf(new SeriesIndex(rows), 10_000, 90_000)
  t.same(
    { lagged: o.lagged, windows: o.laggedWindows, first: o.firstLaggedMs, maxGap: o.maxGapMs, maxDelay: o.maxLoopDelayMs, median: o.medianGapMs },
    { lagged: true, windows: 1, first: 17_000, maxGap: 1_800, maxDelay: 1_600, median: 250 },
  )
  const a = analyzeRun({ experiment: kinesisOnly, timeline: rows, events: [actionStart(10_000, 'add-capacity', 'scale-fleet')] })
  t.equal(a.observation.lagged, true)
  const journal: Journal = {
    ...a,
    title: 'lagged',
    experiment: kinesisOnly,
    backend: 'local',
    seed: 1,
    status: 'completed',
    deviated: false,
    startedAt: '',
    endedAt: '',
    durationMs: 1,
    threadLimitEnforcement: 'cgroup',
    steadyState: { before: { met: true, probes: [] }, after: { met: true, probes: [] } },
    events: [],
  }
  t.match(summaryMarkdown(journal, '/tmp', []), /observation lagged: the harness was held past 1000 ms in 1 window\(s\) from 17\.0s/)
  t.equal(observationOf(new SeriesIndex(calls('kinesis', () => 'ok')), 0, 90_000).measured, false, 'a run recorded before the harness measured itself')
})

t.test('a client-side breach the service’s own counters do not show is not an onset', async (t) => {
  const lab = experiment({ topology: { services: ['eventbridge'] } })
  const events = [actionStart(10_000, 'add-capacity', 'scale-fleet')]
  // EventBridge's customers see failures at 15-18s, but its own counters and Kinesis are clean.
  const timeline = [
    ...calls('kinesis', () => 'ok'),
    ...calls('eventbridge', between(15_000, 18_000, 'bad')),
    ...served('kinesis-endpoint-main'),
    ...served('eventbridge'),
  ]
  const e = analyzeRun({ experiment: lab, timeline, events }).services.eventbridge
  t.equal(e.impacted, false)
  t.same(e.uncorroborated, [{ onsetMs: 15_000 }], 'recorded as uncorroborated, once for the whole breach')
  // The same breach with EventBridge's own 5xx counted at 15-18s is its onset.
  const real = analyzeRun({
    experiment: lab,
    timeline: [...timeline.filter((r) => r.service !== 'eventbridge' || r.metric.startsWith('client')), ...served('eventbridge', [[15_000, 18_000]])],
    events,
  })
  t.equal(real.services.eventbridge.onsetMs, 15_000)
  t.match(real.services.eventbridge.corroboration, /^server-side: eventbridge: \d+ server errors/)
  t.equal(real.services.eventbridge.serverEvidenceMs, 15_000)
})

t.test('a breach whose dependency is already impacted needs no server-side counter', async (t) => {
  const lab = experiment({ topology: { services: ['cloudwatch', 'eventbridge', 'autoscaler'] } })
  const timeline = [
    ...calls('kinesis', between(20_000, 60_000, 'bad')),
    ...calls('cloudwatch', between(21_000, 60_000, 'bad')),
    ...calls('eventbridge', () => 'ok'),
    ...calls('autoscaler', between(25_000, 60_000, 'bad')),
    ...served('kinesis-endpoint-main', [[20_000, 60_000]]),
    ...served('cloudwatch', [[21_000, 60_000]]),
    ...served('eventbridge'),
    ...served('autoscaler'),
  ]
  const a = analyzeRun({ experiment: lab, timeline, events: [actionStart(10_000, 'add-capacity', 'scale-fleet')] })
  t.equal(a.services.autoscaler.onsetMs, 25_000)
  t.equal(a.services.autoscaler.corroboration, 'cloudwatch impacted since 21.0s')
  t.same(
    a.cascade.map((c) => [c.service, c.cause]),
    [
      ['kinesis', 'trigger'],
      ['cloudwatch', 'kinesis'],
      ['autoscaler', 'cloudwatch'],
    ],
  )
})

t.test('a service that breaks first is not "hit by the trigger" unless an action hit it', async (t) => {
  const lab = experiment({ topology: { services: ['eventbridge'] } })
  const events = [actionStart(10_000, 'add-capacity', 'scale-fleet')]
  // EventBridge breaks at 20s with its own 5xx; its customers' Kinesis calls still succeed (their
  // retries land on healthy members) until 25s, but the Kinesis endpoint already answered 5xx from
  // 19s. The cascade lists a service after the dependency that caused it.
  const timeline = [
    ...calls('kinesis', between(25_000, 60_000, 'bad')),
    ...calls('eventbridge', between(20_000, 60_000, 'bad')),
    ...served('kinesis-endpoint-main', [[19_000, 60_000]]),
    ...served('eventbridge', [[20_000, 60_000]]),
  ]
  const a = analyzeRun({ experiment: lab, timeline, events })
  t.same(
    a.cascade.map((c) => [c.service, c.onsetMs, c.cause, c.evidence ?? null]),
    [
      ['kinesis', 25_000, 'trigger', null],
      ['eventbridge', 20_000, 'kinesis', 'server-side'],
    ],
  )
  // Without the endpoint's counters, nothing explains EventBridge's break.
  const unexplained = analyzeRun({
    experiment: lab,
    timeline: timeline.filter((r) => r.service !== 'kinesis-endpoint-main' || r.metric === 'scrape.up' || r.metric.includes('"ok"')),
    events,
  })
  t.equal(unexplained.cascade[0].cause, 'unexplained')
})
