import t from 'tap'
import { analyzeRun, detectImpact, SeriesIndex, evaluateProbe, evaluateHypothesis } from '../../harness/analyze/index.js'
import { experiment, client, down, scraped, type Health } from './helpers.js'

const kinesisOnly = experiment({ topology: { services: [] } })
const run = (health: (t: number) => Health, toMs = 90_000) =>
  analyzeRun({ experiment: kinesisOnly, timeline: client('kinesis', health, -3_000, toMs), events: [] }).services.kinesis

t.test('onset is the first of two consecutive breached 1 s windows after the first fault', async (t) => {
  const k = run(down([20_000, 22_000]))
  t.equal(k.impacted, true)
  t.equal(k.onsetMs, 20_000)
  t.equal(k.recoveredMs, 22_000, 'five healthy windows follow at once')
  t.equal(k.impactMs, 2_000)
})

t.test('a single breached window is a blip, not an onset', async (t) => {
  const k = run(down([20_000, 21_000], [30_000, 31_000], [32_000, 33_000]))
  t.equal(k.impacted, false)
  t.equal(k.onsetMs, null)
  t.equal(k.recoveredMs, null)
  t.equal(k.impactMs, null)
})

t.test('breaches before the first fault do not count as onset', async (t) => {
  const k = run(down([0, 5_000]))
  t.equal(k.impacted, false, 'the method starts its first action at 10s')
})

t.test('recovery needs five healthy seconds in a row; a relapse starts the count again', async (t) => {
  const k = run(down([20_000, 30_000], [34_000, 36_000]))
  t.equal(k.onsetMs, 20_000)
  t.equal(k.recoveredMs, 36_000, 'four healthy seconds at 30s-34s were not enough')
  t.equal(k.impactMs, 16_000)
})

t.test('an impact still healthy for less than 5 s at the end is not recovered', async (t) => {
  const k = run(down([20_000, 86_000]), 90_000)
  t.equal(k.onsetMs, 20_000)
  t.equal(k.recoveredMs, null)
  t.equal(k.impactMs, 70_000, 'impact lasts until the end of the observation')
})

t.test('latency alone breaches the SLO; the experiment can loosen it', async (t) => {
  const slow = (t: number): Health => (t > 20_000 && t <= 25_000 ? 'slow' : 'ok')
  t.equal(run(slow).onsetMs, 20_000)
  const loose = experiment({ topology: { services: [] }, slo: { kinesis: { maxP99Ms: 5_000 } } })
  t.equal(analyzeRun({ experiment: loose, timeline: client('kinesis', slow), events: [] }).services.kinesis.impacted, false)
})

t.test('up to two windows without data are bridged; a third in a row breaks a run', async (t) => {
  const gappy =
    (idle: number) =>
    (t: number): Health =>
      t > 20_000 && t <= 21_000
        ? 'bad'
        : t > 21_000 && t <= 21_000 + idle * 1_000
          ? 'idle'
          : t > 21_000 + idle * 1_000 && t <= 22_000 + idle * 1_000
            ? 'bad'
            : 'ok'
  t.equal(run(gappy(1)).onsetMs, 20_000, 'bad, idle, bad: one idle second does not hide the outage')
  t.equal(run(gappy(2)).onsetMs, 20_000, 'two idle seconds neither')
  t.equal(run(gappy(3)).impacted, false, 'three idle seconds break the run: two breached seconds far apart are two blips')
  const verdicts = ['breached', 'breached', 'healthy', 'healthy', 'unknown', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy'] as const
  const r = detectImpact(verdicts.map((verdict, i) => ({ startMs: i * 1000, verdict })))
  t.same(r, { onsetMs: 0, recoveredMs: 2_000, onsetIndex: 0, recoveredIndex: 2 }, 'five healthy windows with an unknown one among them')
  const broken = ['breached', 'breached', 'healthy', 'unknown', 'unknown', 'unknown', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy'] as const
  t.equal(detectImpact(broken.map((verdict, i) => ({ startMs: i * 1000, verdict }))).recoveredMs, 6_000, 'three unknown windows break a healthy run')
})

t.test('the first fault is the first method action as the journal recorded it', async (t) => {
  // Planned at 10s, but the journal says the action started at 25s: a breach at 20s is before it.
  const events = [{ atMs: 25_000, kind: 'action-start', detail: { name: 'add-capacity', provider: 'scale-fleet', phase: 'method' } }]
  const a = analyzeRun({ experiment: kinesisOnly, timeline: client('kinesis', down([20_000, 23_000])), events })
  t.equal(a.triggerMs, 25_000)
  t.equal(a.services.kinesis.impacted, false)
})

t.test('availability, errors and p99 cover the whole method', async (t) => {
  const k = run(down([20_000, 30_000]))
  // 90 windows of 10 calls over (0, 90s], 10 of them at 30% success.
  t.equal(k.calls, 900)
  t.equal(k.errors, 70)
  t.equal(k.availability, 830 / 900)
  t.equal(k.p99Ms, 200)
})

t.test('steady-state probes look back over their window and apply the tolerance', async (t) => {
  const e = experiment({
    topology: { services: [] },
    'steady-state-hypothesis': {
      title: 'served',
      probes: [
        { name: 'available', type: 'probe', service: 'kinesis', measure: 'successRatio', window: '3s', tolerance: { min: 0.99 } },
        { name: 'fast', type: 'probe', service: 'kinesis', measure: 'p99Ms', window: '3s', tolerance: { max: 100 } },
        {
          name: 'all-broken',
          type: 'probe',
          service: 'kinesis',
          metric: 'kinesis_frontend_shard_map_state{state="broken"}',
          aggregate: 'min',
          window: '2s',
          tolerance: { min: 1 },
        },
      ],
    },
  })
  const broken = 'kinesis_frontend_shard_map_state{state="broken"}'
  const timeline = new SeriesIndex([
    ...client('kinesis', down([20_000, 30_000])),
    ...scraped('kinesis-frontend-main-1', broken, [
      [0, 0],
      [21_000, 1],
    ]),
    ...scraped('kinesis-frontend-main-2', broken, [
      [0, 0],
      [23_000, 1],
    ]),
    ...scraped('kinesis-frontend-main-2', 'kinesis_frontend_shard_map_state{state="ready"}', [[0, 1]]),
  ])
  const before = evaluateHypothesis(e.steadyStateHypothesis, timeline, 0)
  t.equal(before.met, false, 'the shard-maps were not broken before the method')
  t.same(
    before.probes.map((p) => [p.name, p.met, p.value]),
    [
      ['available', true, 1],
      ['fast', true, 40],
      ['all-broken', false, 0],
    ],
  )
  const during = evaluateHypothesis(e.steadyStateHypothesis, timeline, 25_000)
  t.same(
    during.probes.map((p) => [p.name, p.met, p.value]),
    [
      ['available', false, 0.3],
      ['fast', false, 200],
      ['all-broken', true, 1],
    ],
  )
  t.equal(during.probes[0].detail, 'successRatio of kinesis was 0.300, expected >= 0.99')
  t.equal(during.probes[2].detail, 'min of kinesis_frontend_shard_map_state{state="broken"} of kinesis was 1, expected >= 1')
  const early = evaluateProbe(e.steadyStateHypothesis!.probes[2], timeline, 22_500)
  t.equal(early.met, false, 'one of two front-ends was broken at 22.5s')
  t.equal(
    early.detail,
    'min of kinesis_frontend_shard_map_state{state="broken"} of kinesis was 0 (kinesis-frontend-main-2 to the window\'s end, kinesis-frontend-main-1 until 21.0 s), expected >= 1',
    'a missed min names the front-ends that missed it, the one still missing at the end first',
  )
  const nothing = evaluateProbe(e.steadyStateHypothesis!.probes[0], new SeriesIndex([]), 10_000)
  t.same([nothing.met, nothing.value, nothing.detail], [false, null, 'no data for successRatio of kinesis in the window'])
})

t.test('method probes are judged at their offsets', async (t) => {
  const e = experiment({
    topology: { services: [] },
    method: [
      { type: 'action', name: 'add-capacity', at: '10s', provider: 'scale-fleet', args: { fleet: 'main', to: 6 } },
      { type: 'probe', name: 'kinesis-down', at: '25s', service: 'kinesis', measure: 'successRatio', window: '2s', tolerance: { max: 0.5 } },
      { type: 'probe', name: 'kinesis-up', at: '60s', service: 'kinesis', measure: 'successRatio', window: '2s', tolerance: { min: 0.99 } },
    ],
  })
  const a = analyzeRun({ experiment: e, timeline: client('kinesis', down([20_000, 30_000])), events: [] })
  t.same(
    a.probes.map((p) => [p.name, p.met, p.fromMs, p.toMs]),
    [
      ['kinesis-down', true, 23_000, 25_000],
      ['kinesis-up', true, 58_000, 60_000],
    ],
  )
})
