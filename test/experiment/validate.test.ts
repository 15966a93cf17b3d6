import t from 'tap'
import path from 'node:path'
import { loadExperiment } from '../../harness/experiment/index.js'
import { VALID, failure, writeFiles } from './helpers.js'

const swap = (from: string, to: string) => {
  if (!VALID.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return VALID.replace(from, to)
}

// The valid fixture with one customer service (the user's own) in its topology.
const SERVICES_LINE = '  services: [cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page]\n'
const CUSTOMER = `    - name: shop
      command: [node, server.mjs]
      workload: { rate: 5, method: POST, path: /orders, body: '{"id": {{seq}}}' }
`
const withCustomers = (customers: string, extra = '') => swap(SERVICES_LINE, `${SERVICES_LINE}  customers:\n${customers}`) + extra
const customerSwap = (from: string, to: string, extra = '') => {
  if (!CUSTOMER.includes(from)) throw new Error(`customer fixture does not contain ${from}`)
  return withCustomers(CUSTOMER.replace(from, to), extra)
}

interface Case {
  name: string
  files: Record<string, string>
  load?: string
  sets?: string[]
  message: string
}

const cases: Case[] = [
  {
    name: 'bad YAML syntax names the line and column',
    files: { 'x.yaml': 'title: x\nmethod:\n  - { type: action, name: a\n  - b\n' },
    message: 'DIR/x.yaml: line 4, column 3: expected valid YAML, got Flow map in block collection must be sufficiently indented and end with a }',
  },
  {
    name: 'a key written twice is a YAML error',
    files: { 'x.yaml': 'title: x\ntitle: y\nmethod: []\n' },
    message: 'DIR/x.yaml: line 2, column 1: expected valid YAML, got Map keys must be unique',
  },
  {
    name: 'a file that is not a map',
    files: { 'x.yaml': '- title: x\n' },
    message: 'DIR/x.yaml: (top level): expected a map of experiment keys (title, method, ...), got [{"title":"x"}]',
  },
  {
    name: 'an unknown top-level key',
    files: { 'x.yaml': VALID + 'titel: typo\n' },
    message:
      'DIR/x.yaml: titel: expected a known key (title, description, tags, extends, timeScale, duration, seed, topology, workload, slo, steady-state-hypothesis, method, rollbacks, expect), got "titel"',
  },
  {
    name: 'a wrong type',
    files: { 'x.yaml': swap('timeScale: 10', 'timeScale: fast') },
    message: 'DIR/x.yaml: timeScale: expected a number > 0, got "fast"',
  },
  {
    name: 'a duration without a unit',
    files: { 'x.yaml': swap('duration: 100s', 'duration: 100') },
    message: 'DIR/x.yaml: duration: expected a duration like 20s, 1500ms or 2m (more than 0), got 100',
  },
  {
    name: 'the title is required',
    files: { 'x.yaml': swap('title: Kinesis front-end fleet crosses its OS thread limit\n', '') },
    message: 'DIR/x.yaml: title: expected a non-empty string, got nothing',
  },
  {
    name: 'an unknown provider',
    files: { 'x.yaml': swap('provider: scale-fleet, args: { fleet: main, to: 4 }', 'provider: nuke-fleet, args: { fleet: main, to: 4 }') },
    message:
      'DIR/x.yaml: method[2].provider: expected one of scale-fleet, restart-fleet, kill, pause, resume, restart, inject-fault, clear-faults, set-thread-limit, partition, heal-partition, post-status, wait, got "nuke-fleet"',
  },
  {
    name: 'scale-fleet: to must be an integer in range',
    files: { 'x.yaml': swap('args: { fleet: main, to: 4 }', 'args: { fleet: main, to: ten }') },
    message: 'DIR/x.yaml: method[2].args.to: expected an integer in [0, 256], got "ten"',
  },
  {
    name: 'scale-fleet: an unknown argument names the provider and its shape',
    files: { 'x.yaml': swap('args: { fleet: main, to: 4 }', 'args: { fleet: main, to: 4, count: 4 }') },
    message: 'DIR/x.yaml: method[2].args.count: expected a known key (fleet, to, stepEvery), got "count"',
  },
  {
    name: 'scale-fleet: args missing altogether',
    files: { 'x.yaml': swap(', args: { fleet: main, to: 4 }', '') },
    message: 'DIR/x.yaml: method[2].args: expected {fleet, to, stepEvery?} for scale-fleet, got nothing',
  },
  {
    name: 'restart-fleet needs a pace or all',
    files: { 'x.yaml': swap('args: { fleet: main, ratePerSec: 1 }', 'args: { fleet: main }') },
    message: 'DIR/x.yaml: method[3].args: expected ratePerSec (members per second) or all: true for restart-fleet, got neither',
  },
  {
    name: 'restart-fleet: waitReady paces a rate, it means nothing with all: true',
    files: { 'x.yaml': swap('args: { fleet: main, ratePerSec: 1 }', 'args: { fleet: main, all: true, waitReady: true }') },
    message: 'DIR/x.yaml: method[3].args.waitReady: expected nothing with all: true (it paces a rate: each member waits for the previous one), got true',
  },
  {
    name: 'inject-fault: a latency fault needs its delay, the direction is checked',
    files: {
      'x.yaml': swap(
        'provider: restart-fleet, args: { fleet: main, ratePerSec: 1 }',
        'provider: inject-fault, args: { service: cognito, direction: sideways, kind: latency }',
      ),
    },
    message: [
      'DIR/x.yaml: method[3].args.direction: expected one of inbound, outbound, got "sideways"',
      'DIR/x.yaml: method[3].args.delayMs: expected a delay in ms > 0 for a latency fault, got nothing',
    ].join('\n'),
  },
  {
    name: 'post-status: the path is primary or backup',
    files: { 'x.yaml': swap('provider: restart-fleet, args: { fleet: main, ratePerSec: 1 }', 'provider: post-status, args: { path: email, message: hi }') },
    message: 'DIR/x.yaml: method[3].args.path: expected one of primary, backup, got "email"',
  },
  {
    name: 'wait: for is a duration',
    files: { 'x.yaml': swap('provider: restart-fleet, args: { fleet: main, ratePerSec: 1 }', 'provider: wait, args: { for: soon }') },
    message: 'DIR/x.yaml: method[3].args.for: expected a duration like 20s, 1500ms or 2m (more than 0), got "soon"',
  },
  {
    name: 'an action at an offset beyond the duration',
    files: { 'x.yaml': swap('at: 60s', 'at: 2m') },
    message: 'DIR/x.yaml: method[3].at: expected an offset within duration (100s), got "2m"',
  },
  {
    name: 'an action on a fleet the topology does not have',
    files: { 'x.yaml': swap('args: { fleet: main, to: 10 }', 'args: { fleet: cloudwatch, to: 10 }') },
    message: 'DIR/x.yaml: method[0].args.fleet: expected a fleet of topology.fleets (main), got "cloudwatch"',
  },
  {
    name: 'kill names a process this run does not have',
    files: { 'x.yaml': swap('provider: restart-fleet, args: { fleet: main, ratePerSec: 1 }', 'provider: kill, args: { service: kinesis-backend-3 }') },
    message:
      'DIR/x.yaml: method[3].args.service: expected a service of this run or a Kinesis process (kinesis-metadata, kinesis-backend-N, kinesis-endpoint-FLEET, kinesis-frontend-FLEET-N); this run has kinesis, cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page, got "kinesis-backend-3"',
  },
  {
    name: 'a probe with both a measure and a metric, and no tolerance',
    files: { 'x.yaml': swap('measure: successRatio, window: 3s, tolerance: { min: 0.99 }', 'measure: successRatio, metric: x, window: 3s') },
    message: [
      'DIR/x.yaml: steady-state-hypothesis.probes[0]: expected measure (successRatio or p99Ms) or metric, not both, got both',
      'DIR/x.yaml: steady-state-hypothesis.probes[0].tolerance: expected a tolerance {min?, max?} with at least one bound, got nothing',
    ].join('\n'),
  },
  {
    name: 'two activities with the same name',
    files: { 'x.yaml': swap('name: remove-capacity', 'name: add-capacity') },
    message: 'DIR/x.yaml: method[2].name: expected a name no other activity uses (method[0] has it), got "add-capacity"',
  },
  {
    name: 'a service in expect that this run does not have',
    files: {
      'x.yaml': swap(
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]',
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito, dynamodb]',
      ),
    },
    message: 'DIR/x.yaml: expect.impacted[5]: expected one of kinesis, cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page, got "dynamodb"',
  },
  {
    name: 'onsetOrder names a service expect.impacted does not list',
    files: { 'x.yaml': swap('[cloudwatch, eventbridge], [lambda]', '[cloudwatch, eventbridge, autoscaler], [lambda]') },
    message:
      'DIR/x.yaml: expect.onsetOrder[1][2]: expected a service listed in expect.impacted (kinesis, cloudwatch, eventbridge, lambda, cognito), got "autoscaler"',
  },
  {
    name: 'expect.cause names no service of the run',
    files: {
      'x.yaml': swap(
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]',
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]\n  cause: { lambda: dynamodb }',
      ),
    },
    message:
      'DIR/x.yaml: expect.cause.lambda: expected one of kinesis, cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page, trigger, got "dynamodb"',
  },
  {
    name: 'expect.cause of a service expect.impacted does not list',
    files: {
      'x.yaml': swap(
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]',
        'impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]\n  cause: { autoscaler: kinesis }',
      ),
    },
    message:
      'DIR/x.yaml: expect.cause.autoscaler: expected a service listed in expect.impacted (kinesis, cloudwatch, eventbridge, lambda, cognito), got "autoscaler"',
  },
  {
    name: 'a service whose dependency is left out of the topology',
    files: { 'x.yaml': swap('services: [cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page]', 'services: [cognito, lambda]') },
    message: [
      'DIR/x.yaml: topology.services[1]: expected cloudwatch in topology.services too (lambda depends on it), got "lambda"',
      'DIR/x.yaml: expect.impacted[1]: expected a service of this run (kinesis, cognito, lambda), got "cloudwatch"',
      'DIR/x.yaml: expect.impacted[2]: expected a service of this run (kinesis, cognito, lambda), got "eventbridge"',
    ].join('\n'),
  },
  {
    name: 'extends a file that does not exist',
    files: { 'x.yaml': 'extends: ./base.yaml\ntitle: child\n' },
    message: 'DIR/x.yaml: extends: expected a readable experiment file (DIR/base.yaml), got "./base.yaml", which does not exist',
  },
  {
    name: 'extends in a cycle',
    files: { 'x.yaml': 'extends: ./a.yaml\ntitle: x\n', 'a.yaml': 'extends: ./b.yaml\n', 'b.yaml': 'extends: ./a.yaml\n' },
    message: 'DIR/b.yaml: extends: expected a base experiment that does not extend this one again, got a cycle DIR/a.yaml -> DIR/b.yaml -> DIR/a.yaml',
  },
  {
    name: 'a YAML error in a base file names the base file',
    files: { 'x.yaml': 'extends: ./a.yaml\ntitle: x\n', 'a.yaml': 'title: [\n' },
    message: 'DIR/a.yaml: line 2, column 1: expected valid YAML, got Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'a --set path that is not a path',
    files: { 'x.yaml': VALID },
    sets: ['method[two].at=5s'],
    message: 'DIR/x.yaml: --set: expected path=value with a path like topology.fleets.main.threadLimit or method[2].args.to, got "method[two].at=5s"',
  },
  {
    name: 'a --set index past the end of the list',
    files: { 'x.yaml': VALID },
    sets: ['method[7].at=5s'],
    message: 'DIR/x.yaml: --set method[7]: expected an index in [0, 3] (method has 4 entries), got 7',
  },
  {
    name: 'a --set cannot choose a base experiment',
    files: { 'x.yaml': VALID },
    sets: ['extends=./other.yaml'],
    message: 'DIR/x.yaml: --set: expected a path other than extends (a base is chosen in the file), got "extends=./other.yaml"',
  },
  {
    name: 'a --set value is validated like one written in the file',
    files: { 'x.yaml': VALID },
    sets: ['topology.fleets.main.threadLimit=lots'],
    message: 'DIR/x.yaml: topology.fleets.main.threadLimit: expected an integer in [1, 100000], got "lots"',
  },
  {
    name: 'expect.delivered: the customer must be a customer service of the run',
    files: { 'x.yaml': withCustomers(CUSTOMER, '  delivered: [{ customer: cart, stream: clicks }]\n') },
    message: 'DIR/x.yaml: expect.delivered[0].customer: expected a customer service of this run (topology.customers: shop), got "cart"',
  },
  {
    name: 'expect.delivered: a stream is required, within is a duration',
    files: { 'x.yaml': withCustomers(CUSTOMER, '  delivered: [{ customer: shop, within: soon }]\n') },
    message:
      'DIR/x.yaml: expect.delivered[0].stream: expected a non-empty string, got nothing\nDIR/x.yaml: expect.delivered[0].within: expected a duration like 20s, 1500ms or 2m, got "soon"',
  },
  {
    name: "expect.delivered: the check must end inside the stream's retention (24 h, scaled by timeScale)",
    files: { 'x.yaml': withCustomers(CUSTOMER, '  delivered: [{ customer: shop, stream: clicks, within: 5m }]\n') },
    message:
      "DIR/x.yaml: expect.delivered[0]: expected a run shorter than the stream's retention (24 h at timeScale 10: 240 s), or a larger timeScale: its first events would be trimmed before the check, got a run of up to 409 s from the first steady-state window to the end of within",
  },
  {
    name: 'customers: a list of services, not one',
    files: { 'x.yaml': swap(SERVICES_LINE, `${SERVICES_LINE}  customers: shop\n`) },
    message:
      'DIR/x.yaml: topology.customers: expected a list of customer services, each a customer service {name, command (local) | image | build (compose), workload: {rate, method?, path?, body?}}, got "shop"',
  },
  {
    name: 'customers: the workload rate is a number of calls per second',
    files: { 'x.yaml': customerSwap('rate: 5', 'rate: lots') },
    message: 'DIR/x.yaml: topology.customers[0].workload.rate: expected a number in (0, 10000], got "lots"',
  },
  {
    name: 'customers: a workload is required',
    files: { 'x.yaml': customerSwap(`      workload: { rate: 5, method: POST, path: /orders, body: '{"id": {{seq}}}' }\n`, '') },
    message: 'DIR/x.yaml: topology.customers[0].workload: expected a workload {rate, method?, path?, body?, headers?, clientTimeout?}, got nothing',
  },
  {
    name: 'customers: an unknown key names the known ones',
    files: { 'x.yaml': customerSwap('command: [node, server.mjs]', 'cmd: [node, server.mjs]') },
    message: [
      'DIR/x.yaml: topology.customers[0].cmd: expected a known key (name, command, cwd, env, image, build, port, health, metrics, readyTimeout, workload), got "cmd"',
      'DIR/x.yaml: topology.customers[0]: expected command (to run it on the local platform), image or build (compose), got none of them',
    ].join('\n'),
  },
  {
    name: "customers: a name of the lab's is refused, and each name once",
    files: { 'x.yaml': withCustomers(CUSTOMER.replace('name: shop', 'name: cognito') + CUSTOMER + CUSTOMER) },
    message: [
      'DIR/x.yaml: topology.customers[0].name: expected a name of the user\'s own (cognito is a service of the lab), got "cognito"',
      'DIR/x.yaml: topology.customers[2].name: expected a name no other customer uses (topology.customers[1] has it), got "shop"',
    ].join('\n'),
  },
  {
    name: 'customers: a placeholder the workload does not know',
    files: { 'x.yaml': customerSwap('{{seq}}', '{{order}}') },
    message: 'DIR/x.yaml: topology.customers[0].workload.body: expected placeholders among {{seq}}, {{random}}, {{now}}, {{customer}}, got "{{order}}"',
  },
  {
    name: 'customers: a GET sends no body, the path starts with /',
    files: { 'x.yaml': customerSwap('method: POST, path: /orders', 'method: GET, path: orders') },
    message: [
      'DIR/x.yaml: topology.customers[0].workload.path: expected a path starting with /, got "orders"',
      'DIR/x.yaml: topology.customers[0].workload.body: expected a method that sends a body (POST, PUT, PATCH, DELETE), got GET',
    ].join('\n'),
  },
  {
    name: 'customers: env values are scalars, health a path, the port a port',
    files: {
      'x.yaml': customerSwap('command: [node, server.mjs]', 'command: [node, server.mjs]\n      env: { MODE: [a] }\n      health: healthz\n      port: 70000'),
    },
    message: [
      'DIR/x.yaml: topology.customers[0].health: expected a path starting with / (like /health), got "healthz"',
      'DIR/x.yaml: topology.customers[0].env.MODE: expected a string, number or boolean, got ["a"]',
      'DIR/x.yaml: topology.customers[0].port: expected an integer in [1, 65535], got 70000',
    ].join('\n'),
  },
  {
    name: 'customers: the working directory is relative to the experiment file and must exist',
    files: { 'x.yaml': customerSwap('command: [node, server.mjs]', 'command: [node, server.mjs]\n      cwd: ./shop') },
    message:
      'DIR/x.yaml: topology.customers[0].cwd: expected a folder (relative to the experiment file that names the customer), got "./shop" (DIR/shop), which is not a folder',
  },
  {
    name: 'customers: an SLO for a customer the topology does not have',
    files: { 'x.yaml': withCustomers(CUSTOMER, 'slo:\n  shopp: { minSuccessRatio: 0.9 }\n') },
    message: 'DIR/x.yaml: slo.shopp: expected a known key (kinesis, cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page, shop), got "shopp"',
  },
  {
    name: 'customers: expect names them like the lab services, and no other',
    files: {
      'x.yaml': withCustomers(CUSTOMER).replace('onsetOrder: [[kinesis], [cloudwatch, eventbridge], [lambda], [cognito]]', 'onsetOrder: [[kinesis], [shop]]'),
    },
    message:
      'DIR/x.yaml: expect.onsetOrder[1][0]: expected a service listed in expect.impacted (kinesis, cloudwatch, eventbridge, lambda, cognito), got "shop"',
  },
  {
    name: 'every schema issue of a file is reported at once',
    files: { 'x.yaml': swap('timeScale: 10', 'timeScale: 0').replace('seed: 7', 'seed: -1') },
    message: ['DIR/x.yaml: timeScale: expected a number > 0, got 0', 'DIR/x.yaml: seed: expected an integer in [0, 2147483647], got -1'].join('\n'),
  },
]

t.test('malformed experiments fail with the file, the path and what was expected', async (t) => {
  t.ok(cases.length >= 15)
  for (const c of cases) {
    const dir = t.testdir()
    writeFiles(dir, c.files)
    t.equal(await failure(dir, c.load ?? 'x.yaml', { sets: c.sets }), c.message, c.name)
  }
})

t.test('the valid fixture loads', async (t) => {
  const dir = t.testdir()
  writeFiles(dir, { 'x.yaml': VALID })
  t.equal(await failure(dir, 'x.yaml'), '(loaded without error)')
})

t.test('a customer service loads with its defaults, its paths relative to the file that names it', async (t) => {
  const dir = t.testdir()
  const child = `extends: ../base/x.yaml
slo:
  shop: { maxP99Ms: 800 }
expect:
  impacted: [kinesis, shop]
  onsetOrder: [[kinesis], [shop]]
`
  writeFiles(dir, {
    'base/x.yaml': customerSwap('command: [node, server.mjs]', 'command: node server.mjs\n      cwd: ./app'),
    'base/app/.keep': '',
    'child/c.yaml': child,
  })
  const e = await loadExperiment(path.join(dir, 'child/c.yaml'))
  const [c] = e.topology.customers
  t.same(c, {
    name: 'shop',
    command: ['/bin/sh', '-c', 'node server.mjs'],
    cwd: path.join(dir, 'base/app'),
    env: {},
    port: 8080,
    readyTimeoutMs: 30_000,
    workload: { ratePerSec: 5, method: 'POST', path: '/orders', body: '{"id": {{seq}}}', headers: {}, clientTimeoutMs: 2_000 },
  })
  t.same(e.slo.shop, { minSuccessRatio: 0.95, maxP99Ms: 800 }, "the customer's SLO: the lab's defaults, then slo.shop")
  t.same(e.expect.impacted, ['kinesis', 'shop'])
})
