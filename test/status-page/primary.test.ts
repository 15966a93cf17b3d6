// The primary posting path against a JWKS served over real HTTP by a stand-in for Cognito (keys
// generated here with jose). The real Cognito is exercised in cognito-e2e.test.ts.
import t, { type Test } from 'tap'
import path from 'node:path'
import { SignJWT } from 'jose'
import { buildApp, type StatusPageDeps } from '../../services/status-page/app.js'
import { UpdateLog } from '../../services/status-page/updates.js'
import { startCognitoStandIn } from './jwks-stand-in.js'
import { internalHeaders } from '../../services/kit/internal.js'

async function setup(t: Test, deps: Partial<StatusPageDeps> = {}) {
  const cognito = await startCognitoStandIn()
  t.teardown(() => cognito.close())
  const log = await UpdateLog.open(path.join(t.testdir(), 'updates.jsonl'))
  const app = buildApp({ log, cognitoUrl: cognito.url, operatorKey: 'backup-operator-key-0123456789', jwksTimeoutMs: 5_000, logger: false, ...deps })
  t.teardown(() => app.close())
  const post = (token: string | undefined, payload: unknown = { message: 'We are investigating.', component: 'kinesis', status: 'degraded' }) =>
    app.inject({ method: 'POST', url: '/api/updates', headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, payload: payload as any })
  return { app, log, cognito, post }
}

const failures = async (app: { inject: (req: { method: string; url: string }) => Promise<{ body: string }> }) =>
  (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body as string

t.test('an operator signed in through Cognito posts with an ID or an access token', async (t) => {
  const { app, cognito, post } = await setup(t)
  const id = await post(await cognito.mint({ tokenUse: 'id', username: 'alice' }))
  t.equal(id.statusCode, 201)
  t.match(id.json(), { id: 1, path: 'primary', operator: 'alice', component: 'kinesis', status: 'degraded', message: 'We are investigating.' })
  const access = await post(await cognito.mint({ tokenUse: 'access', username: 'bob' }), { message: 'Update two' })
  t.equal(access.statusCode, 201)
  t.match(access.json(), { id: 2, path: 'primary', operator: 'bob' })
  t.equal(cognito.fetches, 2, 'with JWKS_CACHE_MS=0 every post asks Cognito for its keys')
  const status = (await app.inject({ method: 'GET', url: '/api/status' })).json()
  t.same(
    status.updates.map((u: any) => u.operator),
    ['bob', 'alice'],
  )
  t.match(await failures(app), /status_page_updates_total\{path="primary",[^}]*\} 2\n/)
})

t.test('a token that is missing, expired, forged or not from our Cognito is refused with 401', async (t) => {
  const { app, cognito, post, log } = await setup(t)
  const hs256 = await new SignJWT({ token_use: 'id', aud: 'operators-client' })
    .setProtectedHeader({ alg: 'HS256', kid: 'stand-in-key-1' })
    .setIssuer(`${cognito.url}/${cognito.poolId}`)
    .setSubject('s')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('a shared secret anybody could guess'))
  const cases: [string | undefined, string, string][] = [
    [undefined, 'missing_token', 'missing operator token: send Authorization: Bearer <Cognito ID or access token>'],
    ['not-a-jwt', 'invalid_token', 'the operator token is not a JWT'],
    [await cognito.mint({ expiresInS: -10 }), 'expired_token', 'operator token expired: sign in through Cognito again'],
    [await cognito.mint({ signWith: cognito.foreignKey }), 'invalid_token', "the token signature does not verify with the user pool's keys"],
    [await cognito.mint({ kid: 'some-other-key' }), 'invalid_token', 'no key of the user pool matches the token (kid)'],
    [hs256, 'invalid_token', 'the token must be signed with RS256'],
    [
      await cognito.mint({ issuer: 'http://127.0.0.1:1/us-east-1_Elsewhere' }),
      'invalid_token',
      `the token's issuer "http://127.0.0.1:1/us-east-1_Elsewhere" is not a user pool of ${cognito.url}`,
    ],
    [
      await cognito.mint({ issuer: `${cognito.url}/us-east-1_NoSuchPool` }),
      'invalid_token',
      `the token's user pool is unknown to Cognito (JWKS ${cognito.url}/us-east-1_NoSuchPool/.well-known/jwks.json answered 404)`,
    ],
    [await cognito.mint({ issuer: `${cognito.url}/../admin` }), 'invalid_token', `the token's issuer "${cognito.url}/../admin" does not name a user pool`],
    [await cognito.mint({ claims: { token_use: 'refresh' } }), 'invalid_token', 'token_use must be id or access, got "refresh"'],
  ]
  for (const [token, reason, message] of cases) {
    const res = await post(token)
    t.equal(res.statusCode, 401, reason)
    t.same(res.json(), { __type: 'NotAuthorizedException', message })
  }
  t.equal(log.size, 0)
  const metrics = await failures(app)
  t.match(metrics, /status_page_post_failures_total\{path="primary",reason="invalid_token",[^}]*\} 8\n/)
  t.match(metrics, /status_page_post_failures_total\{path="primary",reason="expired_token",[^}]*\} 1\n/)
  t.match(metrics, /status_page_post_failures_total\{path="primary",reason="missing_token",[^}]*\} 1\n/)
})

t.test("OPERATOR_POOL_ID and OPERATOR_CLIENT_ID pin the operators' pool and app client", async (t) => {
  const { cognito, post } = await setup(t, { operatorPoolId: 'us-east-1_StandIn01', operatorClientId: 'operators-client' })
  t.equal((await post(await cognito.mint())).statusCode, 201)
  t.equal((await post(await cognito.mint({ tokenUse: 'access' }))).statusCode, 201)
  const otherClient = await post(await cognito.mint({ clientId: 'customer-app' }))
  t.equal(otherClient.statusCode, 401)
  t.same(otherClient.json(), {
    __type: 'NotAuthorizedException',
    message: 'the token was issued to app client "customer-app", not the operators\' client operators-client',
  })
  const otherPool = await post(await cognito.mint({ issuer: `${cognito.url}/us-east-1_Customers` }))
  t.same(otherPool.json(), {
    __type: 'NotAuthorizedException',
    message: "the token was issued by user pool us-east-1_Customers, not the operators' pool us-east-1_StandIn01",
  })
})

t.test('when Cognito cannot be reached the primary path answers 503 and the backup path still posts', async (t) => {
  const { app, cognito, post, log } = await setup(t, { jwksTimeoutMs: 1_000 })
  const token = await cognito.mint({ username: 'alice' })
  t.equal((await post(token)).statusCode, 201)

  cognito.mode = 'hang'
  const started = Date.now()
  const hung = await post(token)
  t.equal(hung.statusCode, 503)
  t.same(hung.json(), {
    __type: 'ServiceUnavailable',
    message:
      'cannot verify the operator token: Cognito is unavailable (the JWKS fetch timed out); post through the backup path: outage-lab status-page post --backup "message"',
  })
  t.ok(Date.now() - started < 5_000, "the post fails after JWKS_TIMEOUT_MS, not after the HTTP client's defaults")

  cognito.mode = 'error'
  const erroring = await post(token)
  t.equal(erroring.statusCode, 503)
  t.match(
    erroring.json().message,
    /Cognito is unavailable \(JWKS fetch from http:\/\/127\.0\.0\.1:\d+\/us-east-1_StandIn01\/\.well-known\/jwks\.json answered 500\)/,
  )

  const url = cognito.url
  await cognito.close()
  const refused = await post(token)
  t.equal(refused.statusCode, 503)
  t.equal(
    refused.json().message,
    `cannot verify the operator token: Cognito is unavailable (JWKS fetch from ${url}/us-east-1_StandIn01/.well-known/jwks.json failed: ECONNREFUSED); post through the backup path: outage-lab status-page post --backup "message"`,
  )

  const backup = await app.inject({
    method: 'POST',
    url: '/api/backup/updates',
    headers: { 'x-operator-key': 'backup-operator-key-0123456789' },
    payload: { message: 'Posted via the backup tool.', component: 'cognito', status: 'outage' },
  })
  t.equal(backup.statusCode, 201)
  t.same(
    log.list().map((u) => u.path),
    ['primary', 'backup'],
  )
  t.match(await failures(app), /status_page_post_failures_total\{path="primary",reason="cognito_unavailable",[^}]*\} 3\n/)
})

t.test('with JWKS_CACHE_MS the keys fetched last are trusted while Cognito is away', async (t) => {
  const { cognito, post } = await setup(t, { jwksCacheMs: 60_000 })
  const token = await cognito.mint()
  t.equal((await post(token)).statusCode, 201)
  cognito.mode = 'error'
  t.equal((await post(token)).statusCode, 201)
  t.equal(cognito.fetches, 1)
})

t.test('an admin outbound fault on the JWKS fetch fails the primary path like a sick Cognito', async (t) => {
  const { app, cognito, post } = await setup(t, { adminToken: 'admin-token' })
  const rule = await app.inject({
    method: 'POST',
    url: '/admin/faults/outbound',
    headers: { authorization: 'Bearer admin-token' },
    payload: { kind: 'error', status: 500, errorType: 'InternalErrorException', match: { origin: cognito.url } },
  })
  t.equal(rule.statusCode, 201, rule.body)
  const res = await post(await cognito.mint())
  t.equal(res.statusCode, 503)
  t.equal(cognito.fetches, 0, 'the request never left the status page')
})
