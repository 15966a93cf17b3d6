import t, { type Test } from 'tap'
import fs from 'node:fs/promises'
import path from 'node:path'
import { buildApp, type StatusPageDeps } from '../../services/status-page/app.js'
import { UpdateLog } from '../../services/status-page/updates.js'
import { internalHeaders } from '../../services/kit/internal.js'

const KEY = 'backup-operator-key-0123456789'
// Nothing listens there: these tests never reach the primary path's key fetch.
const NO_COGNITO = 'http://127.0.0.1:9'

async function setup(t: Test, deps: Partial<StatusPageDeps> = {}, dir = t.testdir()) {
  let clock = Date.parse('2020-11-25T13:15:00.000Z')
  const log = await UpdateLog.open(path.join(dir, 'updates.jsonl'), { now: () => clock })
  const app = buildApp({ log, cognitoUrl: NO_COGNITO, operatorKey: KEY, logger: false, now: () => clock, ...deps })
  t.teardown(() => app.close())
  const backup = (payload: unknown, key: string | null = KEY) =>
    app.inject({ method: 'POST', url: '/api/backup/updates', headers: key === null ? {} : { 'x-operator-key': key }, payload: payload as any })
  return { app, log, dir, backup, tick: (ms: number) => (clock += ms) }
}

t.test('the page is server-rendered HTML listing every update newest first, with poster text escaped', async (t) => {
  const { app, backup, tick } = await setup(t)
  t.equal(
    (await backup({ message: 'We are investigating increased error rates for Kinesis in US-EAST-1.', component: 'kinesis', status: 'degraded' })).statusCode,
    201,
  )
  tick(60_000)
  const hostile = `<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)>`
  t.equal((await backup({ message: hostile, component: 'kinesis', status: 'outage' })).statusCode, 201)

  const res = await app.inject({ method: 'GET', url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'")
  t.notMatch(res.body, /<script/i, 'no script element, not even the posted one')
  t.notMatch(res.body, /<img/i)
  t.ok(
    res.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;img src=x onerror=alert(1)&gt;'),
    'the hostile message is shown as text',
  )
  const newer = res.body.indexOf('id="update-2"')
  const older = res.body.indexOf('id="update-1"')
  t.ok(newer > 0 && older > newer, 'newest first')
  t.ok(res.body.includes('<time datetime="2020-11-25T13:16:00.000Z">2020-11-25 13:16:00 UTC</time>'))
  t.match(res.body, /<th scope="row">Amazon Kinesis Data Streams<\/th><td class="outage">Service disruption<\/td>/)
  t.match(res.body, /<th scope="row">Amazon Cognito<\/th><td class="operational">Operating normally<\/td>/)
})

t.test('GET /api/status has every component and the updates newest first', async (t) => {
  const { app, backup, tick } = await setup(t, { components: ['kinesis', 'cognito'] })
  await backup({ message: 'Kinesis errors', component: 'kinesis', status: 'outage' })
  tick(1_000)
  await backup({ message: 'General note' })
  tick(1_000)
  await backup({ message: 'Kinesis recovering', component: 'kinesis' })
  const res = await app.inject({ method: 'GET', url: '/api/status' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.components, [
    { name: 'kinesis', title: 'Amazon Kinesis Data Streams', status: 'outage', since: '2020-11-25T13:15:00.000Z', updateId: 1 },
    { name: 'cognito', title: 'Amazon Cognito', status: 'operational', since: null, updateId: null },
  ])
  t.same(
    body.updates.map((u: any) => [u.id, u.message, u.component, u.status, u.path, u.operator, u.postedAt]),
    [
      [3, 'Kinesis recovering', 'kinesis', null, 'backup', 'backup-key', '2020-11-25T13:15:02.000Z'],
      [2, 'General note', null, null, 'backup', 'backup-key', '2020-11-25T13:15:01.000Z'],
      [1, 'Kinesis errors', 'kinesis', 'outage', 'backup', 'backup-key', '2020-11-25T13:15:00.000Z'],
    ],
  )
})

t.test('a malformed update is refused with a 400 that says what is wrong', async (t) => {
  const { app, backup, log } = await setup(t, { components: ['kinesis', 'cognito'] })
  const cases: [unknown, string][] = [
    [{}, 'message: expected a non-empty string'],
    [{ message: '   ' }, 'message: expected a non-empty string'],
    [{ message: 42 }, 'message: expected a non-empty string'],
    [{ message: 'x'.repeat(4_001) }, 'message: at most 4000 characters, got 4001'],
    [{ message: 'm', component: 'dynamodb' }, 'component: expected one of kinesis, cognito, got "dynamodb"'],
    [{ message: 'm', component: 'kinesis', status: 'down' }, 'status: expected one of operational, degraded, outage, got "down"'],
    [{ message: 'm', status: 'outage' }, 'status: a status needs the component it applies to'],
    [{ message: 'm', severity: 'high' }, 'unknown field "severity": expected message, component, status'],
    [[1, 2], 'the body must be a JSON object: {"message": "...", "component"?: "...", "status"?: "operational|degraded|outage"}'],
  ]
  for (const [payload, message] of cases) {
    const res = await backup(payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.same(res.json(), { __type: 'ValidationException', message })
  }
  const notJson = await app.inject({
    method: 'POST',
    url: '/api/backup/updates',
    headers: { 'x-operator-key': KEY, 'content-type': 'application/json' },
    payload: '{"message": ',
  })
  t.equal(notJson.statusCode, 400)
  t.match(notJson.json(), { __type: 'ValidationException', message: /^the body is not valid JSON/ })
  const text = await app.inject({
    method: 'POST',
    url: '/api/backup/updates',
    headers: { 'x-operator-key': KEY, 'content-type': 'text/plain' },
    payload: 'hello',
  })
  t.same(text.json(), { __type: 'ValidationException', message: 'send the update as JSON (content-type: application/json)' })
  t.equal(log.size, 0, 'nothing stored')
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /status_page_post_failures_total\{path="backup",reason="invalid_request",service="status-page",instance="status-page"\} 11/)
})

t.test('the backup path takes only the configured operator key', async (t) => {
  const { app, backup } = await setup(t)
  const missing = await backup({ message: 'm' }, null)
  t.equal(missing.statusCode, 401)
  t.same(missing.json(), { __type: 'NotAuthorizedException', message: 'missing X-Operator-Key header' })
  for (const wrong of ['x', KEY.slice(0, -1), KEY + 'x', KEY.toUpperCase()]) {
    const res = await backup({ message: 'm' }, wrong)
    t.equal(res.statusCode, 401)
    t.same(res.json(), { __type: 'NotAuthorizedException', message: 'wrong operator key' })
  }
  const ok = await backup({ message: 'Posted from the backup tool.' })
  t.equal(ok.statusCode, 201)
  t.match(ok.json(), { id: 1, path: 'backup', operator: 'backup-key', message: 'Posted from the backup tool.' })
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /status_page_updates_total\{path="backup",[^}]*\} 1\n/)
  t.match(metrics, /status_page_updates_total\{path="primary",[^}]*\} 0\n/)
  t.match(metrics, /status_page_post_failures_total\{path="backup",reason="wrong_key",[^}]*\} 4\n/)
  t.match(metrics, /status_page_post_failures_total\{path="backup",reason="missing_key",[^}]*\} 1\n/)
  t.match(metrics, new RegExp(`status_page_last_update_timestamp_seconds\\{[^}]*\\} ${Date.parse('2020-11-25T13:15:00.000Z') / 1000}\\n`))

  const disabled = await setup(t, { operatorKey: undefined })
  const res = await disabled.backup({ message: 'm' })
  t.equal(res.statusCode, 403)
  t.same(res.json(), { __type: 'AccessDeniedException', message: 'backup posting is disabled: the status page has no OUTAGE_LAB_OPERATOR_KEY' })
})

t.test('posted updates survive a restart; a torn last line is cut off', async (t) => {
  const dir = t.testdir()
  const first = await setup(t, {}, dir)
  await first.backup({ message: 'one', component: 'lambda', status: 'degraded' })
  await first.backup({ message: 'two' })
  await first.app.close()
  const file = path.join(dir, 'updates.jsonl')
  // A crash mid-append leaves a partial line that no poster was told about.
  await fs.appendFile(file, '{"id":3,"message":"tor')

  const second = await setup(t, {}, dir)
  t.same(
    second.log.list().map((u) => u.message),
    ['one', 'two'],
  )
  t.equal((await fs.readFile(file, 'utf8')).split('\n').length, 3, 'two lines and the final newline')
  const three = await second.backup({ message: 'three' })
  t.equal(three.json().id, 3)
  const status = (await second.app.inject({ method: 'GET', url: '/api/status' })).json()
  t.same(
    status.updates.map((u: any) => u.message),
    ['three', 'two', 'one'],
  )
  t.match(
    status.components.find((c: any) => c.name === 'lambda'),
    { status: 'degraded', updateId: 1 },
  )
  t.match((await second.app.inject({ url: '/metrics', headers: internalHeaders(second.app.service.internalToken) })).body, /status_page_updates\{[^}]*\} 3\n/)
})

t.test('page views are counted', async (t) => {
  const { app } = await setup(t)
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200)
  t.match((await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body, /status_page_page_views_total\{[^}]*\} 3\n/)
  t.match((await app.inject({ method: 'GET', url: '/' })).body, /<p>No updates posted\.<\/p>/)
})
