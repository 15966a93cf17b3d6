// One definition per provider: the validator reads each provider's args from it (keys, shape,
// messages), the action's args come out typed, and run() is what the runner calls. The inject-fault
// provider turns a `target` into match.origin itself, against a real admin endpoint on port 0.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROVIDERS, PROVIDER_NAMES, isProviderName, type ActionContext } from '../../harness/faults/index.js'
import { validateExperiment } from '../../harness/experiment/schema.js'
import type { StartedTopology } from '../../harness/platform/started.js'

const base = (action: Record<string, unknown>) => ({
  title: 'x',
  topology: { fleets: { main: { frontends: 2, threadLimit: 10 } } },
  method: [{ type: 'action', name: 'a', at: '1s', ...action }],
})

t.test('every provider is one definition named after its key, in the order messages list them', async (t) => {
  t.same(PROVIDER_NAMES, [
    'scale-fleet',
    'restart-fleet',
    'kill',
    'pause',
    'resume',
    'restart',
    'inject-fault',
    'clear-faults',
    'set-thread-limit',
    'partition',
    'heal-partition',
    'post-status',
    'wait',
  ])
  for (const name of PROVIDER_NAMES) t.equal(PROVIDERS[name].name, name)
  t.ok(isProviderName('kill'))
  t.notOk(isProviderName('nuke-fleet'))
  t.notOk(isProviderName('toString'), 'not an inherited key')
})

t.test("the validator reports a provider's args in its definition's words", async (t) => {
  const r = validateExperiment(base({ provider: 'set-thread-limit', args: { fleet: 'main', to: 0, by: 2 } }))
  t.same(r.ok ? [] : r.issues, [
    { path: 'method[0].args.by', expected: 'a known key (fleet, to)', got: '"by"' },
    { path: 'method[0].args.to', expected: 'an integer in [1, 100000]', got: '0' },
  ])
  const none = validateExperiment(base({ provider: 'kill' }))
  t.same(none.ok ? [] : none.issues, [{ path: 'method[0].args', expected: `${PROVIDERS.kill.args.shape} for kill`, got: 'nothing' }])
})

t.test("a well-formed action's args carry the provider and the definition's typed, defaulted values", async (t) => {
  const r = validateExperiment(base({ provider: 'restart-fleet', args: { fleet: 'main', ratePerSec: 2, waitReady: true } }))
  if (!r.ok) return t.fail(JSON.stringify(r.issues))
  t.same(r.experiment.method[0], {
    type: 'action',
    name: 'a',
    atMs: 1000,
    provider: 'restart-fleet',
    args: { provider: 'restart-fleet', fleet: 'main', ratePerSec: 2, waitReady: true },
  })
})

t.test('an inject-fault target becomes match.origin inside the provider, from the topology it runs on', async (t) => {
  const bodies: unknown[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      bodies.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(body) })
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ id: 'r1' }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const topology = { adminToken: 'tok', endpoints: () => ({ kinesis: 'http://127.0.0.1:4100/', services: { cognito: url } }) } as unknown as StartedTopology
  const ctx: ActionContext = { topology }

  const result = await PROVIDERS['inject-fault'].run(
    { service: 'cognito', direction: 'outbound', kind: 'error', status: 500, target: 'kinesis', match: { operation: 'PutRecords' } },
    ctx,
  )
  t.same(result, { service: 'cognito', direction: 'outbound', rule: { id: 'r1' } })
  t.same(bodies, [
    {
      url: '/admin/faults/outbound',
      auth: 'Bearer tok',
      body: { kind: 'error', status: 500, match: { operation: 'PutRecords', origin: 'http://127.0.0.1:4100' } },
    },
  ])

  await t.rejects(PROVIDERS['inject-fault'].run({ service: 'cognito', direction: 'outbound', kind: 'reset', target: 'lambda' }, ctx), {
    name: 'ActionFailed',
    message: 'no service named lambda to match the calls to',
  })
})
