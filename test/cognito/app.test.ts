// The Cognito API through inject(): Cognito's shapes and error bodies, which calls need SigV4, the
// pool's JWKS, an access-pattern record per call, and what a full access buffer does to sign-ins.
import t from 'tap'
import path from 'node:path'
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose'
import { buildApp, type AccessSink } from '../../services/cognito/app.js'
import { UserStore } from '../../services/cognito/store.js'
import { readConfig } from '../../services/cognito/config.js'
import type { AccessRecord } from '../../services/cognito/access-log.js'
import { call, KEYS, ISSUER_BASE } from './inject.js'
import { internalHeaders } from '../../services/kit/internal.js'

const PASSWORD = 'Correct-Horse-9'

/** A sink that keeps what it is given and fails while told to: the access log's far side, scripted. */
function scriptedSink() {
  const shipped: AccessRecord[] = []
  const sink = {
    shipped,
    failing: false,
    ready: true,
    status: () => ({ name: 'test-stream', ready: true }),
    ship: async (batch: AccessRecord[]) => {
      if (sink.failing) throw new Error('InternalFailure: the shard-map is broken')
      shipped.push(...batch)
      return []
    },
  }
  return sink satisfies AccessSink
}

async function setup(t: Tap.Test, opts: { capacity?: number; sustainKinesisErrors?: boolean; file?: string } = {}) {
  const store = await UserStore.open(opts.file ?? path.join(t.testdir(), 'cognito.json'))
  const sink = scriptedSink()
  const app = buildApp({
    store,
    keys: KEYS,
    accessSink: sink,
    accessBufferRecords: opts.capacity ?? 100,
    accessFlushIntervalMs: 10,
    sustainKinesisErrors: opts.sustainKinesisErrors ?? false,
    logger: false,
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, store, sink }
}

async function seed(app: Awaited<ReturnType<typeof setup>>['app'], clientInput: Record<string, unknown> = {}) {
  const pool = (await call(app, 'CreateUserPool', { PoolName: 'operators' })).body.UserPool
  const client = (
    await call(app, 'CreateUserPoolClient', {
      UserPoolId: pool.Id,
      ClientName: 'status-page',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      ...clientInput,
    })
  ).body.UserPoolClient
  await call(app, 'AdminCreateUser', {
    UserPoolId: pool.Id,
    Username: 'oncall',
    UserAttributes: [{ Name: 'email', Value: 'oncall@example.com' }],
    MessageAction: 'SUPPRESS',
  })
  await call(app, 'AdminSetUserPassword', { UserPoolId: pool.Id, Username: 'oncall', Password: PASSWORD, Permanent: true })
  return { pool, client }
}

const signIn = (app: any, clientId: string, username = 'oncall', password = PASSWORD) =>
  call(
    app,
    'InitiateAuth',
    { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } },
    { signed: false },
  )

t.test('a user created by an admin signs in and gets RS256 tokens verifiable with the pool JWKS', async (t) => {
  const { app } = await setup(t)
  const created = await call(app, 'CreateUserPool', { PoolName: 'operators', Policies: { PasswordPolicy: { MinimumLength: 10 } } })
  t.equal(created.status, 200)
  t.equal(created.headers['content-type'], 'application/x-amz-json-1.1')
  const pool = created.body.UserPool
  t.match(pool, { Id: /^us-east-1_[A-Za-z0-9]{9}$/, Name: 'operators', Policies: { PasswordPolicy: { MinimumLength: 10, RequireSymbols: true } } })
  t.equal(pool.Arn, `arn:aws:cognito-idp:us-east-1:000000000000:userpool/${pool.Id}`)

  const client = (
    await call(app, 'CreateUserPoolClient', {
      UserPoolId: pool.Id,
      ClientName: 'status-page',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    })
  ).body.UserPoolClient
  t.match(client, {
    UserPoolId: pool.Id,
    ClientName: 'status-page',
    ClientId: /^[a-z0-9]{26}$/,
    PreventUserExistenceErrors: 'LEGACY',
    AccessTokenValidity: 1,
    RefreshTokenValidity: 30,
  })
  t.notOk('ClientSecret' in client, 'no secret unless asked for')

  const user = await call(app, 'AdminCreateUser', {
    UserPoolId: pool.Id,
    Username: 'oncall',
    UserAttributes: [{ Name: 'email', Value: 'oncall@example.com' }],
    TemporaryPassword: 'Temporary-Pass-1',
  })
  t.equal(user.status, 200)
  t.match(user.body.User, { Username: 'oncall', Enabled: true, UserStatus: 'FORCE_CHANGE_PASSWORD' })
  t.match(user.body.User.Attributes, [
    { Name: 'sub', Value: /^[0-9a-f-]{36}$/ },
    { Name: 'email', Value: 'oncall@example.com' },
  ])

  const challenge = await signIn(app, client.ClientId, 'oncall', 'Temporary-Pass-1')
  t.equal(challenge.body.ChallengeName, 'NEW_PASSWORD_REQUIRED', 'a temporary password asks for a new one')
  t.notOk(challenge.body.AuthenticationResult)

  t.same((await call(app, 'AdminSetUserPassword', { UserPoolId: pool.Id, Username: 'oncall', Password: PASSWORD, Permanent: true })).body, {})
  const auth = await signIn(app, client.ClientId)
  t.equal(auth.status, 200)
  const result = auth.body.AuthenticationResult
  t.match(result, { ExpiresIn: 3600, TokenType: 'Bearer', AccessToken: String, IdToken: String, RefreshToken: String })
  t.same(auth.body.ChallengeParameters, {})

  const jwksRes = await app.inject({ method: 'GET', url: `/${pool.Id}/.well-known/jwks.json` })
  t.equal(jwksRes.statusCode, 200)
  const keys = jwksRes.json()
  t.match(keys.keys, [{ kty: 'RSA', alg: 'RS256', use: 'sig', kid: String, n: String, e: 'AQAB' }])
  t.notOk('d' in keys.keys[0], 'the JWKS holds no private part')
  const issuer = `${ISSUER_BASE}/${pool.Id}`
  const jwks = createLocalJWKSet(keys)
  const id = await jwtVerify(result.IdToken, jwks, { issuer, audience: client.ClientId })
  t.match(id.payload, { token_use: 'id', 'cognito:username': 'oncall', email: 'oncall@example.com', sub: user.body.User.Attributes[0].Value })
  const access = await jwtVerify(result.AccessToken, jwks, { issuer })
  t.match(access.payload, { token_use: 'access', client_id: client.ClientId, username: 'oncall', scope: 'aws.cognito.signin.user.admin' })
  t.equal(decodeProtectedHeader(result.AccessToken).kid, keys.keys[0].kid)
  t.equal(access.payload.exp! - access.payload.iat!, 3600)

  const me = await call(app, 'GetUser', { AccessToken: result.AccessToken }, { signed: false })
  t.equal(me.status, 200)
  t.same(me.body, {
    Username: 'oncall',
    UserAttributes: [
      { Name: 'sub', Value: id.payload.sub },
      { Name: 'email', Value: 'oncall@example.com' },
    ],
  })

  const refreshed = await call(
    app,
    'InitiateAuth',
    { AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: client.ClientId, AuthParameters: { REFRESH_TOKEN: result.RefreshToken } },
    { signed: false },
  )
  t.equal(refreshed.status, 200)
  t.notOk(refreshed.body.AuthenticationResult.RefreshToken, 'a refresh returns no new refresh token, as Cognito')
  const again = await jwtVerify(refreshed.body.AuthenticationResult.AccessToken, jwks, { issuer })
  t.equal(again.payload.origin_jti, access.payload.origin_jti, 'the refreshed token belongs to the same session')
  t.equal(again.payload.auth_time, access.payload.auth_time)

  const oidc = await app.inject({ method: 'GET', url: `/${pool.Id}/.well-known/openid-configuration`, headers: { host: 'cognito-idp.local:9229' } })
  t.match(oidc.json(), { issuer, jwks_uri: `${issuer}/.well-known/jwks.json` })
  const missing = await app.inject({ method: 'GET', url: '/us-east-1_nothere/.well-known/jwks.json' })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { __type: 'ResourceNotFoundException', message: 'User pool us-east-1_nothere does not exist.' })
})

t.test('sign-in failures answer with Cognito error types, statuses and messages', async (t) => {
  const { app } = await setup(t)
  const { pool, client } = await seed(app)
  const expect = async (p: Promise<{ status: number; body: any; headers: any }>, type: string, message: string | RegExp, name: string) => {
    const res = await p
    t.equal(res.status, 400, `${name}: status`)
    t.equal(res.headers['x-amzn-errortype'], type, `${name}: x-amzn-errortype`)
    t.match(res.body, { __type: type, message }, name)
  }
  await expect(signIn(app, client.ClientId, 'oncall', 'wrong-password'), 'NotAuthorizedException', 'Incorrect username or password.', 'wrong password')
  await expect(signIn(app, client.ClientId, 'nobody'), 'UserNotFoundException', 'User does not exist.', 'unknown user on a LEGACY client')
  const strict = (
    await call(app, 'CreateUserPoolClient', {
      UserPoolId: pool.Id,
      ClientName: 'strict',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
    })
  ).body.UserPoolClient
  await expect(
    signIn(app, strict.ClientId, 'nobody'),
    'NotAuthorizedException',
    'Incorrect username or password.',
    'unknown user with PreventUserExistenceErrors',
  )
  await expect(signIn(app, 'nosuchclient'), 'ResourceNotFoundException', 'User pool client nosuchclient does not exist.', 'unknown client')
  await expect(
    call(app, 'InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: client.ClientId, AuthParameters: { PASSWORD: 'x' } }, { signed: false }),
    'InvalidParameterException',
    'Missing required parameter USERNAME',
    'missing USERNAME',
  )
  await expect(
    call(app, 'InitiateAuth', { AuthFlow: 'PASSWORD_PLEASE', ClientId: client.ClientId }, { signed: false }),
    'InvalidParameterException',
    /^1 validation error detected: Value 'PASSWORD_PLEASE' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: \[USER_SRP_AUTH, /,
    'unknown AuthFlow',
  )
  await expect(
    call(app, 'InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: {} }, { signed: false }),
    'InvalidParameterException',
    "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
    'missing ClientId',
  )
  const srpOnly = (await call(app, 'CreateUserPoolClient', { UserPoolId: pool.Id, ClientName: 'web' })).body.UserPoolClient
  t.same(srpOnly.ExplicitAuthFlows, ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH'], "Cognito's default flows")
  await expect(signIn(app, srpOnly.ClientId), 'InvalidParameterException', 'USER_PASSWORD_AUTH flow not enabled for this client', 'flow not enabled')
  await expect(
    call(app, 'InitiateAuth', { AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: client.ClientId, AuthParameters: { REFRESH_TOKEN: 'garbage' } }, { signed: false }),
    'NotAuthorizedException',
    'Invalid Refresh Token',
    'forged refresh token',
  )
  await expect(call(app, 'GetUser', { AccessToken: 'not.a.jwt' }, { signed: false }), 'NotAuthorizedException', 'Invalid Access Token', 'garbage access token')
  // An IdToken is not an AccessToken.
  const idToken = (await signIn(app, client.ClientId)).body.AuthenticationResult.IdToken
  await expect(
    call(app, 'GetUser', { AccessToken: idToken }, { signed: false }),
    'NotAuthorizedException',
    'Invalid Access Token',
    'an IdToken as access token',
  )

  await expect(
    call(app, 'AdminCreateUser', { UserPoolId: pool.Id, Username: 'oncall' }),
    'UsernameExistsException',
    'User account already exists',
    'duplicate user',
  )
  await expect(
    call(app, 'AdminCreateUser', { UserPoolId: 'us-east-1_missing', Username: 'x' }),
    'ResourceNotFoundException',
    'User pool us-east-1_missing does not exist.',
    'unknown pool',
  )
  await expect(
    call(app, 'AdminSetUserPassword', { UserPoolId: pool.Id, Username: 'ghost', Password: PASSWORD, Permanent: true }),
    'UserNotFoundException',
    'User does not exist.',
    'password of an unknown user',
  )
  await expect(
    call(app, 'AdminSetUserPassword', { UserPoolId: pool.Id, Username: 'oncall', Password: 'short', Permanent: true }),
    'InvalidPasswordException',
    'Password did not conform with policy: Password not long enough',
    'short password',
  )
  await expect(
    call(app, 'AdminSetUserPassword', { UserPoolId: pool.Id, Username: 'oncall', Password: 'alllowercase-1', Permanent: true }),
    'InvalidPasswordException',
    'Password did not conform with policy: Password must have uppercase characters',
    'no uppercase',
  )
  await expect(
    call(app, 'CreateUserPool', {}),
    'InvalidParameterException',
    "1 validation error detected: Value null at 'poolName' failed to satisfy constraint: Member must not be null",
    'pool without a name',
  )
  await expect(
    call(app, 'CreateUserPoolClient', { UserPoolId: pool.Id, ClientName: 'x', ExplicitAuthFlows: ['MAGIC'] }),
    'InvalidParameterException',
    /explicitAuthFlows/,
    'unknown explicit flow',
  )
  const secretClient = (
    await call(app, 'CreateUserPoolClient', {
      UserPoolId: pool.Id,
      ClientName: 'server',
      GenerateSecret: true,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
    })
  ).body.UserPoolClient
  t.match(secretClient.ClientSecret, /^[a-z0-9]{51}$/)
  await expect(
    signIn(app, secretClient.ClientId),
    'NotAuthorizedException',
    `Client ${secretClient.ClientId} is configured with secret but SECRET_HASH was not received`,
    'secret client without SECRET_HASH',
  )
  const { createHmac } = await import('node:crypto')
  const secretHash = createHmac('sha256', secretClient.ClientSecret)
    .update('oncall' + secretClient.ClientId)
    .digest('base64')
  const withHash = await call(
    app,
    'InitiateAuth',
    { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: secretClient.ClientId, AuthParameters: { USERNAME: 'oncall', PASSWORD, SECRET_HASH: secretHash } },
    { signed: false },
  )
  t.equal(withHash.status, 200, 'the documented SECRET_HASH is accepted')
})

t.test('admin calls need SigV4; the end user calls may come unsigned but not badly signed', async (t) => {
  const { app } = await setup(t)
  const { pool, client } = await seed(app)
  const unsignedAdmin = await call(app, 'AdminCreateUser', { UserPoolId: pool.Id, Username: 'x' }, { signed: false })
  t.equal(unsignedAdmin.status, 400)
  t.same(unsignedAdmin.body, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
  t.equal((await signIn(app, client.ClientId)).status, 200, 'InitiateAuth without a signature')
  const badlySigned = await call(
    app,
    'InitiateAuth',
    { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: client.ClientId, AuthParameters: { USERNAME: 'oncall', PASSWORD } },
    { secret: 'wrong-secret' },
  )
  t.equal(badlySigned.status, 400)
  t.equal(badlySigned.body.__type, 'InvalidSignatureException')
  const signedWell = await call(app, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: client.ClientId,
    AuthParameters: { USERNAME: 'oncall', PASSWORD },
  })
  t.equal(signedWell.status, 200, 'a valid signature on an unsigned operation is fine too')
  const unknown = await call(app, 'ForgotPassword', { ClientId: client.ClientId, Username: 'oncall' }, { signed: true })
  t.same(unknown.body, { __type: 'UnknownOperationException', message: 'Unknown operation AWSCognitoIdentityProviderService.ForgotPassword' })
})

t.test('every call, failed or not, ships one access-pattern record', async (t) => {
  const { app, sink } = await setup(t)
  const { pool, client } = await seed(app)
  await signIn(app, client.ClientId, 'oncall', 'wrong-password')
  await signIn(app, client.ClientId)
  await app.cognito.accessLog.flush()
  const records = sink.shipped.map((r) => ({ ...JSON.parse(r.data.toString()), partitionKey: r.partitionKey }))
  t.same(
    records.map((r) => `${r.operation}:${r.outcome}`),
    ['CreateUserPool:OK', 'CreateUserPoolClient:OK', 'AdminCreateUser:OK', 'AdminSetUserPassword:OK', 'InitiateAuth:NotAuthorizedException', 'InitiateAuth:OK'],
  )
  t.match(records[5], { clientId: client.ClientId, username: 'oncall', sourceIp: '127.0.0.1', requestId: /^[0-9a-f-]{36}$/, atMs: Number })
  t.equal(records[2].partitionKey, `${pool.Id}/oncall`)
  t.notOk(JSON.stringify(records).includes(PASSWORD), 'no password in the access patterns')
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /cognito_access_records_shipped_total\{[^}]*\} 6/)
  t.match(metrics, /cognito_requests_total\{operation="InitiateAuth",code="400"[^}]*\} 1/)
  t.match(metrics, /cognito_errors_total\{operation="InitiateAuth",type="NotAuthorizedException"[^}]*\} 1/)
})

t.test('default: with Kinesis failing and the buffer full, sign-ins wait for space until Kinesis takes records again', async (t) => {
  const { app, sink } = await setup(t, { capacity: 6 })
  const { client } = await seed(app) // 4 records
  await app.cognito.accessLog.flush()
  sink.failing = true
  t.equal((await signIn(app, client.ClientId)).status, 200, 'the buffer absorbs while it has room')
  t.equal((await signIn(app, client.ClientId)).status, 200)
  t.equal(app.cognito.accessLog.stats().records, 2)
  for (let i = 0; i < 4; i++) t.equal((await signIn(app, client.ClientId)).status, 200)
  t.equal(app.cognito.accessLog.stats().records, 6, 'full')
  let answered = false
  const blocked = signIn(app, client.ClientId).then((r) => ((answered = true), r))
  await new Promise((r) => setTimeout(r, 300))
  t.notOk(answered, 'the sign-in hangs on the full buffer')
  const health = (await app.inject({ method: 'GET', url: '/health' })).json()
  t.match(health, { status: 'ok', sustainKinesisErrors: false, accessBuffer: { records: 6, capacity: 6, blockedRequests: 1 }, stream: { ready: true } })
  t.match((await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body, /cognito_requests_blocked\{[^}]*\} 1/)
  t.ok(app.cognito.accessLog.stats().shipFailures > 0, 'the shipper kept trying')
  sink.failing = false
  const res = await blocked
  t.equal(res.status, 200, 'it answers once Kinesis takes the backlog')
  t.equal(app.cognito.accessLog.stats().blockedRequests, 0)
})

t.test('sustainKinesisErrors: a full buffer sheds records and sign-ins never wait', async (t) => {
  const { app, sink } = await setup(t, { capacity: 5, sustainKinesisErrors: true })
  const { client } = await seed(app)
  await app.cognito.accessLog.flush()
  sink.failing = true
  for (let i = 0; i < 12; i++) t.equal((await signIn(app, client.ClientId)).status, 200)
  t.match(app.cognito.accessLog.stats(), { records: 5, blockedRequests: 0, shed: 7 })
  t.match((await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body, /cognito_access_records_shed_total\{[^}]*\} 7/)
  t.match((await app.inject({ method: 'GET', url: '/health' })).json(), { sustainKinesisErrors: true, accessBuffer: { shed: 7 } })
  sink.failing = false
  await app.cognito.accessLog.flush()
  t.equal(app.cognito.accessLog.stats().records, 0, 'the kept records ship once Kinesis is back')
})

t.test('pools, users and signing keys survive a restart; tokens issued before still verify', async (t) => {
  const file = path.join(t.testdir(), 'cognito.json')
  const first = await setup(t, { file })
  const { pool, client } = await seed(first.app)
  const before = (await signIn(first.app, client.ClientId)).body.AuthenticationResult
  await first.app.close()
  const second = await setup(t, { file })
  t.equal((await signIn(second.app, client.ClientId)).status, 200, 'the same password signs in')
  t.equal((await signIn(second.app, client.ClientId, 'oncall', 'nope')).body.__type, 'NotAuthorizedException')
  t.equal((await call(second.app, 'GetUser', { AccessToken: before.AccessToken }, { signed: false })).body.Username, 'oncall')
  const refreshed = await call(
    second.app,
    'InitiateAuth',
    { AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: client.ClientId, AuthParameters: { REFRESH_TOKEN: before.RefreshToken } },
    { signed: false },
  )
  t.equal(refreshed.status, 200, 'a refresh token from before the restart works')
  const fs = await import('node:fs/promises')
  const onDisk = await fs.readFile(file, 'utf8')
  t.notOk(onDisk.includes(PASSWORD), 'the password is not stored in clear')
  t.match(onDisk, /scrypt\$/)
  t.equal(JSON.parse(onDisk).pools[0].id, pool.Id)
})

t.test('configuration errors name the variable', async (t) => {
  t.throws(() => readConfig({ PORT: '0' }), { name: 'InvalidConfig', message: /KINESIS_ENDPOINT/ })
  t.throws(() => readConfig({ PORT: '0', KINESIS_ENDPOINT: 'kinesis:4567' }), { message: /KINESIS_ENDPOINT: expected an http/ })
  t.throws(() => readConfig({ PORT: '0', KINESIS_ENDPOINT: 'http://127.0.0.1:1', ACCESS_BUFFER_RECORDS: '0' }), { message: /ACCESS_BUFFER_RECORDS/ })
  t.throws(() => readConfig({ PORT: '0', KINESIS_ENDPOINT: 'http://127.0.0.1:1', SUSTAIN_KINESIS_ERRORS: 'maybe' }), {
    message: /SUSTAIN_KINESIS_ERRORS: expected true or false/,
  })
  const cfg = readConfig({ PORT: '0', KINESIS_ENDPOINT: 'http://127.0.0.1:1' })
  t.match(cfg, { accessLogStream: 'cognito-access-patterns', accessBufferRecords: 2000, accessFlushIntervalMs: 200, sustainKinesisErrors: false })
})
