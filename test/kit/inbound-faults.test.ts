// Inbound faults (kit/inbound-faults.ts) and the admin API that steers every service's faults
// (kit/service.ts): inject() where a response comes back, a real port where the connection dies.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { createService, PUBLIC, type Service } from '../../services/kit/index.js'
import { internalHeaders } from '../../services/kit/internal.js'

const TOKEN = 'kit-admin-token'
const AUTH = { authorization: `Bearer ${TOKEN}` }

function service(t: Test, opts: { adminToken?: string } = { adminToken: TOKEN }): Service & { served: () => number } {
  const svc = createService({ name: 'probe', logger: false, ...opts })
  let served = 0
  // Public, as an AWS API is: the faults are what is tested.
  svc.app.post('/', PUBLIC, async () => {
    served++
    return { served }
  })
  svc.app.get('/things/:id', PUBLIC, async () => {
    served++
    return { served }
  })
  t.teardown(() => svc.app.close())
  return Object.assign(svc, { served: () => served })
}

t.test('an inbound error rule answers in the AWS shape before the route runs', async (t) => {
  const svc = service(t)
  svc.inboundFaults.add({ id: 'no-puts', kind: 'error', status: 503, match: { operation: 'PutRecords' } })
  const hit = await svc.app.inject({ method: 'POST', url: '/', headers: { 'x-amz-target': 'Kinesis_20131202.PutRecords' }, payload: {} })
  t.equal(hit.statusCode, 503)
  t.equal(hit.headers['x-amzn-errortype'], 'ServiceUnavailable')
  t.same(hit.json(), { __type: 'ServiceUnavailable', message: 'injected fault no-puts' })
  t.equal(svc.served(), 0)
  const miss = await svc.app.inject({ method: 'POST', url: '/', headers: { 'x-amz-target': 'Kinesis_20131202.ListStreams' }, payload: {} })
  t.equal(miss.statusCode, 200, 'another operation is served')
  t.equal(svc.served(), 1)
})

t.test('an inbound latency rule delays the request, which is then served', async (t) => {
  const svc = service(t)
  svc.inboundFaults.add({ kind: 'latency', delayMs: 300, match: { method: 'GET', pathPrefix: '/things/' } })
  const started = performance.now()
  const res = await svc.app.inject({ method: 'GET', url: '/things/1' })
  t.ok(performance.now() - started >= 250, 'the delay was observed')
  t.equal(res.statusCode, 200)
  t.equal(svc.served(), 1)
})

t.test('/health, /metrics and /admin are never faulted, so a faulted service can still be observed and healed', async (t) => {
  const svc = service(t)
  svc.inboundFaults.add({ kind: 'error', status: 500 })
  t.equal((await svc.app.inject({ method: 'GET', url: '/things/1' })).statusCode, 500)
  t.equal((await svc.app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  t.equal((await svc.app.inject({ url: '/metrics', headers: internalHeaders(svc.app.service.internalToken) })).statusCode, 200)
  t.equal((await svc.app.inject({ method: 'GET', url: '/health?full=1' })).statusCode, 200)
  const healed = await svc.app.inject({ method: 'DELETE', url: '/admin/faults/inbound', headers: AUTH })
  t.same(healed.json(), { removed: 1 })
  t.equal((await svc.app.inject({ method: 'GET', url: '/things/1' })).statusCode, 200)
})

t.test('reset and hang rules drop the connection of a real client', async (t) => {
  const svc = service(t)
  svc.inboundFaults.add({ kind: 'reset', match: { pathPrefix: '/things/reset' } })
  svc.inboundFaults.add({ kind: 'hang', delayMs: 300, match: { pathPrefix: '/things/hang' } })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`
  const reset = await request(`${url}/things/reset`).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  )
  t.equal(reset?.code, 'UND_ERR_SOCKET', 'the connection closed without an answer')
  const started = performance.now()
  const hung = await request(`${url}/things/hang`).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  )
  t.ok(performance.now() - started >= 250, 'held until delayMs')
  t.equal(hung?.code, 'UND_ERR_SOCKET')
  t.equal(svc.served(), 0)
  t.equal((await request(`${url}/things/ok`)).statusCode, 200, 'other paths still served')
})

t.test('the admin API needs the run bearer token, and is off without one', async (t) => {
  const svc = service(t)
  const none = await svc.app.inject({ method: 'GET', url: '/admin/faults/inbound' })
  t.equal(none.statusCode, 401)
  t.same(none.json(), { __type: 'UnrecognizedClientException', message: 'missing or wrong admin bearer token' })
  const wrong = await svc.app.inject({ method: 'GET', url: '/admin/faults/inbound', headers: { authorization: `Bearer ${TOKEN}x` } })
  t.equal(wrong.statusCode, 401)
  const basic = await svc.app.inject({ method: 'GET', url: '/admin/faults/inbound', headers: { authorization: TOKEN } })
  t.equal(basic.statusCode, 401, 'the token alone, without "Bearer", is refused')
  const right = await svc.app.inject({ method: 'GET', url: '/admin/faults/outbound', headers: AUTH })
  t.equal(right.statusCode, 200)
  t.same(right.json(), { rules: [] })
  const refused = await svc.app.inject({ method: 'POST', url: '/admin/faults/inbound', payload: { kind: 'error' } })
  t.equal(refused.statusCode, 401)
  t.equal(svc.inboundFaults.size, 0, 'a refused call changes nothing')

  const off = service(t, {})
  const disabled = await off.app.inject({ method: 'GET', url: '/admin/faults/inbound', headers: AUTH })
  t.equal(disabled.statusCode, 403)
  t.same(disabled.json(), { __type: 'AccessDeniedException', message: 'admin API disabled: no OUTAGE_LAB_ADMIN_TOKEN' })
})

t.test('rules added through the admin API get defaults, are listed, and are removed one by one or all at once', async (t) => {
  const svc = service(t)
  const added = await svc.app.inject({
    method: 'POST',
    url: '/admin/faults/outbound',
    headers: AUTH,
    payload: { id: 'kinesis-down', kind: 'error', match: { origin: 'http://127.0.0.1:4100' } },
  })
  t.equal(added.statusCode, 201)
  t.same(added.json(), {
    id: 'kinesis-down',
    kind: 'error',
    match: { origin: 'http://127.0.0.1:4100' },
    probability: 1,
    delayMs: 0,
    status: 500,
    errorType: 'InternalFailure',
  })
  const second = await svc.app.inject({
    method: 'POST',
    url: '/admin/faults/outbound',
    headers: AUTH,
    payload: { kind: 'latency', delayMs: 50, probability: 0.5 },
  })
  t.match(second.json(), { id: /^fault-\d+$/, kind: 'latency', delayMs: 50, probability: 0.5 })
  t.equal(svc.outboundFaults.size, 2, 'the rules steer the set handed to createOutbound()')
  const replaced = await svc.app.inject({ method: 'POST', url: '/admin/faults/outbound', headers: AUTH, payload: { id: 'kinesis-down', kind: 'reset' } })
  t.equal(replaced.statusCode, 201)
  const listed = (await svc.app.inject({ method: 'GET', url: '/admin/faults/outbound', headers: AUTH })).json()
  t.same(
    listed.rules.map((r: { id: string; kind: string }) => r.kind),
    ['latency', 'reset'],
    'adding an existing id replaces that rule',
  )

  const removed = await svc.app.inject({ method: 'DELETE', url: '/admin/faults/outbound/kinesis-down', headers: AUTH })
  t.same(removed.json(), { removed: 'kinesis-down' })
  const missing = await svc.app.inject({ method: 'DELETE', url: '/admin/faults/outbound/kinesis-down', headers: AUTH })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { __type: 'ResourceNotFoundException', message: 'no outbound fault kinesis-down' })
  t.same((await svc.app.inject({ method: 'DELETE', url: '/admin/faults/outbound', headers: AUTH })).json(), { removed: 1 })
  t.equal(svc.outboundFaults.size, 0)
  t.equal(svc.inboundFaults.size, 0, 'inbound and outbound rules are separate sets')
})

t.test('a bad rule is refused with a ValidationException naming the field', async (t) => {
  const svc = service(t)
  const cases: Array<[unknown, string]> = [
    [['kind', 'error'], 'fault rule: (rule): expected an object, got ["kind","error"]'],
    [{ kind: 'slow' }, 'fault rule: kind: expected one of latency, error, reset, hang, got "slow"'],
    [{}, 'fault rule: kind: expected one of latency, error, reset, hang, got undefined'],
    [{ kind: 'error', probability: 2 }, 'fault rule: probability: expected a number in [0, 1], got 2'],
    [{ kind: 'error', probability: '0.5' }, 'fault rule: probability: expected a number in [0, 1], got "0.5"'],
    [{ kind: 'hang', delayMs: -1 }, 'fault rule: delayMs: expected a number of milliseconds >= 0, got -1'],
    [{ kind: 'latency' }, 'fault rule: delayMs: expected a delay > 0 for a latency fault, got undefined'],
    [{ kind: 'error', status: 200 }, 'fault rule: status: expected an HTTP error status 400..599, got 200'],
    [{ kind: 'error', status: 503.5 }, 'fault rule: status: expected an HTTP error status 400..599, got 503.5'],
    [{ kind: 'error', errorType: '' }, 'fault rule: errorType: expected a non-empty string, got ""'],
    [{ kind: 'error', match: ['x'] }, 'fault rule: match: expected an object, got ["x"]'],
    [{ kind: 'error', match: { host: 'x' } }, 'fault rule: match.host: expected one of origin, pathPrefix, method, operation, got "host"'],
    [{ kind: 'error', match: { origin: 4100 } }, 'fault rule: match.origin: expected a string, got 4100'],
    [{ kind: 'error', id: 7 }, 'fault rule: id: expected a non-empty string, got 7'],
  ]
  for (const [payload, message] of cases) {
    const res = await svc.app.inject({
      method: 'POST',
      url: '/admin/faults/inbound',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    })
    t.equal(res.statusCode, 400, message)
    t.same(res.json(), { __type: 'ValidationException', message })
  }
  t.equal(svc.inboundFaults.size, 0, 'no bad rule was added')
})
