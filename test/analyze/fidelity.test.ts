import t from 'tap'
import { analyzeRun, compareRuns, reanalyze, type Journal, type TimelineRow } from '../../harness/analyze/index.js'
import { experiment, client, down, scraped, alive, actionStart, actionEnd } from './helpers.js'

const BROKEN = 'kinesis_frontend_shard_map_state{state="broken"}'
const fe = (n: number) => `kinesis-frontend-main-${n}`

/** A 2020-shaped run: six front-ends over their limit by 18s, all broken, healed by the restart. */
function outage(opts: { brokenMembers?: number; cognitoBlocks?: boolean } = {}): TimelineRow[] {
  const brokenMembers = opts.brokenMembers ?? 6
  const rows: TimelineRow[] = []
  for (let n = 1; n <= 6; n++) {
    const from = n <= 3 ? -3_000 : 11_000
    rows.push(...alive(fe(n), from))
    rows.push(...scraped(fe(n), 'kinesis_frontend_thread_limit', [[from, 14]]))
    rows.push(
      ...scraped(fe(n), 'kinesis_frontend_threads', [
        [from, 11 + Math.min(n, 3) - 1],
        [16_000, 14],
      ]),
    )
    rows.push(
      ...scraped(fe(n), 'kinesis_frontend_thread_create_failures_total', [
        [from, 0],
        [17_000, 2],
      ]),
    )
    rows.push(
      ...scraped(
        fe(n),
        BROKEN,
        n <= brokenMembers
          ? [
              [from, 0],
              [18_000 + n * 100, 1],
              [52_000 + n * 500, 0],
            ]
          : [[from, 0]],
      ),
    )
  }
  const onsets: Record<string, number> = {
    kinesis: 20_000,
    cloudwatch: 22_000,
    eventbridge: 22_000,
    autoscaler: 25_000,
    lambda: 30_000,
    cognito: 35_000,
    'status-page': 40_000,
  }
  for (const [s, at] of Object.entries(onsets)) rows.push(...client(s, down([at, 60_000])))
  rows.push(
    ...scraped('cloudwatch', 'cloudwatch_alarm_state{alarm="demand-high",state="INSUFFICIENT_DATA"}', [
      [-3_000, 1],
      [-1_000, 0],
      [24_000, 1],
      [62_000, 0],
    ]),
  )
  rows.push(
    ...scraped('cloudwatch', 'cloudwatch_alarm_state{alarm="demand-high",state="OK"}', [
      [-3_000, 0],
      [-1_000, 1],
      [24_000, 0],
      [62_000, 1],
    ]),
  )
  rows.push(
    ...scraped('lambda', 'lambda_agent_buffer_bytes', [
      [-3_000, 0],
      [25_000, 40_000],
      [45_000, 900_000],
      [62_000, 0],
    ]),
  )
  if (opts.cognitoBlocks ?? true)
    rows.push(
      ...scraped('cognito', 'cognito_requests_blocked', [
        [-3_000, 0],
        [34_000, 12],
        [60_000, 0],
      ]),
    )
  return rows
}

const flagship = () =>
  experiment({
    method: [
      { type: 'action', name: 'add-capacity', at: '10s', provider: 'scale-fleet', args: { fleet: 'main', to: 6 } },
      { type: 'action', name: 'remove-capacity', at: '40s', provider: 'scale-fleet', args: { fleet: 'main', to: 3 } },
      { type: 'action', name: 'post-primary', at: '42s', provider: 'post-status', args: { path: 'primary', message: 'investigating' } },
      { type: 'action', name: 'post-backup', at: '44s', provider: 'post-status', args: { path: 'backup', message: 'investigating' } },
      { type: 'action', name: 'paced-restart', at: '50s', provider: 'restart-fleet', args: { fleet: 'main', ratePerSec: 1 } },
    ],
    expect: { impacted: ['kinesis', 'cognito'], recovered: true },
  })

const events = [
  actionStart(10_000, 'add-capacity', 'scale-fleet'),
  actionStart(40_000, 'remove-capacity', 'scale-fleet'),
  actionStart(42_000, 'post-primary', 'post-status'),
  actionEnd(43_000, 'post-primary', 'post-status', false),
  actionStart(44_000, 'post-backup', 'post-status'),
  actionEnd(44_500, 'post-backup', 'post-status', true),
  actionStart(50_000, 'paced-restart', 'restart-fleet'),
]

t.test('a run that shows every 2020 mechanism scores 1', async (t) => {
  const f = analyzeRun({ experiment: flagship(), timeline: outage(), events }).fidelity
  t.same(
    f.checks.map((c) => [c.name, c.applicable, c.met, c.detail]),
    [
      ['thread-limit-reached', true, true, '6 of 6 front-ends reached their OS thread limit (12 peer threads refused)'],
      ['every-frontend-broke', true, true, 'all 6 front-ends had a broken shard-map at 18.6s'],
      ['removal-did-not-heal', true, true, 'Kinesis stayed impacted after remove-capacity at 40.0s until paced-restart at 50.0s'],
      ['restart-healed', true, true, 'Kinesis recovered at 60.0s, 10000 ms after paced-restart'],
      [
        'onset-order',
        true,
        true,
        'kinesis -> cloudwatch|eventbridge -> lambda -> cognito: onsets in order: kinesis 20.0s, cloudwatch 22.0s, eventbridge 22.0s, lambda 30.0s, cognito 35.0s',
      ],
      ['buffer-delays', true, true, 'cognito broke 15000 ms after kinesis; lambda broke 8000 ms after cloudwatch'],
      ['alarms-insufficient-data', true, true, 'alarms went to INSUFFICIENT_DATA: demand-high at 24.0s'],
      ['lambda-agent-buffer-grew', true, true, "the host agent's buffer grew by 900000 bytes after the trigger"],
      ['lambda-errors-after-cloudwatch', true, true, 'Lambda broke at 30.0s with 210 failed invocations; CloudWatch at 22.0s'],
      ['cognito-blocked', true, true, 'Cognito request handlers blocked on the access-pattern buffer from 34.0s (up to 12 at once)'],
      ['dashboard-primary-failed', true, true, 'post-primary (primary path, signs in through Cognito) failed'],
      ['dashboard-backup-worked', true, true, 'post-backup posted through the backup path'],
    ],
  )
  t.equal(f.score, 1)
})

t.test('missing mechanisms lower the score, and say what the run showed instead', async (t) => {
  const f = analyzeRun({ experiment: flagship(), timeline: outage({ brokenMembers: 4, cognitoBlocks: false }), events }).fidelity
  const by = Object.fromEntries(f.checks.map((c) => [c.name, c]))
  t.same([by['every-frontend-broke'].met, by['every-frontend-broke'].detail], [false, 'at most 4 of 6 front-ends were broken at once (18.4s)'])
  t.same([by['cognito-blocked'].met, by['cognito-blocked'].detail], [false, 'Cognito was impacted but no request handler blocked on its buffer'])
  t.equal(f.score, 10 / 12)
})

t.test('a remediation switch makes its mechanism not applicable instead of failed', async (t) => {
  const e = flagship()
  e.topology.switches.cognito.sustainKinesisErrors = true
  e.topology.switches.lambda.boundedAgentBuffer = true
  const timeline = outage({ cognitoBlocks: false }).filter((r) => r.service !== 'cognito' && r.service !== 'lambda' && r.service !== 'status-page')
  const f = analyzeRun({ experiment: e, timeline, events }).fidelity
  const na = f.checks.filter((c) => !c.applicable).map((c) => c.name)
  t.same(
    na,
    ['buffer-delays', 'lambda-agent-buffer-grew', 'lambda-errors-after-cloudwatch', 'cognito-blocked', 'dashboard-primary-failed'],
    'the backup path does not need Cognito: it still applies',
  )
  const by = Object.fromEntries(f.checks.map((c) => [c.name, c]))
  t.equal(by['onset-order'].detail, 'kinesis -> cloudwatch|eventbridge: onsets in order: kinesis 20.0s, cloudwatch 22.0s, eventbridge 22.0s')
  t.equal(f.score, 1, 'every check that applies is met')
})

t.test('removing capacity that heals Kinesis fails removal-did-not-heal; no restart makes restart-healed not applicable', async (t) => {
  const e = experiment({ topology: { services: [] } })
  const timeline = [...client('kinesis', down([20_000, 41_000])), ...alive(fe(1))]
  const f = analyzeRun({
    experiment: e,
    timeline,
    events: [actionStart(10_000, 'add-capacity', 'scale-fleet'), actionStart(40_000, 'remove-capacity', 'scale-fleet')],
  }).fidelity
  const by = Object.fromEntries(f.checks.map((c) => [c.name, c]))
  t.same(
    [by['removal-did-not-heal'].met, by['removal-did-not-heal'].detail],
    [false, 'Kinesis recovered at 41.0s, after remove-capacity and before any restart'],
  )
  t.same([by['restart-healed'].applicable, by['restart-healed'].detail], [false, 'no fleet restart while Kinesis was impacted'])
})

function journal(title: string, timeline: TimelineRow[], evs = events): Journal {
  const e = flagship()
  const a = analyzeRun({ experiment: e, timeline, events: evs })
  return {
    title,
    experiment: e,
    backend: 'local',
    seed: 1,
    status: 'completed',
    deviated: false,
    startedAt: '',
    endedAt: '',
    durationMs: 90_000,
    threadLimitEnforcement: 'cgroup',
    steadyState: { before: { met: true, probes: [] }, after: { met: true, probes: [] } },
    events: evs,
    services: a.services,
    cascade: a.cascade,
    blastRadius: a.blastRadius,
    recovery: a.recovery,
    expectations: a.expectations,
    fidelity: a.fidelity,
  }
}

t.test('compareRuns lines two runs up per service', async (t) => {
  const a = journal('2020', outage())
  // The remediation run: Cognito sheds instead of blocking and stays healthy; Kinesis heals faster.
  const b = journal('sustain', [
    ...outage().filter((r) => r.service !== 'cognito' && r.service !== 'kinesis'),
    ...client('cognito', down()),
    ...client('kinesis', down([20_000, 52_000])),
  ])
  const c = compareRuns(a, b)
  t.same([c.a.title, c.b.title, c.a.impacted.length, c.b.impacted.length], ['2020', 'sustain', 7, 6])
  t.same([c.a.expectationsMet, c.a.expectationsTotal, c.b.expectationsMet, c.b.expectationsTotal], [2, 2, 1, 2])
  t.same(c.expectations, [
    { name: 'impacted', a: true, b: false },
    { name: 'recovered', a: true, b: true },
  ])
  const by = Object.fromEntries(c.services.map((s) => [s.service, s]))
  t.same(
    c.services.map((s) => s.service),
    ['kinesis', 'cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'],
  )
  t.same(by.cognito, {
    service: 'cognito',
    a: { impacted: true, onsetMs: 35_000, impactMs: 25_000, timeToRecoverMs: 10_000, recovered: true, availability: by.cognito.a!.availability },
    b: { impacted: false, onsetMs: null, impactMs: null, timeToRecoverMs: null, recovered: true, availability: 1 },
    impactMsDelta: null,
    timeToRecoverMsDelta: null,
    impactChanged: true,
  })
  t.same([by.kinesis.impactMsDelta, by.kinesis.timeToRecoverMsDelta, by.kinesis.impactChanged], [-8_000, -8_000, false])
})

t.test('reanalyze redoes the analysis of a journal on its timeline', async (t) => {
  const j = journal('2020', outage())
  const stale = { ...j, cascade: [], expectations: [], fidelity: { score: null, checks: [] } }
  const again = reanalyze(stale, outage())
  t.same(again.cascade, j.cascade)
  t.same(again.expectations, j.expectations)
  t.equal(again.fidelity.score, 1)
  t.equal(again.title, '2020')
})
