// Nobody let in: the routes only the lab's own services call on each other (metadata's store and
// membership, the back-ends' records, the front-ends' peer routes, the autoscaler's hooks, every
// /metrics) refuse a caller without the run's internal credential with 403 AccessDeniedException,
// and the refused call changes nothing; with it they work. Then every route every app registered
// is walked (fastify's route tree, so a route added later is walked too): it must be a public
// route named below, /health, an /admin route, or refused without the credential.
import t, { type Test } from 'tap'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Agent, request } from 'undici'
import { INTERNAL_HEADER, internalCredential, sameOrigin } from '../../services/kit/index.js'
import { buildApp as buildMetadata } from '../../services/kinesis/metadata/app.js'
import { MetadataStore } from '../../services/kinesis/metadata/store.js'
import { buildApp as buildBackend } from '../../services/kinesis/backend/app.js'
import { ShardStore } from '../../services/kinesis/backend/shard-store.js'
import { buildApp as buildFrontend } from '../../services/kinesis/frontend/app.js'
import { peerRoutes } from '../../services/kinesis/frontend/peer-routes.js'
import type { FrontendShardMap } from '../../services/kinesis/frontend/shardmap/shard-map.js'
import type { ShardMap } from '../../services/kinesis/frontend/shardmap/types.js'
import { buildApp as buildAutoscaler } from '../../services/autoscaler/app.js'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { CREDENTIALS, INTERNAL_TOKEN, KEYS, startLab } from '../../bench/lib/fuzz/lab.js'
import { routesOf } from '../../bench/lib/fuzz/run.js'
import { injectPolicy } from '../autoscaler/policy-calls.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const TOKEN = INTERNAL_TOKEN
const WITH = { [INTERNAL_HEADER]: TOKEN }

/** What every refusal looks like: the lab's error shape, 403. */
function refused(t: Test, res: { statusCode: number; json(): unknown }, what: string): void {
  t.equal(res.statusCode, 403, `${what}: 403`)
  t.match(res.json(), { __type: 'AccessDeniedException', message: /is internal: missing or wrong x-outage-lab-internal/ }, `${what}: AccessDeniedException`)
}

async function tempDir(t: Test): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-internal-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

async function metadata(t: Test): Promise<FastifyInstance> {
  const app = buildMetadata({ store: await MetadataStore.open(path.join(await tempDir(t), 'metadata.json')), internalToken: TOKEN, logger: false })
  t.teardown(() => app.close())
  return app
}

t.test('metadata: an unauthenticated DELETE /streams/:name is refused and the stream is still there', async (t) => {
  const app = await metadata(t)
  t.equal((await app.inject({ method: 'PUT', url: '/backends/backend-a', headers: WITH, payload: { url: 'http://127.0.0.1:9' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/streams', headers: WITH, payload: { name: 'orders', shardCount: 2 } })).statusCode, 201)

  refused(t, await app.inject({ method: 'DELETE', url: '/streams/orders' }), 'DELETE without the header')
  refused(
    t,
    await app.inject({ method: 'DELETE', url: '/streams/orders', headers: { [INTERNAL_HEADER]: 'x'.repeat(TOKEN.length) } }),
    'DELETE with a wrong token',
  )
  refused(
    t,
    await app.inject({ method: 'DELETE', url: '/streams/orders', headers: { [INTERNAL_HEADER]: TOKEN.slice(0, -1) } }),
    'DELETE with the token less a character',
  )
  refused(t, await app.inject({ method: 'DELETE', url: '/streams/orders', headers: { authorization: `Bearer ${TOKEN}` } }), 'DELETE with the token as a bearer')
  const still = await app.inject({ method: 'GET', url: '/streams/orders', headers: WITH })
  t.equal(still.statusCode, 200, 'the stream still exists')
  t.equal(still.json().shards.length, 2)

  const deleted = await app.inject({ method: 'DELETE', url: '/streams/orders', headers: WITH })
  t.same(deleted.json(), { name: 'orders', deleted: true }, 'with the credential it is deleted')
  t.equal((await app.inject({ method: 'GET', url: '/streams/orders', headers: WITH })).statusCode, 400, 'and gone')
})

t.test('metadata: unauthenticated POST /streams and membership writes are refused and change nothing', async (t) => {
  const app = await metadata(t)
  await app.inject({ method: 'PUT', url: '/backends/backend-a', headers: WITH, payload: { url: 'http://127.0.0.1:9' } })
  const version = (await app.inject({ method: 'GET', url: '/shardmap?fleet=main', headers: WITH })).json().version

  refused(t, await app.inject({ method: 'POST', url: '/streams', payload: { name: 'orders', shardCount: 1 } }), 'POST /streams')
  refused(t, await app.inject({ method: 'PUT', url: '/backends/evil', payload: { url: 'http://127.0.0.1:1' } }), 'PUT /backends/:id')
  refused(t, await app.inject({ method: 'PUT', url: '/fleets/main/members/ghost', payload: { url: 'http://127.0.0.1:1' } }), 'PUT a member')
  refused(t, await app.inject({ method: 'GET', url: '/fleets/main/members' }), 'GET the members')
  refused(t, await app.inject({ method: 'GET', url: '/shardmap?fleet=main' }), 'GET /shardmap')

  const map = (await app.inject({ method: 'GET', url: '/shardmap?fleet=main', headers: WITH })).json()
  t.same([map.version, map.streams, Object.keys(map.backends), map.members], [version, [], ['backend-a'], []], 'no stream, back-end or member was added')

  const put = await app.inject({ method: 'PUT', url: '/fleets/main/members/fe-1', headers: WITH, payload: { url: 'http://127.0.0.1:2' } })
  t.equal(put.statusCode, 200, 'with the credential a member registers')
  refused(t, await app.inject({ method: 'DELETE', url: '/fleets/main/members/fe-1' }), 'DELETE a member')
  const members = (await app.inject({ method: 'GET', url: '/fleets/main/members', headers: WITH })).json().members
  t.same(
    members.map((m: { id: string }) => m.id),
    ['fe-1'],
    'the member is still there',
  )
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health needs nothing')
})

t.test('back-end: unauthenticated records and reads are refused; nothing is appended', async (t) => {
  const { store } = await ShardStore.open(path.join(await tempDir(t), 'backend'))
  const app = buildBackend({ id: 'backend-a', store, iteratorSecret: 'secret', internalToken: TOKEN, logger: false })
  t.teardown(() => app.close())
  const records = { records: [{ data: Buffer.from('hello').toString('base64'), partitionKey: 'k' }] }

  refused(t, await app.inject({ method: 'POST', url: '/shards/orders/shardId-000000000000/records', payload: records }), 'POST records')
  t.equal(store.shardCount(), 0, 'no shard log was created')
  refused(
    t,
    await app.inject({ method: 'POST', url: '/iterators', payload: { stream: 'orders', shardId: 'shardId-000000000000', type: 'TRIM_HORIZON' } }),
    'POST /iterators',
  )
  refused(t, await app.inject({ method: 'POST', url: '/records/get', payload: { shardIterator: 'x', limit: 1 } }), 'POST /records/get')
  refused(t, await app.inject({ method: 'DELETE', url: '/streams/orders' }), 'DELETE a stream')

  const put = await app.inject({ method: 'POST', url: '/shards/orders/shardId-000000000000/records', headers: WITH, payload: records })
  t.equal(put.statusCode, 200, 'with the credential the record is appended')
  const it = await app.inject({
    method: 'POST',
    url: '/iterators',
    headers: WITH,
    payload: { stream: 'orders', shardId: 'shardId-000000000000', type: 'TRIM_HORIZON' },
  })
  const got = await app.inject({ method: 'POST', url: '/records/get', headers: WITH, payload: { shardIterator: it.json().shardIterator, limit: 10 } })
  t.same(
    got.json().records.map((r: { data: string }) => Buffer.from(r.data, 'base64').toString()),
    ['hello'],
    'and read back',
  )
  refused(t, await app.inject({ method: 'DELETE', url: '/streams/orders' }), 'DELETE a stream again')
  t.equal(store.shardCount(), 1, 'the stream was not dropped')
})

t.test("autoscaler: its hooks take EventBridge's and CloudWatch's calls only; an unauthenticated invoke scales nothing", async (t) => {
  // Never called: the workflows are not started.
  const eventBridge = new EventBridgeClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: CREDENTIALS })
  const app = buildAutoscaler({ eventBridge, keys: KEYS, maxTasks: 5, internalToken: TOKEN, logger: false })
  t.teardown(() => app.close())
  await app.ready()
  const svc = app.autoscaler.cluster.createService('shop', 1)
  const json = { 'content-type': 'application/json' }
  // Customers set policies up: public, SigV4-signed as Application Auto Scaling's calls are (policies.test.ts).
  const created = await injectPolicy(app, 'POST', '/policies', { service: 'shop', name: 'out', adjustment: 2 })
  t.equal(created.status, 201, 'a customer creates a policy without the internal credential (signed with its key)')
  const alarm = { NewStateValue: 'ALARM', OldStateValue: 'OK', AlarmName: 'shop-latency' }

  refused(t, await app.inject({ method: 'POST', url: '/policies/out/invoke', headers: json, payload: alarm }), 'POST /policies/out/invoke')
  t.equal(svc.desiredCount, 1, 'nothing scaled')
  refused(t, await app.inject({ method: 'POST', url: '/workflow/events', headers: json, payload: { detail: {} } }), 'POST /workflow/events')

  const invoked = await app.inject({ method: 'POST', url: '/policies/out/invoke', headers: { ...json, ...WITH }, payload: alarm })
  t.match(invoked.json(), { outcome: 'scaled', desiredCount: 3 }, "with the credential (CloudWatch's call) it scales")
  t.equal(svc.desiredCount, 3)
})

/** The shard-map as the peer routes read it. */
function peerMap(): FrontendShardMap {
  const map = {
    state: 'ready',
    selfId: 'main-1',
    version: 7,
    peerHeartbeatMs: 60_000,
    onVersion: () => () => {},
    authoritative: () => ({ version: 7, streams: [], backends: {}, members: [] }),
    peerDocumentNdjson: () => '{"member":"main-1","version":7,"builtAtMs":0,"entries":0}\n',
    requireUsable() {},
    stream: async () => undefined,
    listStreams: () => [],
    backendUrl: () => 'http://127.0.0.1:9',
    stats: () => ({
      state: 'ready',
      version: 7,
      threads: 1,
      threadLimit: 10,
      enforcement: 'process',
      peers: 0,
      peerThreads: 0,
      pendingPeers: 0,
      threadCreateFailures: 0,
    }),
    close: async () => {},
  }
  return map as unknown as FrontendShardMap
}

function frontend(t: Test, opts: { internalToken?: string } = { internalToken: TOKEN }): FastifyInstance {
  const shardMap = peerMap()
  const app = buildFrontend({
    shardMap: shardMap as unknown as ShardMap,
    keys: KEYS,
    metadataUrl: 'http://127.0.0.1:9',
    throttle: false,
    internalToken: opts.internalToken,
    logger: false,
    register: (a) => void a.register(peerRoutes, { shardMap }),
  })
  t.teardown(() => app.close())
  return app
}

t.test('front-end: the peer routes answer members of the fleet only', async (t) => {
  const app = frontend(t)
  refused(t, await app.inject({ method: 'GET', url: '/peer/shardmap' }), 'GET /peer/shardmap')
  refused(t, await app.inject({ method: 'GET', url: '/peer/authoritative' }), 'GET /peer/authoritative')
  refused(t, await app.inject({ method: 'GET', url: '/peer/stream?from=main-2' }), 'GET /peer/stream')
  refused(t, await app.inject({ method: 'GET', url: '/metrics' }), 'GET /metrics')
  const doc = await app.inject({ method: 'GET', url: '/peer/shardmap', headers: WITH })
  t.equal(doc.statusCode, 200)
  t.match(doc.body, /"member":"main-1"/, 'with the credential a peer reads the map')
  t.equal((await app.inject({ method: 'GET', url: '/peer/authoritative', headers: WITH })).json().version, 7)
  t.match((await app.inject({ method: 'GET', url: '/metrics', headers: WITH })).body, /kinesis_frontend_/)
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200, '/health needs nothing')
  // The Kinesis API is public: an unsigned call gets Kinesis's own refusal, not the internal one.
  const api = await app.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
    payload: '{}',
  })
  t.equal(api.json().__type, 'MissingAuthenticationTokenException', 'the AWS API answers with SigV4, as before')
})

t.test('without a configured token the internal routes are closed: the app makes up a token nobody else holds', async (t) => {
  const app = frontend(t, {})
  refused(t, await app.inject({ method: 'GET', url: '/peer/authoritative' }), 'no token configured, no header')
  refused(t, await app.inject({ method: 'GET', url: '/peer/authoritative', headers: WITH }), "no token configured, another run's token")
  refused(t, await app.inject({ method: 'GET', url: '/metrics' }), 'no token configured, /metrics')
  // An empty token is no token: it must not make an empty header the credential.
  const empty = frontend(t, { internalToken: '' })
  refused(t, await empty.inject({ method: 'GET', url: '/peer/authoritative', headers: { [INTERNAL_HEADER]: '' } }), 'an empty token, an empty header')
  const other = frontend(t, {})
  t.not(app.service.internalToken, other.service.internalToken, 'each app makes up its own')
  t.ok(app.service.internalToken.length >= 32, 'a long random one')
  // In-process, the builder may read it: what the lab's own callers would have been given.
  const own = await app.inject({ method: 'GET', url: '/peer/authoritative', headers: { [INTERNAL_HEADER]: app.service.internalToken } })
  t.equal(own.statusCode, 200, 'with the token it made up, the route serves')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health stays public')
})

t.test('the credential goes only where it is meant to: a composed dispatcher limited to one origin', async (t) => {
  const seen: Array<{ port: number; header: string | undefined }> = []
  const servers = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<http.Server>((resolve) => {
          const s = http.createServer((req, res) => {
            seen.push({ port: (s.address() as AddressInfo).port, header: req.headers[INTERNAL_HEADER] as string | undefined })
            res.end('ok')
          })
          s.listen(0, '127.0.0.1', () => resolve(s))
        }),
    ),
  )
  t.teardown(() => servers.forEach((s) => s.close()))
  const [autoscaler, other] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`)
  const agent = new Agent()
  t.teardown(() => agent.close())
  // What CloudWatch's alarm actions and EventBridge's deliveries use: any caller may name the URL.
  const callbacks = agent.compose(internalCredential(TOKEN, sameOrigin(autoscaler)))
  for (const url of [`${autoscaler}/workflow/events`, `${other}/policies/x/invoke`])
    await (await request(url, { method: 'POST', body: '{}', dispatcher: callbacks })).body.dump()
  // What the Kinesis services use: every call is to another lab service.
  await (await request(`${other}/streams`, { dispatcher: agent.compose(internalCredential(TOKEN)) })).body.dump()
  t.same(
    seen.map((s) => s.header),
    [TOKEN, undefined, TOKEN],
    "the autoscaler's origin gets it, another receiver does not; an unrestricted internal dispatcher sends it",
  )
})

/**
 * Public routes, by service, with why each is public. Anything else an app registers (but /health
 * and /admin/*) must refuse a caller without the internal credential: a new route is internal
 * unless it is added here and marked PUBLIC where it is registered.
 */
const PUBLIC_ROUTES: Record<string, Record<string, string>> = {
  '*': {
    'POST /': 'the AWS API (SigV4 or AWS noAuth; the endpoint forwards the Kinesis API)',
    'POST /service/:service/operation/:operation': 'the AWS API in Smithy RPC v2 CBOR',
    'GET /health': 'readiness, Docker health checks, load balancers',
  },
  'kinesis-endpoint': {
    // fastify's tree shows the proxy's '/*' as '*'.
    '* *': 'the proxy, every method: the Kinesis API, forwarded without the credential',
  },
  cognito: {
    'GET /:userPoolId/.well-known/jwks.json': "Cognito's signing keys, public in AWS",
    'GET /:userPoolId/.well-known/openid-configuration': "Cognito's issuer document, public in AWS",
  },
  lambda: {
    'POST /2015-03-31/functions/:FunctionName/invocations': "Lambda's REST API (SigV4)",
    'GET /2015-03-31/functions/:FunctionName': "Lambda's REST API (SigV4)",
    'GET /2015-03-31/functions': "Lambda's REST API (SigV4)",
    'GET /2015-03-31/functions/': "Lambda's REST API (SigV4)",
  },
  'status-page': {
    'GET /': 'the status page, for everybody',
    'GET /api/status': 'the status page as JSON',
    'POST /api/updates': 'posting, with a Cognito token',
    'POST /api/backup/updates': 'posting, with the operator key',
  },
  autoscaler: {
    'POST /policies': "scaling policies, created by customers (Application Auto Scaling's PutScalingPolicy: SigV4, application-autoscaling)",
    'GET /policies': 'scaling policies, read by customers (DescribeScalingPolicies: SigV4)',
    'DELETE /policies/:name': 'scaling policies, deleted by customers (DeleteScalingPolicy: SigV4)',
  },
}

t.test('every route of every app is public by name, /health, /admin, or refused without the internal credential', async (t) => {
  const lab = await startLab()
  t.teardown(() => lab.close())
  const apps = [...lab.apps.filter((a) => a.name !== 'control'), { name: 'kinesis-frontend (peer routes)', app: frontend(t) }]
  const counts = { public: 0, admin: 0, internal: 0 }
  const listed = new Set<string>()
  for (const { name, app } of apps) {
    const service = name.replace(/ \(.*\)$/, '')
    const publicHere = { ...PUBLIC_ROUTES['*'], ...(PUBLIC_ROUTES[service] ?? {}) }
    for (const r of routesOf(app)) {
      const key = `${r.method} ${r.url}`
      const url = r.url.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'anything')
      const call = (headers: Record<string, string>) =>
        app.inject({
          method: r.method as 'GET',
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: ['GET', 'HEAD', 'DELETE'].includes(r.method) ? undefined : '{}',
        })
      if (r.url === '/admin' || r.url.startsWith('/admin/')) {
        // Their own guard (admin-routes.test.ts walks them with every kind of wrong token).
        const res = await call({})
        if (res.statusCode !== 401 && res.statusCode !== 403) t.fail(`${name} ${key} answered ${res.statusCode} without the admin token`)
        counts.admin++
        continue
      }
      if (key in publicHere || `* ${r.url}` in publicHere) {
        // A public route answers as its API does; the internal guard never refuses it.
        const res = await call({})
        if (/is internal: missing or wrong/.test(res.body)) t.fail(`${name} ${key} is listed public but refused: ${res.body}`)
        listed.add(`${service} ${key in publicHere ? key : `* ${r.url}`}`)
        counts.public++
        continue
      }
      const res = await call({})
      const body = r.method === 'HEAD' ? {} : (res.json() as { __type?: string; message?: string })
      if (res.statusCode !== 403 || (r.method !== 'HEAD' && !(body.__type === 'AccessDeniedException' && /is internal/.test(body.message ?? ''))))
        t.fail(`${name} ${key}: neither public nor guarded (answered ${res.statusCode} ${res.body.slice(0, 200)} without the internal credential)`)
      const wrong = await call({ [INTERNAL_HEADER]: `${TOKEN}x` })
      if (wrong.statusCode !== 403) t.fail(`${name} ${key} took a wrong token: ${wrong.statusCode}`)
      const ok = await call(WITH)
      if (ok.statusCode === 403) t.fail(`${name} ${key} refused the right credential: ${ok.body.slice(0, 200)}`)
      counts.internal++
    }
  }
  // A route listed public that no app registers any more is a stale exception: remove it from the list.
  for (const [service, routes] of Object.entries(PUBLIC_ROUTES)) {
    if (service === '*') continue
    for (const key of Object.keys(routes)) t.ok(listed.has(`${service} ${key}`), `${service} ${key} (listed public) exists`)
  }
  t.ok(counts.internal >= 25, `${counts.internal} internal routes refused without the credential and served with it`)
  t.comment(`routes walked: ${counts.public} public, ${counts.admin} admin, ${counts.internal} internal, over ${apps.length} apps`)
})
