// Outbound faults (kit/outbound.ts + kit/faults.ts): the undici interceptor against real servers on
// port 0, scripted rule by rule, as undici tests its own interceptors.
import t, { type Test } from 'tap'
import http from 'node:http'
import { Agent, request, type Dispatcher } from 'undici'
import { createOutbound, faultInterceptor, FaultSet } from '../../services/kit/index.js'

interface Upstream {
  url: string
  hits: string[]
}

async function startUpstream(t: Test, name: string): Promise<Upstream> {
  const hits: string[] = []
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ upstream: name }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  t.teardown(() => server.closeAllConnections())
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits }
}

function outbound(t: Test, faults: FaultSet): Dispatcher {
  const d = createOutbound(faults, { timeoutMs: 5_000 })
  t.teardown(() => d.destroy())
  return d
}

async function call(dispatcher: Dispatcher, url: string, opts: { method?: string; headers?: Record<string, string> | string[]; signal?: AbortSignal } = {}) {
  const res = await request(url, { dispatcher, method: (opts.method ?? 'GET') as Dispatcher.HttpMethod, headers: opts.headers, signal: opts.signal })
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> }
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the call succeeded')
    },
    (err: Error & { code?: string }) => err,
  )

t.test('no rule: calls go through untouched', async (t) => {
  const up = await startUpstream(t, 'a')
  const d = outbound(t, new FaultSet())
  t.same((await call(d, `${up.url}/x`)).body, { upstream: 'a' })
  t.same(up.hits, ['GET /x'])
})

t.test('latency delays the call, which then reaches the dependency', async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  faults.add({ id: 'slow', kind: 'latency', delayMs: 300 })
  const d = outbound(t, faults)
  const started = performance.now()
  const res = await call(d, `${up.url}/slow`)
  t.ok(performance.now() - started >= 250, 'the delay was observed')
  t.same(res.body, { upstream: 'a' })
  t.same(up.hits, ['GET /slow'])
})

t.test("latency still honours the caller's AbortSignal (its timeout)", async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  faults.add({ kind: 'latency', delayMs: 3_600_000 })
  const d = outbound(t, faults)
  const err = await failure(call(d, `${up.url}/x`, { signal: AbortSignal.timeout(100) }))
  t.equal(err.name, 'TimeoutError', 'the caller gave up after its own timeout, not after an hour')
  t.same(up.hits, [], 'the aborted call never reached the dependency')
})

t.test('error answers in the AWS shape without reaching the dependency', async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  faults.add({ id: 'down', kind: 'error', status: 503, match: { pathPrefix: '/down' } })
  faults.add({ id: 'throttled', kind: 'error', status: 400, errorType: 'ProvisionedThroughputExceededException', match: { pathPrefix: '/throttled' } })
  faults.add({ id: 'bad', kind: 'error', status: 400, match: { pathPrefix: '/bad' } })
  faults.add({ id: 'broken', kind: 'error', match: { pathPrefix: '/broken' } })
  const d = outbound(t, faults)
  const down = await call(d, `${up.url}/down`)
  t.equal(down.status, 503)
  t.equal(down.headers['content-type'], 'application/x-amz-json-1.1')
  t.equal(down.headers['x-amzn-errortype'], 'ServiceUnavailable')
  t.same(down.body, { __type: 'ServiceUnavailable', message: 'injected fault down' })
  const throttled = await call(d, `${up.url}/throttled`)
  t.equal(throttled.status, 400)
  t.same(throttled.body, { __type: 'ProvisionedThroughputExceededException', message: 'injected fault throttled' })
  t.same((await call(d, `${up.url}/bad`)).body, { __type: 'ValidationException', message: 'injected fault bad' }, 'a 4xx defaults to ValidationException')
  const broken = await call(d, `${up.url}/broken`)
  t.equal(broken.status, 500, 'status defaults to 500')
  t.same(broken.body, { __type: 'InternalFailure', message: 'injected fault broken' })
  t.same(up.hits, [])
})

t.test('reset fails the call with ECONNRESET', async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  faults.add({ id: 'rst', kind: 'reset' })
  const d = outbound(t, faults)
  const err = await failure(call(d, `${up.url}/x`, { method: 'POST' }))
  t.equal(err.code, 'ECONNRESET')
  t.equal(err.message, 'socket reset (injected fault rst)')
  t.same(up.hits, [])
})

t.test('hang holds the call until delayMs, then drops it; an AbortSignal ends it sooner', async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  faults.add({ id: 'hang-short', kind: 'hang', delayMs: 300, match: { pathPrefix: '/short' } })
  faults.add({ id: 'hang-forever', kind: 'hang', match: { pathPrefix: '/forever' } })
  t.equal(faults.list()[1].delayMs, 3_600_000, 'a hang without delayMs lasts an hour')
  const d = outbound(t, faults)
  const started = performance.now()
  const dropped = await failure(call(d, `${up.url}/short`))
  t.ok(performance.now() - started >= 250, 'held at least until delayMs')
  t.equal(dropped.code, 'UND_ERR_SOCKET')
  t.equal(dropped.message, 'socket hang up (injected fault hang-short)')

  const gone = new AbortController()
  setTimeout(() => gone.abort(new Error('caller gave up')), 50)
  const aborted = await failure(call(d, `${up.url}/forever`, { signal: gone.signal }))
  t.equal(aborted.message, 'caller gave up', "the caller's abort reason ends the hang")
  const timedOut = await failure(call(d, `${up.url}/forever`, { signal: AbortSignal.timeout(50) }))
  t.equal(timedOut.name, 'TimeoutError')
  t.same(up.hits, [])
})

t.test('probability draws from the seed: the same seed hits the same calls, another seed others', async (t) => {
  const up = await startUpstream(t, 'a')
  const run = async (seed: number) => {
    const faults = new FaultSet(seed)
    faults.add({ id: 'flaky', kind: 'error', status: 503, probability: 0.3 })
    const d = outbound(t, faults)
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) statuses.push((await call(d, `${up.url}/p`)).status)
    return statuses.map((s) => (s === 503 ? 'x' : '.')).join('')
  }
  const first = await run(42)
  const again = await run(42)
  const other = await run(7)
  t.equal(again, first, `seed 42 repeats: ${first}`)
  t.not(other, first, `seed 7 differs: ${other}`)
  const hits = [...first].filter((c) => c === 'x').length
  t.ok(hits > 0 && hits < 40, `some calls hit, some passed (${hits} of 40)`)
  t.equal(up.hits.length, 120 - [...(first + again + other)].filter((c) => c === 'x').length, 'every call not hit reached the dependency')

  const never = new FaultSet(1)
  never.add({ kind: 'error', probability: 0 })
  t.equal(never.pick({ path: '/', method: 'GET' }), undefined, 'probability 0 never hits')
})

t.test('rules match by origin, path prefix, method and operation; the first match wins', async (t) => {
  const [a, b] = await Promise.all([startUpstream(t, 'a'), startUpstream(t, 'b')])
  const faults = new FaultSet()
  faults.add({ id: 'only-b', kind: 'error', status: 503, match: { origin: b.url } })
  faults.add({ id: 'puts', kind: 'error', status: 400, errorType: 'ProvisionedThroughputExceededException', match: { operation: 'PutRecords' } })
  faults.add({ id: 'deletes', kind: 'error', status: 500, match: { method: 'delete', pathPrefix: '/streams/' } })
  const d = outbound(t, faults)

  t.equal((await call(d, `${a.url}/x`)).status, 200, 'another origin is untouched')
  t.same((await call(d, `${b.url}/x`)).body, { __type: 'ServiceUnavailable', message: 'injected fault only-b' })
  t.same(
    (await call(d, `${b.url}/x`, { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.PutRecords' } })).body.message,
    'injected fault only-b',
    'the first matching rule wins',
  )

  const put = await call(d, `${a.url}/`, { method: 'POST', headers: { 'X-Amz-Target': 'Kinesis_20131202.PutRecords' } })
  t.same(put.body, { __type: 'ProvisionedThroughputExceededException', message: 'injected fault puts' })
  const putArray = await call(d, `${a.url}/`, { method: 'POST', headers: ['x-amz-target', 'Kinesis_20131202.PutRecords'] })
  t.equal(putArray.status, 400, 'the operation is found in flat-array headers too')
  t.equal(
    (await call(d, `${a.url}/`, { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.ListStreams' } })).status,
    200,
    'another operation is untouched',
  )

  t.equal((await call(d, `${a.url}/streams/s1`, { method: 'DELETE' })).status, 500)
  t.equal((await call(d, `${a.url}/streams/s1`)).status, 200, 'another method is untouched')
  t.equal((await call(d, `${a.url}/other/s1`, { method: 'DELETE' })).status, 200, 'another path is untouched')
  t.same(a.hits, ['GET /x', 'POST /', 'GET /streams/s1', 'DELETE /other/s1'])
  t.same(b.hits, [])

  t.ok(faults.remove('only-b'))
  t.notOk(faults.remove('only-b'), 'removing twice reports nothing removed')
  t.equal((await call(d, `${b.url}/x`)).status, 200, 'a removed rule stops at once')
  t.equal(faults.clear(), 2)
  t.equal(faults.size, 0)
})

t.test('the interceptor composes onto any undici dispatcher', async (t) => {
  const up = await startUpstream(t, 'a')
  const faults = new FaultSet()
  const agent = new Agent()
  t.teardown(() => agent.destroy())
  const d = agent.compose(faultInterceptor(faults))
  t.equal((await call(d, `${up.url}/x`)).status, 200)
  faults.add({ kind: 'error', status: 503 })
  t.equal((await call(d, `${up.url}/x`)).status, 503, 'rules added later apply to the same dispatcher')
})
