import t from 'tap'
import path from 'node:path'
import { loadExperiment, validateCommand, mergeExperiment, parseSetPath, DEFAULT_RATES, DEFAULT_SLO } from '../../harness/experiment/index.js'
import { VALID, writeFiles } from './helpers.js'

const BASE = `title: base
duration: 2m
topology:
  fleets:
    main: { frontends: 4, threadLimit: 18, learnDelay: 3s }
  switches:
    cognito: { sustainKinesisErrors: false, bufferRecords: 500 }
  services: [cognito, cloudwatch]
workload:
  rates: { kinesisPut: 40, cognitoSignIn: 8 }
method:
  - { type: action, name: add-capacity, at: 10s, provider: scale-fleet, args: { fleet: main, to: 10 } }
  - { type: action, name: restart, at: 60s, provider: restart-fleet, args: { fleet: main, ratePerSec: 2 } }
expect:
  impacted: [kinesis, cognito]
  recovered: true
`

t.test('extends: maps merge deeply, lists replace, null removes an inherited key', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, {
    'base.yaml': BASE,
    'remedies/cognito.yaml': `extends: ../base.yaml
title: cognito sustains Kinesis errors
topology:
  switches:
    cognito: { sustainKinesisErrors: true }
  services: [cognito]
workload:
  rates: { cognitoSignIn: 20 }
expect:
  recovered: null
  healthy: [cognito]
  impacted: [kinesis]
`,
  })
  const e = await loadExperiment(path.join(dir, 'remedies/cognito.yaml'))
  t.equal(e.title, 'cognito sustains Kinesis errors')
  t.same(e.files, [path.join(dir, 'remedies/cognito.yaml'), path.join(dir, 'base.yaml')])
  t.same(e.topology.switches.cognito, { sustainKinesisErrors: true, bufferRecords: 500 }, 'a nested map keeps the keys the child does not set')
  t.same(e.topology.services, ['cognito'], 'a list replaces the inherited one')
  t.same(e.topology.fleets.main, { frontends: 4, threadLimit: 18, bootstrap: 'peers', learnDelayMs: 3000, cells: 1, removeUnhealthyAfterMs: 0 })
  t.equal(e.workload.rates.kinesisPut, 40, 'inherited rate')
  t.equal(e.workload.rates.cognitoSignIn, 20, 'overridden rate')
  t.equal(e.workload.rates.putEvents, DEFAULT_RATES.putEvents, 'default rate')
  t.same(e.expect, { impacted: ['kinesis'], healthy: ['cognito'] }, 'recovered: null removed the inherited expectation')
  t.equal(e.method.length, 2)
  t.equal(e.durationMs, 120_000)
})

t.test('mergeExperiment on its own', async (t) => {
  t.same(mergeExperiment({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 'x' }), { a: { b: 1, c: [3] }, e: 'x' })
})

t.test('a minimal experiment gets every default, durations in ms', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, {
    'x.yaml': `title: minimal
topology: { fleets: { main: { frontends: 2, threadLimit: 40 } } }
method:
  - { type: action, name: grow, at: 1500ms, provider: scale-fleet, args: { fleet: main, to: 3 } }
  - { type: probe, name: p, at: 5s, service: kinesis, measure: p99Ms, tolerance: { max: 500 } }
  - { type: action, name: w, at: 6s, provider: wait, args: { for: 2m } }
`,
  })
  const e = await loadExperiment(path.join(dir, 'x.yaml'))
  t.match(e, {
    title: 'minimal',
    description: '',
    tags: [],
    timeScale: 10,
    durationMs: 120_000,
    seed: 1,
    topology: {
      backends: 2,
      shardMapCache: false,
      services: ['cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'],
      switches: { cloudwatch: { localStore: false, localStoreHours: 3, partitionedFleet: false }, lambda: { boundedAgentBuffer: false } },
      threadAlarm: { enabled: false, threshold: 0.8 },
    },
    workload: { clientTimeoutMs: 2000, retries: { maxAttempts: 3, mode: 'standard' }, rates: DEFAULT_RATES },
    rollbacks: [],
    expect: {},
  })
  t.same(e.slo, DEFAULT_SLO)
  t.equal(e.steadyStateHypothesis, undefined)
  t.same(e.method[0], { type: 'action', name: 'grow', atMs: 1500, provider: 'scale-fleet', args: { provider: 'scale-fleet', fleet: 'main', to: 3 } })
  t.same(e.method[1], {
    type: 'probe',
    name: 'p',
    atMs: 5000,
    service: 'kinesis',
    measure: 'p99Ms',
    aggregate: 'mean',
    windowMs: 3000,
    tolerance: { max: 500 },
  })
  t.same(e.method[2], { type: 'action', name: 'w', atMs: 6000, provider: 'wait', args: { provider: 'wait', forMs: 120_000 } })
})

t.test('--set applies after extends and before validation; values are YAML scalars', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, { 'base.yaml': BASE, 'x.yaml': 'extends: ./base.yaml\ntitle: child\n' })
  const e = await loadExperiment(path.join(dir, 'x.yaml'), {
    sets: [
      'topology.fleets.main.threadLimit=25',
      'method[1].args.ratePerSec=0.5',
      'topology.switches.lambda.boundedAgentBuffer=true',
      'description=a run at 10:07',
      'tags=[a, b]',
      'slo.cognito.maxP99Ms=1500',
      'expect.impacted[1]=cognito',
    ],
    seed: 42,
  })
  t.equal(e.topology.fleets.main.threadLimit, 25)
  t.same(e.method[1].type === 'action' && e.method[1].args, { provider: 'restart-fleet', fleet: 'main', ratePerSec: 0.5 })
  t.equal(e.topology.switches.lambda.boundedAgentBuffer, true, 'a missing map on the way is created')
  t.equal(e.description, 'a run at 10:07')
  t.same(e.tags, ['a', 'b'])
  t.same(e.slo.cognito, { minSuccessRatio: 0.95, maxP99Ms: 1500 })
  t.equal(e.seed, 42, '--seed wins over the file')
})

t.test('set paths parse like the paths in messages', async (t) => {
  t.same(parseSetPath('method[2].args.to'), ['method', 2, 'args', 'to'])
  t.same(parseSetPath('steady-state-hypothesis.probes[0].tolerance.min'), ['steady-state-hypothesis', 'probes', 0, 'tolerance', 'min'])
  t.same(parseSetPath('expect.onsetOrder[1][0]'), ['expect', 'onsetOrder', 1, 0])
  for (const bad of ['', '.a', 'a.', 'a..b', '[0]', 'a[x]', 'a[0', 'a b']) t.equal(parseSetPath(bad), undefined, bad)
})

t.test('validate prints a summary and exits 0, or every issue and exits 2', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, { 'ok.yaml': VALID, 'bad.yaml': VALID.replace('to: 4 }', 'to: 400 }').replace('timeScale: 10', 'timeScale: -1') })
  const out: string[] = []
  const err: string[] = []
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }
  t.equal(await validateCommand(path.join(dir, 'ok.yaml'), [], io), 0)
  t.same(out, [
    `${path.join(dir, 'ok.yaml')}: valid`,
    '  Kinesis front-end fleet crosses its OS thread limit',
    '  duration 100s, seed 7, 3 action(s) and 1 probe(s) in the method, 1 rollback(s)',
    '  fleets main: 4 front-ends, thread limit 18; services kinesis, cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page',
  ])
  t.same(err, [])
  out.length = 0
  t.equal(await validateCommand(path.join(dir, 'bad.yaml'), ['seed=3'], io), 2)
  t.same(err, [
    `${path.join(dir, 'bad.yaml')}: timeScale: expected a number > 0, got -1`,
    `${path.join(dir, 'bad.yaml')}: method[2].args.to: expected an integer in [0, 256], got 400`,
  ])
  t.same(out, [])
})

t.test('actions on processes and faults on calls to another service load with their arguments', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, {
    'x.yaml': `title: faults
topology: { fleets: { main: { frontends: 2, threadLimit: 40 } }, backends: 3 }
method:
  - { type: action, name: kill-backend, at: 1s, provider: kill, args: { service: kinesis-backend-3 } }
  - { type: action, name: slow-puts, at: 2s, provider: inject-fault, args: { service: cloudwatch, direction: outbound, kind: latency, delayMs: 1500, target: kinesis-endpoint-main, match: { operation: PutRecords } } }
  - { type: action, name: pause-fe, at: 3s, provider: pause, args: { service: kinesis-frontend-main-2 } }
`,
  })
  const e = await loadExperiment(path.join(dir, 'x.yaml'))
  t.same(
    e.method.map((a) => a.type === 'action' && a.args),
    [
      { provider: 'kill', service: 'kinesis-backend-3' },
      {
        provider: 'inject-fault',
        service: 'cloudwatch',
        direction: 'outbound',
        kind: 'latency',
        delayMs: 1500,
        target: 'kinesis-endpoint-main',
        match: { operation: 'PutRecords' },
      },
      { provider: 'pause', service: 'kinesis-frontend-main-2' },
    ],
  )
})
