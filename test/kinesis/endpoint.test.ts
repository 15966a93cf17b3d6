// kinesis/endpoint in-process against real members on real ports: fastify servers in this test
// (the endpoint is a generic load balancer) and, where the event loop of a member must really
// block, a child process.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import http from 'node:http'
import http2 from 'node:http2'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import readline from 'node:readline'
import { request } from 'undici'
import { Decoder } from 'cbor-x'
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { buildApp } from '../../services/kinesis/endpoint/app.js'
import { loadConfig } from '../../services/kinesis/endpoint/config.js'
import { awsJsonProtocol, createService } from '../../services/kit/index.js'
import { eventually } from '../helpers/eventually.js'
import { INTERNAL, INTERNAL_TOKEN } from '../helpers/spawn.js'

const TOKEN = 'endpoint-test-token'
const ADMIN = { authorization: `Bearer ${TOKEN}` }
const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Hit {
  method: string
  url: string
  headers: Record<string, unknown>
  bytes: number
}

interface TestMember {
  name: string
  url: string
  id: string
  app: FastifyInstance
  hits: Hit[]
  /** /health sleeps this long before answering (0: at once). */
  healthDelayMs: number
  healthStatus: number
  /** shard_map_state in /health's body, when set. */
  shardMapState?: string
  hangsClosedByPeer: number
}

async function startMember(t: Test, name: string): Promise<TestMember> {
  const app = Fastify()
  const m = { name, app, hits: [] as Hit[], healthDelayMs: 0, healthStatus: 200, hangsClosedByPeer: 0 } as unknown as TestMember
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body))
  app.get('/health', async (_req, reply) => {
    if (m.healthDelayMs) await sleep(m.healthDelayMs)
    reply.code(m.healthStatus)
    return { member: name, ...(m.shardMapState ? { shard_map_state: m.shardMapState } : {}) }
  })
  app.post('/reset', async (req) => {
    m.hits.push({ method: req.method, url: req.url, headers: req.headers, bytes: 0 })
    req.raw.socket.destroy()
    return new Promise(() => {})
  })
  app.post('/hang', (req, reply) => {
    m.hits.push({ method: req.method, url: req.url, headers: req.headers, bytes: 0 })
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) m.hangsClosedByPeer++
    })
  })
  app.get('/download', async (req, reply) => {
    const bytes = Number((req.query as { bytes: string }).bytes)
    reply.header('content-type', 'application/octet-stream')
    return seededBytes(bytes)
  })
  app.all('/*', async (req) => {
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0)
    m.hits.push({ method: req.method, url: req.url, headers: req.headers, bytes: body.length })
    return { member: name, method: req.method, url: req.url, host: req.headers.host, bytes: body.length, sha256: sha256(body), headers: req.headers }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  m.url = `http://127.0.0.1:${port}`
  m.id = `127.0.0.1:${port}`
  t.teardown(() => app.close())
  return m
}

function seededBytes(n: number): Buffer {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff
  return out
}

interface TestEndpoint {
  url: string
  port: number
  app: FastifyInstance
  members(): Promise<any[]>
  member(id: string): Promise<any>
  metrics(): Promise<string>
}

async function startEndpoint(t: Test, env: Record<string, string>, opts: { adminToken?: string | null } = {}): Promise<TestEndpoint> {
  const config = loadConfig({ HEALTH_INTERVAL_MS: '50', HEALTH_TIMEOUT_MS: '150', UNHEALTHY_THRESHOLD: '3', HEALTHY_THRESHOLD: '2', ...env })
  // The run's internal token, shared with the metadata it polls and removes members from.
  const app = buildApp({ config, logger: false, internalToken: INTERNAL_TOKEN, adminToken: opts.adminToken === null ? undefined : (opts.adminToken ?? TOKEN) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as { port: number }).port
  const url = `http://127.0.0.1:${port}`
  const members = async () => (await (await request(`${url}/admin/members`, { headers: ADMIN })).body.json()) as any[]
  return {
    url,
    port,
    app,
    members,
    member: async (id) => (await members()).find((m) => m.id === id),
    metrics: async () => (await request(`${url}/metrics`, { headers: INTERNAL })).body.text(),
  }
}

const allHealthy = (ep: TestEndpoint, n: number) =>
  eventually(async () => (await ep.members()).filter((m) => m.healthy).length === n, { what: `${n} healthy members`, intervalMs: 20 })

async function post(url: string, body: string | Buffer = '{}', headers: Record<string, string> = {}) {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-amz-json-1.1', ...headers } })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

async function h2request(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  const session = http2.connect(url)
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject)
      const req = session.request(headers)
      const chunks: Buffer[] = []
      let head: http2.IncomingHttpHeaders = {}
      req.on('response', (h) => (head = h))
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }))
      req.on('error', reject)
      req.end(body)
    })
  } finally {
    session.close()
  }
}

t.test('round robin spreads requests evenly over the healthy members, in turn', async (t) => {
  const members = await Promise.all(['a', 'b', 'c'].map((n) => startMember(t, n)))
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: members.map((m) => m.url).join(',') })
  await allHealthy(ep, 3)
  const order: string[] = []
  for (let i = 0; i < 9; i++) {
    const res = await post(`${ep.url}/`)
    t.equal(res.status, 200)
    order.push(res.json().member)
  }
  for (let i = 0; i + 3 <= order.length; i++)
    t.equal(new Set(order.slice(i, i + 3)).size, 3, `requests ${i}..${i + 2} went to three different members (${order.join(',')})`)
  for (const m of members) t.equal(m.hits.length, 3, `member ${m.name} got a third of the requests`)
})

t.test('new members start unhealthy: no traffic before HEALTHY_THRESHOLD passed checks', async (t) => {
  const a = await startMember(t, 'a')
  a.healthStatus = 503
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url })
  await eventually(async () => (await ep.member(a.id))?.consecutiveFailures >= 2, { what: 'a failed check', intervalMs: 20 })
  const state = await ep.member(a.id)
  t.equal(state.healthy, false)
  t.equal(state.lastError, 'status 503')
  const res = await post(`${ep.url}/`)
  t.equal(res.status, 503)
  t.equal(a.hits.length, 0, 'the member saw no request')
  a.healthStatus = 200
  await allHealthy(ep, 1)
  t.equal((await post(`${ep.url}/`)).json().member, 'a')
  t.notMatch(await ep.metrics(), /kinesis_endpoint_ejections_total\{/, 'admitting a new member is not an ejection')
})

t.test('a member whose health check answers after HEALTH_TIMEOUT_MS is ejected, then re-admitted once it answers in time', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}` })
  await allHealthy(ep, 2)
  b.healthDelayMs = 400
  const ejected = await eventually(
    async () => {
      const s = await ep.member(b.id)
      return s.healthy ? undefined : s
    },
    { what: 'b ejected', intervalMs: 20 },
  )
  t.ok(ejected.consecutiveFailures >= 3, 'ejected after UNHEALTHY_THRESHOLD failures')
  t.match(ejected.lastError, /no answer within 150 ms/)
  t.equal((await ep.member(a.id)).healthy, true)
  const before = b.hits.length
  for (let i = 0; i < 6; i++) t.equal((await post(`${ep.url}/`)).json().member, 'a', 'traffic goes to the healthy member only')
  t.equal(b.hits.length, before)
  t.match(await ep.metrics(), new RegExp(`kinesis_endpoint_ejections_total\\{member="${b.id}"[^}]*\\} 1`))
  t.match(await ep.metrics(), new RegExp(`kinesis_endpoint_member_healthy\\{member="${b.id}"[^}]*\\} 0`))

  b.healthDelayMs = 0
  const back = await eventually(
    async () => {
      const s = await ep.member(b.id)
      return s.healthy ? s : undefined
    },
    { what: 'b re-admitted', intervalMs: 20 },
  )
  t.ok(back.consecutiveSuccesses >= 2, 're-admitted after HEALTHY_THRESHOLD passes')
  t.equal(back.lastError, null)
  t.equal(back.ejections, 1)
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add((await post(`${ep.url}/`)).json().member)
  t.same([...seen].sort(), ['a', 'b'], 'b serves again')
  t.match(await ep.metrics(), new RegExp(`kinesis_endpoint_member_healthy\\{member="${b.id}"[^}]*\\} 1`))
})

t.test('a front-end still building its shard-map gets no traffic; a broken one still does, as in 2020', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  b.shardMapState = 'building'
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}` })
  await eventually(async () => ((await ep.member(a.id)).healthy ? true : undefined), { what: 'a admitted', intervalMs: 20 })
  t.match((await ep.member(b.id)).lastError, /shard-map still building/)
  for (let i = 0; i < 4; i++) t.equal((await post(`${ep.url}/`)).json().member, 'a', 'traffic avoids the cold-starting member')
  b.shardMapState = 'broken'
  await eventually(async () => ((await ep.member(b.id)).healthy ? true : undefined), { what: 'b admitted once its map is no longer building', intervalMs: 20 })
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add((await post(`${ep.url}/`)).json().member)
  t.same([...seen].sort(), ['a', 'b'], 'a broken member is routed to: its process is up and answers')
})

t.test('a member whose event loop is blocked fails its checks and is ejected; it comes back when the loop runs again', async (t) => {
  // A real process: blocking this test's own loop would stop the endpoint's checks too.
  const script = `
    const http = require('node:http')
    const s = http.createServer((req, res) => {
      if (req.url.startsWith('/block')) {
        const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'))
        res.end('blocking')
        setTimeout(() => { const until = Date.now() + ms; while (Date.now() < until) {} }, 20)
        return
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ pid: process.pid }))
    })
    s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', port: s.address().port })))
  `
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    proc.kill('SIGKILL')
  })
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`member exited with ${code}`)))
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        resolve(JSON.parse(line).port)
      } catch {}
    })
  })
  const id = `127.0.0.1:${port}`
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `http://${id}` })
  await allHealthy(ep, 1)
  const res = await request(`http://${id}/block?ms=2500`)
  t.equal(await res.body.text(), 'blocking')
  const ejected = await eventually(
    async () => {
      const s = await ep.member(id)
      return s.healthy ? undefined : s
    },
    { what: 'blocked member ejected', intervalMs: 20 },
  )
  t.match(ejected.lastError, /no answer within 150 ms/)
  t.equal((await post(`${ep.url}/`)).status, 503, 'with its only member ejected the endpoint answers 503')
  await eventually(async () => (await ep.member(id)).healthy, { what: 'member re-admitted after its loop unblocked', intervalMs: 20 })
  t.equal((await post(`${ep.url}/`)).status, 200)
})

t.test('with no healthy member the endpoint answers 503 ServiceUnavailable in the shape of the request (AWS JSON 1.1 or CBOR 1.1)', async (t) => {
  // A port nobody listens on: the member never passes a check.
  const closed = await startMember(t, 'gone')
  await closed.app.close()
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: closed.url, FLEET: 'main', CELL: 'cell-1' })
  await eventually(async () => (await ep.member(closed.id))?.consecutiveFailures >= 1, { what: 'a failed check', intervalMs: 20 })
  t.match((await ep.member(closed.id)).lastError, /ECONNREFUSED/)
  const res = await post(`${ep.url}/`, '{}', { 'x-amz-target': 'Kinesis_20131202.ListStreams' })
  t.equal(res.status, 503)
  t.equal(res.headers['content-type'], 'application/x-amz-json-1.1')
  t.same(res.json(), { __type: 'ServiceUnavailable', message: 'No healthy member in fleet main, cell cell-1' })
  // A CBOR client (the Java SDK, the KCL) gets it in CBOR, the shape its parser reads.
  const cbor = await request(`${ep.url}/`, {
    method: 'POST',
    body: Buffer.from([0xbf, 0xff]),
    headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
  })
  t.equal(cbor.statusCode, 503)
  t.equal(cbor.headers['content-type'], 'application/x-amz-cbor-1.1')
  t.same(new Decoder({ useRecords: false }).decode(Buffer.from(await cbor.body.arrayBuffer())), {
    __type: 'ServiceUnavailable',
    message: 'No healthy member in fleet main, cell cell-1',
  })

  // The stock SDK client parses it as the AWS error it is.
  const client = new KinesisClient({ endpoint: ep.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const err = await client.send(new ListStreamsCommand({})).catch((e) => e)
  t.equal(err.name, 'ServiceUnavailable')
  t.equal(err.$metadata.httpStatusCode, 503)
  t.match(await ep.metrics(), /kinesis_endpoint_requests_total\{member="none",status="503"[^}]*\} 3/)
})

t.test('h1 and h2c clients both reach the member, which sees the client host and the end-to-end headers only', async (t) => {
  const a = await startMember(t, 'a')
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url })
  await allHealthy(ep, 1)
  const body = randomBytes(300 * 1024)

  // node:http sends a Connection header as given (undici would not).
  const h1 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${ep.url}/2015-03-31/functions/my%3Afn/invocations?Qualifier=%24LATEST&x=a%20b`, {
      method: 'POST',
      headers: { connection: 'keep-alive, x-hop', 'x-hop': 'dropped', 'x-end-to-end': 'kept', 'content-type': 'application/octet-stream' },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
  t.equal(h1.status, 200)
  const seen1 = JSON.parse(h1.body)
  t.equal(seen1.url, '/2015-03-31/functions/my%3Afn/invocations?Qualifier=%24LATEST&x=a%20b', 'path and query pass still encoded')
  t.equal(seen1.host, `127.0.0.1:${ep.port}`, 'host is the one the client used')
  t.equal(seen1.bytes, body.length)
  t.equal(seen1.sha256, sha256(body), 'the body arrives intact')
  t.equal(seen1.headers['x-end-to-end'], 'kept')
  t.notOk('x-hop' in seen1.headers, 'a header named in Connection is hop-by-hop')

  const h2 = await h2request(
    ep.url,
    {
      ':method': 'POST',
      ':path': '/some/path?q=1',
      'content-type': 'application/x-amz-json-1.1',
      'x-end-to-end': 'kept',
      'content-length': String(body.length),
    },
    body,
  )
  t.equal(h2.status, 200)
  const seen2 = JSON.parse(h2.body.toString())
  t.equal(seen2.method, 'POST')
  t.equal(seen2.url, '/some/path?q=1')
  t.equal(seen2.host, `127.0.0.1:${ep.port}`, ':authority became host')
  t.equal(seen2.sha256, sha256(body))
  t.equal(seen2.headers['x-end-to-end'], 'kept')
  t.notOk(
    Object.keys(seen2.headers).some((k) => k.startsWith(':')),
    'no pseudo-header reaches the member',
  )
})

t.test('large bodies stream intact both ways over h1 and h2c', async (t) => {
  const a = await startMember(t, 'a')
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url })
  await allHealthy(ep, 1)
  const size = 7 * 1024 * 1024
  const up = randomBytes(size)
  const h1 = await post(`${ep.url}/upload`, up)
  t.equal(h1.json().sha256, sha256(up))
  const h2 = await h2request(ep.url, { ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream', 'content-length': String(size) }, up)
  t.equal(JSON.parse(h2.body.toString()).sha256, sha256(up))

  const want = sha256(seededBytes(size))
  const down1 = await request(`${ep.url}/download?bytes=${size}`)
  t.equal(down1.headers['content-length'], String(size))
  t.equal(sha256(Buffer.from(await down1.body.arrayBuffer())), want)
  const down2 = await h2request(ep.url, { ':method': 'GET', ':path': `/download?bytes=${size}` })
  t.equal(down2.status, 200)
  t.equal(sha256(down2.body), want)
})

t.test('a SigV4-signed request through the endpoint verifies at the member, from the stock SDK over h2 and h1', async (t) => {
  const svc = createService({ name: 'signed-member', logger: false })
  const callers: string[] = []
  svc.app.register(awsJsonProtocol, {
    targetPrefix: 'Kinesis_20131202',
    jsonVersion: '1.1',
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    signingName: 'kinesis',
    operations: {
      ListStreams: (_input: unknown, ctx: any) => {
        callers.push(`${ctx.caller.accessKeyId}@${ctx.req.headers.host}`)
        return { StreamNames: ['through-the-endpoint'], HasMoreStreams: false }
      },
    },
  })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  const memberUrl = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: memberUrl })
  await allHealthy(ep, 1)

  const h2 = new KinesisClient({ endpoint: ep.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  const h1 = new KinesisClient({ endpoint: ep.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler() })
  t.teardown(() => {
    h2.destroy()
    h1.destroy()
  })
  t.same((await h2.send(new ListStreamsCommand({}))).StreamNames, ['through-the-endpoint'])
  t.same((await h1.send(new ListStreamsCommand({}))).StreamNames, ['through-the-endpoint'])
  t.same(callers, [`AKIDOUTAGELAB@127.0.0.1:${ep.port}`, `AKIDOUTAGELAB@127.0.0.1:${ep.port}`])

  // The member really checks: a wrong secret through the same path is refused by the member.
  const wrong = new KinesisClient({ endpoint: ep.url, region: 'us-east-1', credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' }, maxAttempts: 1 })
  t.teardown(() => wrong.destroy())
  const err = await wrong.send(new ListStreamsCommand({})).catch((e) => e)
  t.equal(err.name, 'InvalidSignatureException')
})

t.test('a member that resets mid-request yields 502 InternalFailure and the POST is not retried elsewhere', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}` })
  await allHealthy(ep, 2)
  for (let i = 0; i < 4; i++) {
    const res = await post(`${ep.url}/reset`)
    t.equal(res.status, 502)
    t.equal(res.headers['content-type'], 'application/x-amz-json-1.1')
    const body = res.json()
    t.equal(body.__type, 'InternalFailure')
    t.match(body.message, /^Member 127\.0\.0\.1:\d+ failed mid-request \(/)
  }
  t.equal(a.hits.length + b.hits.length, 4, 'each POST reached exactly one member')
  t.equal(a.hits.length, 2)
})

t.test('a refused connection answers 503 for a POST (not retried) and retries a GET on another member', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  // Checks far apart: b stays "healthy" in the table after it dies, as between two real checks.
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}`, HEALTHY_THRESHOLD: '1', HEALTH_INTERVAL_MS: '60000' })
  await allHealthy(ep, 2)
  await b.app.close()
  const posts = [await post(`${ep.url}/`), await post(`${ep.url}/`)]
  t.same(posts.map((r) => r.status).sort(), [200, 503])
  const refused = posts.find((r) => r.status === 503)!
  t.same(refused.json(), { __type: 'ServiceUnavailable', message: `Member ${b.id} could not be reached (ECONNREFUSED)` })
  t.equal(a.hits.length, 1, 'the refused POST was not sent to a')
  for (let i = 0; i < 2; i++) {
    const res = await request(`${ep.url}/thing`)
    t.equal(res.statusCode, 200)
    t.equal(((await res.body.json()) as { member: string }).member, 'a')
  }
  t.equal(a.hits.length, 3, 'both GETs were served by a')
})

t.test('a member that does not answer within UPSTREAM_TIMEOUT_MS yields 504; a client that leaves cancels the upstream request', async (t) => {
  const a = await startMember(t, 'a')
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url, UPSTREAM_TIMEOUT_MS: '300' })
  await allHealthy(ep, 1)
  const res = await post(`${ep.url}/hang`)
  t.equal(res.status, 504)
  t.same(res.json(), { __type: 'InternalFailure', message: `Member ${a.id} did not answer within 300 ms` })
  await eventually(() => a.hangsClosedByPeer === 1, { what: 'the timed-out request closed at the member', intervalMs: 20 })

  const ep2 = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url, UPSTREAM_TIMEOUT_MS: '60000' })
  await allHealthy(ep2, 1)
  const gone = new AbortController()
  const pending = request(`${ep2.url}/hang`, { method: 'POST', body: '{}', signal: gone.signal }).catch((e) => e)
  await eventually(() => a.hits.length === 2, { what: 'the member got the request', intervalMs: 20 })
  gone.abort()
  t.equal(((await pending) as Error).name, 'AbortError')
  await eventually(() => a.hangsClosedByPeer === 2, { what: 'the member saw its request closed', intervalMs: 20 })
  t.match(await ep2.metrics(), new RegExp(`kinesis_endpoint_requests_total\\{member="${a.id}",status="499"[^}]*\\} 1`))
})

t.test('GET /admin/members needs the run token and lists every member state; unknown admin paths are not proxied', async (t) => {
  const a = await startMember(t, 'a')
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url })
  await allHealthy(ep, 1)
  const none = await request(`${ep.url}/admin/members`)
  t.equal(none.statusCode, 401)
  t.same(await none.body.json(), { __type: 'UnrecognizedClientException', message: 'missing or wrong admin bearer token' })
  const wrong = await request(`${ep.url}/admin/members`, { headers: { authorization: 'Bearer nope' } })
  t.equal(wrong.statusCode, 401)
  await wrong.body.dump()
  const list = await ep.members()
  t.equal(list.length, 1)
  t.match(list[0], { id: a.id, url: a.url, healthy: true, consecutiveFailures: 0, lastError: null })
  t.type(list[0].lastCheckMs, 'number')
  t.type(list[0].lastCheckAtMs, 'number')

  for (const path of ['/admin/faults-of-the-member', '/admin', '/admin/']) {
    const unknown = await request(`${ep.url}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: '{}' })
    t.equal(unknown.statusCode, 404, `${path} is the endpoint's own`)
    await unknown.body.dump()
  }
  t.equal(a.hits.length, 0, 'nothing under /admin reached the member')

  const closed = await startEndpoint(t, { ENDPOINT_MEMBERS: a.url }, { adminToken: null })
  const disabled = await request(`${closed.url}/admin/members`, { headers: ADMIN })
  t.equal(disabled.statusCode, 403)
  t.same(await disabled.body.json(), { __type: 'AccessDeniedException', message: 'admin API disabled: no OUTAGE_LAB_ADMIN_TOKEN' })
})

t.test('the endpoint reports requests by member and status and its member counts', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}` })
  await allHealthy(ep, 2)
  for (let i = 0; i < 4; i++) await post(`${ep.url}/`)
  const text = await ep.metrics()
  for (const m of [a, b]) {
    t.match(text, new RegExp(`kinesis_endpoint_requests_total\\{member="${m.id}",status="200"[^}]*\\} 2`))
    t.match(text, new RegExp(`kinesis_endpoint_proxy_duration_seconds_count\\{[^}]*member="${m.id}"[^}]*\\} 2`))
    t.match(text, new RegExp(`kinesis_endpoint_health_checks_total\\{member="${m.id}",result="pass"`))
  }
  t.match(text, /kinesis_endpoint_members\{[^}]*\} 2/)
  t.match(text, /kinesis_endpoint_healthy_members\{[^}]*\} 2/)
  const health = (await (await request(`${ep.url}/health`)).body.json()) as Record<string, unknown>
  t.match(health, { status: 'ok', fleet: 'main', members: 2, healthyMembers: 2 })
})

t.test('inbound and outbound faults of the kit steer the endpoint too', async (t) => {
  const [a, b] = await Promise.all([startMember(t, 'a'), startMember(t, 'b')])
  const ep = await startEndpoint(t, { ENDPOINT_MEMBERS: `${a.url},${b.url}` })
  await allHealthy(ep, 2)
  // Outbound: make b's health checks fail at the endpoint only; b itself is fine.
  const add = await request(`${ep.url}/admin/faults/outbound`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'b-looks-dead', kind: 'error', status: 503, match: { origin: b.url, pathPrefix: '/health' } }),
  })
  t.equal(add.statusCode, 201)
  await add.body.dump()
  const ejected = await eventually(
    async () => {
      const s = await ep.member(b.id)
      return s.healthy ? undefined : s
    },
    { what: 'b ejected by the injected fault', intervalMs: 20 },
  )
  t.equal(ejected.lastError, 'status 503')
  await (await request(`${ep.url}/admin/faults/outbound/b-looks-dead`, { method: 'DELETE', headers: ADMIN })).body.dump()
  await allHealthy(ep, 2)

  // Inbound: the endpoint itself answers with an injected error before proxying.
  await (
    await request(`${ep.url}/admin/faults/inbound`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'error', status: 500, errorType: 'InternalFailure', match: { operation: 'PutRecords' } }),
    })
  ).body.dump()
  const hit = await post(`${ep.url}/`, '{}', { 'x-amz-target': 'Kinesis_20131202.PutRecords' })
  t.equal(hit.status, 500)
  t.equal(hit.json().__type, 'InternalFailure')
  const cborHit = await request(`${ep.url}/`, {
    method: 'POST',
    body: Buffer.from([0xbf, 0xff]),
    headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
  })
  t.equal(cborHit.headers['content-type'], 'application/x-amz-cbor-1.1', 'a CBOR client gets the injected error in CBOR')
  t.match(new Decoder({ useRecords: false }).decode(Buffer.from(await cborHit.body.arrayBuffer())), { __type: 'InternalFailure' })
  const missed = await post(`${ep.url}/`, '{}', { 'x-amz-target': 'Kinesis_20131202.ListStreams' })
  t.equal(missed.status, 200)
})

t.test('a member that passes no check for REMOVE_UNHEALTHY_AFTER_MS is removed from fleet membership; a healthy or broken one never is', async (t) => {
  const fs = await import('node:fs/promises')
  const os = await import('node:os')
  const path = await import('node:path')
  const { buildApp: buildMetadata } = await import('../../services/kinesis/metadata/app.js')
  const { MetadataStore } = await import('../../services/kinesis/metadata/store.js')
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-endpoint-removal-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const metadata = buildMetadata({ store: await MetadataStore.open(path.join(dir, 'metadata.json')), internalToken: INTERNAL_TOKEN, logger: false })
  await metadata.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => metadata.close())
  const metadataUrl = `http://127.0.0.1:${(metadata.server.address() as { port: number }).port}`
  const [fast, broken, cold] = await Promise.all([startMember(t, 'fast'), startMember(t, 'broken'), startMember(t, 'cold')])
  broken.shardMapState = 'broken'
  cold.shardMapState = 'building'
  const register = async (id: string, url: string) => {
    const res = await request(`${metadataUrl}/fleets/main/members/${id}`, {
      method: 'PUT',
      body: JSON.stringify({ url }),
      headers: { ...INTERNAL, 'content-type': 'application/json' },
    })
    t.equal(res.statusCode, 200, `${id} registered`)
    await res.body.dump()
  }
  for (const m of [fast, broken, cold]) await register(m.name, m.url)
  const ep = await startEndpoint(t, { METADATA_URL: metadataUrl, MEMBERSHIP_POLL_MS: '50', REMOVE_UNHEALTHY_AFTER_MS: '600' })
  const inFleet = async () =>
    ((await (await request(`${metadataUrl}/fleets/main/members`, { headers: INTERNAL })).body.json()) as { members: { id: string }[] }).members
      .map((m) => m.id)
      .sort()

  await eventually(async () => !(await inFleet()).includes('cold'), { what: 'the cold-starting member removed', intervalMs: 20 })
  t.same(await inFleet(), ['broken', 'fast'], 'only the member that never passed is gone; a broken map passes its checks, as in 2020')
  await eventually(async () => /kinesis_endpoint_fleet_removals_total\{[^}]*member="cold"[^}]*\} 1\n/.test(await ep.metrics()), {
    what: 'the removal counted',
    intervalMs: 20,
  })

  // It rejoins (as a front-end does when it finds itself removed) and gets a whole window again.
  cold.shardMapState = 'ready'
  await register('cold', cold.url)
  await eventually(async () => ((await ep.member('cold'))?.healthy ? true : undefined), { what: 'the rejoined member admitted', intervalMs: 20 })
  await sleep(800)
  t.same(await inFleet(), ['broken', 'cold', 'fast'], 'a member that passes stays in the fleet')
})
