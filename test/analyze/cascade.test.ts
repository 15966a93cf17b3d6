import t from 'tap'
import { analyzeRun, cascade, type ServiceResult } from '../../harness/analyze/index.js'
import { experiment, client, down, actionStart, type Health } from './helpers.js'

// The 2020 shape, compressed: Kinesis breaks at 20s, CloudWatch and EventBridge 2 s later, the
// autoscaler at 25s, Lambda once its agent buffer fills (30s), Cognito once its buffer fills (35s),
// the status page after Cognito (40s). The paced restart at 50s heals all by 60s.
const onsets: Record<string, number> = {
  kinesis: 20_000,
  cloudwatch: 22_000,
  eventbridge: 22_000,
  autoscaler: 25_000,
  lambda: 30_000,
  cognito: 35_000,
  'status-page': 40_000,
}
const healed = 60_000
const timeline = Object.entries(onsets).flatMap(([s, at]) => client(s, down([at, healed])))
const events = [
  actionStart(10_000, 'add-capacity', 'scale-fleet'),
  actionStart(40_000, 'remove-capacity', 'scale-fleet'),
  actionStart(50_000, 'paced-restart', 'restart-fleet'),
]

t.test('the cascade orders services by onset and names the dependency that was failing', async (t) => {
  const a = analyzeRun({ experiment: experiment(), timeline, events })
  t.same(
    a.cascade.map((c) => [c.service, c.onsetMs, c.cause, c.lagMs]),
    [
      ['kinesis', 20_000, 'trigger', null],
      ['cloudwatch', 22_000, 'kinesis', 2_000],
      ['eventbridge', 22_000, 'kinesis', 2_000],
      ['autoscaler', 25_000, 'cloudwatch', 3_000],
      ['lambda', 30_000, 'cloudwatch', 8_000],
      ['cognito', 35_000, 'kinesis', 15_000],
      ['status-page', 40_000, 'cognito', 5_000],
    ],
  )
  t.same(a.cascade[3].causes, ['cloudwatch', 'eventbridge'], "both of the autoscaler's dependencies were down; the earliest is the cause")
})

t.test('a service whose dependencies were healthy when it broke is unexplained, unless an action hit it', async (t) => {
  const r = (onsetMs: number | null, recoveredMs: number | null): ServiceResult => ({
    impacted: onsetMs !== null,
    onsetMs,
    recoveredMs,
    impactMs: null,
    timeToRecoverMs: null,
    availability: null,
    p99Ms: null,
    calls: 0,
    errors: 0,
  })
  const services = { kinesis: r(20_000, 25_000), cloudwatch: r(21_000, 24_000), lambda: r(30_000, null), cognito: r(40_000, null) }
  const pauseCognito = {
    name: 'pause-cognito',
    provider: 'pause',
    phase: 'method' as const,
    atMs: 39_000,
    action: {
      type: 'action' as const,
      name: 'pause-cognito',
      atMs: 39_000,
      provider: 'pause' as const,
      args: { provider: 'pause' as const, service: 'cognito' },
    },
  }
  // Breaking first is not enough to be "hit by the trigger": nothing here touched Kinesis.
  t.same(
    cascade(services, [pauseCognito]).map((x) => [x.service, x.cause]),
    [
      ['kinesis', 'unexplained'],
      ['cloudwatch', 'kinesis'],
      ['lambda', 'unexplained'],
      ['cognito', 'trigger'],
    ],
  )
  const c = cascade(services, [
    {
      name: 'add-capacity',
      provider: 'scale-fleet',
      phase: 'method',
      atMs: 10_000,
      action: { type: 'action', name: 'add-capacity', atMs: 10_000, provider: 'scale-fleet', args: { provider: 'scale-fleet', fleet: 'main', to: 6 } },
    },
    {
      name: 'pause-cognito',
      provider: 'pause',
      phase: 'method',
      atMs: 39_000,
      action: { type: 'action', name: 'pause-cognito', atMs: 39_000, provider: 'pause', args: { provider: 'pause', service: 'cognito' } },
    },
  ])
  t.same(
    c.map((x) => [x.service, x.cause]),
    [
      ['kinesis', 'trigger'],
      ['cloudwatch', 'kinesis'],
      ['lambda', 'unexplained'],
      ['cognito', 'trigger'],
    ],
  )
})

t.test('blast radius counts the impacted customer-facing services', async (t) => {
  const a = analyzeRun({ experiment: experiment(), timeline, events })
  t.same(a.blastRadius, { impacted: ['kinesis', 'cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'], count: 7, total: 7, share: 1 })
  const fewer = analyzeRun({ experiment: experiment(), timeline: timeline.filter((r) => !['lambda', 'status-page'].includes(r.service)), events })
  t.same([fewer.blastRadius.count, fewer.blastRadius.total], [5, 7], 'a service without client data is not impacted')
})

t.test('the recovery verdict measures from the action that pushed the system back', async (t) => {
  const a = analyzeRun({ experiment: experiment(), timeline, events })
  t.same(a.recovery, {
    recovered: true,
    unrecovered: [],
    lastRecoveredMs: healed,
    recoveryAction: { name: 'paced-restart', provider: 'restart-fleet', atMs: 50_000 },
    timeToRecoverMs: 10_000,
  })
  t.equal(a.services.kinesis.timeToRecoverMs, 10_000)
  t.equal(a.services.kinesis.impactMs, 40_000)

  const stuck = analyzeRun({
    experiment: experiment(),
    timeline: [...timeline.filter((r) => r.service !== 'cognito'), ...client('cognito', down([35_000, 90_000]))],
    events,
  })
  t.same(stuck.recovery, {
    recovered: false,
    unrecovered: ['cognito'],
    lastRecoveredMs: null,
    recoveryAction: { name: 'paced-restart', provider: 'restart-fleet', atMs: 50_000 },
    timeToRecoverMs: null,
  })

  const rolledBack = analyzeRun({
    experiment: experiment(),
    timeline,
    events: [...events.slice(0, 2), actionStart(55_000, 'restore', 'scale-fleet', 'rollbacks')],
  })
  t.same(
    rolledBack.recovery.recoveryAction,
    { name: 'restore', provider: 'scale-fleet', atMs: 55_000 },
    'a rollback is a recovery action whatever its provider',
  )
})

t.test('expectations: each key judged with a reason', async (t) => {
  const e = experiment({
    topology: { threadAlarm: { enabled: true } },
    expect: {
      impacted: ['kinesis', 'cloudwatch', 'eventbridge', 'lambda', 'cognito'],
      healthy: ['autoscaler'],
      onsetOrder: [['kinesis'], ['cloudwatch', 'eventbridge'], ['lambda'], ['cognito']],
      recovered: true,
      steadyStateAfter: true,
      maxRecoveryMs: { kinesis: 30_000, cognito: 30_000 },
      alarmLeadMs: { min: 5_000 },
      cause: { kinesis: 'trigger', lambda: 'kinesis', cognito: 'kinesis' },
    },
  })
  const after = { met: true, probes: [] }
  const alarm = { atMs: 12_000, kind: 'alarm', detail: { name: 'thread-alarm', state: 'ALARM' } }
  const a = analyzeRun({ experiment: e, timeline, events: [...events, alarm], steadyStateAfter: after })
  t.same(a.expectations, [
    {
      name: 'impacted',
      met: true,
      detail: 'all impacted: kinesis (onset 20.0s), cloudwatch (onset 22.0s), eventbridge (onset 22.0s), lambda (onset 30.0s), cognito (onset 35.0s)',
    },
    { name: 'healthy', met: false, detail: 'impacted after all: autoscaler (onset 25.0s)' },
    { name: 'onsetOrder', met: true, detail: 'onsets in order: kinesis 20.0s, cloudwatch 22.0s, eventbridge 22.0s, lambda 30.0s, cognito 35.0s' },
    { name: 'cause.kinesis', met: true, detail: 'kinesis broke at 20.0s with cause trigger' },
    { name: 'cause.cognito', met: true, detail: 'cognito broke at 35.0s with cause kinesis' },
    { name: 'cause.lambda', met: false, detail: 'lambda broke at 30.0s with cause cloudwatch, not kinesis' },
    { name: 'recovered', met: true, detail: 'every impacted service recovered before the end' },
    { name: 'steadyStateAfter', met: true, detail: 'the steady state held after the method' },
    { name: 'maxRecoveryMs.kinesis', met: false, detail: 'kinesis recovered 40000 ms after its onset (at most 30000 ms expected)' },
    { name: 'maxRecoveryMs.cognito', met: true, detail: 'cognito recovered 25000 ms after its onset (at most 30000 ms expected)' },
    { name: 'alarmLeadMs', met: true, detail: 'the thread alarm fired at 12.0s, 8000 ms before the first break at 20.0s (at least 5000 ms expected)' },
  ])
})

t.test('expectations that fail say what the run showed', async (t) => {
  const e = experiment({
    topology: { threadAlarm: { enabled: true } },
    expect: { impacted: ['kinesis', 'cognito'], onsetOrder: [['cognito'], ['kinesis']], recovered: false, steadyStateAfter: true, alarmLeadMs: { min: 1 } },
  })
  const notCognito = timeline.filter((r) => r.service !== 'cognito').concat(client('cognito', (): Health => 'ok'))
  const after = {
    met: false,
    probes: [
      {
        name: 'kinesis-available',
        service: 'kinesis',
        met: false,
        value: 0.5,
        tolerance: { min: 0.99 },
        fromMs: 87_000,
        toMs: 90_000,
        detail: 'successRatio of kinesis was 0.500, expected >= 0.99',
      },
    ],
  }
  const a = analyzeRun({ experiment: e, timeline: notCognito, events, steadyStateAfter: after })
  t.same(a.expectations, [
    { name: 'impacted', met: false, detail: 'not impacted: cognito' },
    { name: 'onsetOrder', met: false, detail: 'never impacted: cognito (seen: kinesis 20.0s)' },
    { name: 'recovered', met: false, detail: 'every impacted service recovered before the end' },
    {
      name: 'steadyStateAfter',
      met: false,
      detail: 'the steady state did not hold after the method: kinesis-available (successRatio of kinesis was 0.500, expected >= 0.99)',
    },
    { name: 'alarmLeadMs', met: false, detail: 'the thread alarm never fired' },
  ])
  const reversed = analyzeRun({
    experiment: experiment({ expect: { impacted: ['kinesis', 'lambda'], onsetOrder: [['lambda'], ['kinesis']] } }),
    timeline,
    events,
  })
  t.same(reversed.expectations[1], { name: 'onsetOrder', met: false, detail: 'kinesis broke before lambda (seen: kinesis 20.0s, lambda 30.0s)' })
})
