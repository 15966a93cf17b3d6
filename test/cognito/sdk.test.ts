// The stock @aws-sdk/client-cognito-identity-provider against a real cognito process, whose
// access patterns go to a real Kinesis (metadata, two back-ends, a front-end): every operation,
// Cognito's errors as the SDK's exception classes, tokens verified with jose against the JWKS the
// process serves, a restart that keeps users and tokens, and the records read back from Kinesis.
import t from 'tap'
import path from 'node:path'
import { request } from 'undici'
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  CreateUserPoolClientCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  GetUserCommand,
  NotAuthorizedException,
  UserNotFoundException,
  UsernameExistsException,
  InvalidParameterException,
  InvalidPasswordException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider'
import { ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-kinesis'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { INTERNAL, spawnService, CREDENTIALS, type Spawned } from '../helpers/spawn.js'
import { startKinesis } from '../kinesis/sdk-topology.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const PASSWORD = 'Correct-Horse-9'
const STREAM = 'cognito-access-patterns'

const cognitoClient = (t: Tap.Test, url: string) => {
  // Always an explicit local endpoint: the SDK must never reach the real AWS.
  const c = new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => c.destroy())
  return c
}

async function health(url: string): Promise<any> {
  const res = await request(`${url}/health`)
  return res.body.json()
}

t.test('the stock Cognito client works end to end against a real process shipping to a real Kinesis', async (t) => {
  const kinesis = await startKinesis(t)
  const dataDir = path.join(t.testdir(), 'cognito')
  const start = async (env: Record<string, string> = {}) => {
    const p = await spawnService(
      'services/cognito/main.js',
      { KINESIS_ENDPOINT: kinesis.frontend.url, OUTAGE_LAB_DATA_DIR: dataDir, ACCESS_FLUSH_INTERVAL_MS: '50', ...env },
      { timeoutMs: 60_000 },
    )
    t.teardown(() => p.stop())
    await eventually(async () => (await health(p.url)).stream?.ready === true, { what: 'the access-pattern stream ready' })
    return p
  }
  let cognito: Spawned = await start()
  const sdk = cognitoClient(t, cognito.url)

  const { UserPool: pool } = await sdk.send(new CreateUserPoolCommand({ PoolName: 'operators' }))
  t.match(pool, { Id: /^us-east-1_\w{9}$/, Name: 'operators' })
  t.ok(pool!.CreationDate instanceof Date && Math.abs(pool!.CreationDate.getTime() - Date.now()) < 60_000, 'CreationDate parses as a recent Date')
  const { UserPoolClient: client } = await sdk.send(
    new CreateUserPoolClientCommand({
      UserPoolId: pool!.Id,
      ClientName: 'status-page',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  )
  const ClientId = client!.ClientId!
  const { User: user } = await sdk.send(
    new AdminCreateUserCommand({
      UserPoolId: pool!.Id,
      Username: 'oncall',
      UserAttributes: [{ Name: 'email', Value: 'oncall@example.com' }],
      MessageAction: 'SUPPRESS',
    }),
  )
  t.equal(user?.UserStatus, 'FORCE_CHANGE_PASSWORD')
  t.ok(user?.UserCreateDate instanceof Date)
  await sdk.send(new AdminSetUserPasswordCommand({ UserPoolId: pool!.Id, Username: 'oncall', Password: PASSWORD, Permanent: true }))

  const signIn = (password = PASSWORD, username = 'oncall', client = sdk) =>
    client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId, AuthParameters: { USERNAME: username, PASSWORD: password } }))
  const auth = (await signIn()).AuthenticationResult!
  t.equal(auth.TokenType, 'Bearer')
  t.equal(auth.ExpiresIn, 3600)

  const issuer = `${cognito.url}/${pool!.Id}`
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`))
  const id = await jwtVerify(auth.IdToken!, jwks, { issuer, audience: ClientId, algorithms: ['RS256'] })
  t.match(id.payload, { token_use: 'id', 'cognito:username': 'oncall', email: 'oncall@example.com' })
  const access = await jwtVerify(auth.AccessToken!, jwks, { issuer, algorithms: ['RS256'] })
  t.match(access.payload, { token_use: 'access', client_id: ClientId, username: 'oncall', sub: id.payload.sub })

  const me = await sdk.send(new GetUserCommand({ AccessToken: auth.AccessToken }))
  t.equal(me.Username, 'oncall')
  t.same(me.UserAttributes, [
    { Name: 'sub', Value: id.payload.sub },
    { Name: 'email', Value: 'oncall@example.com' },
  ])

  const refreshed = await sdk.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId, AuthParameters: { REFRESH_TOKEN: auth.RefreshToken! } }))
  const again = await jwtVerify(refreshed.AuthenticationResult!.AccessToken!, jwks, { issuer })
  t.equal(again.payload.origin_jti, access.payload.origin_jti, 'the refresh continues the session')

  // Errors arrive as the SDK's own exception classes with Cognito's messages.
  const rejects = async (p: Promise<unknown>, cls: any, message: string | RegExp, what: string) => {
    const err: any = await p.then(
      () => undefined,
      (e) => e,
    )
    t.ok(err instanceof cls, `${what}: ${cls.name} (got ${err?.name})`)
    t.match(err?.message, message, `${what}: message`)
    t.equal(err?.$metadata?.httpStatusCode, 400, `${what}: status`)
  }
  await rejects(signIn('wrong-Password-1'), NotAuthorizedException, 'Incorrect username or password.', 'wrong password')
  await rejects(signIn(PASSWORD, 'nobody'), UserNotFoundException, 'User does not exist.', 'unknown user')
  await rejects(sdk.send(new GetUserCommand({ AccessToken: auth.IdToken })), NotAuthorizedException, 'Invalid Access Token', 'an IdToken as access token')
  await rejects(
    sdk.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId, AuthParameters: { USERNAME: 'oncall' } })),
    InvalidParameterException,
    'Missing required parameter PASSWORD',
    'no password',
  )
  await rejects(
    sdk.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'nosuchclient', AuthParameters: { USERNAME: 'oncall', PASSWORD } })),
    ResourceNotFoundException,
    'User pool client nosuchclient does not exist.',
    'unknown client',
  )
  await rejects(
    sdk.send(new AdminCreateUserCommand({ UserPoolId: pool!.Id, Username: 'oncall' })),
    UsernameExistsException,
    'User account already exists',
    'duplicate user',
  )
  await rejects(
    sdk.send(new AdminSetUserPasswordCommand({ UserPoolId: pool!.Id, Username: 'oncall', Password: 'password', Permanent: true })),
    InvalidPasswordException,
    /^Password did not conform with policy: /,
    'weak password',
  )
  const wrongKey = new CognitoIdentityProviderClient({
    endpoint: cognito.url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' },
    maxAttempts: 1,
  })
  t.teardown(() => wrongKey.destroy())
  const denied: any = await wrongKey.send(new AdminCreateUserCommand({ UserPoolId: pool!.Id, Username: 'intruder' })).catch((e) => e)
  t.equal(denied?.name, 'InvalidSignatureException', 'an admin call signed with a wrong secret is refused')
  t.ok(await signIn(PASSWORD, 'oncall', wrongKey), 'sign-in needs no IAM credentials: the SDK sends it unsigned')

  // The access patterns of those calls are in Kinesis.
  const k = kinesis.client('h1')
  await eventually(async () => (await health(cognito.url)).accessBuffer.records === 0, { what: 'the access buffer drained' })
  const records: any[] = []
  const { Shards } = await k.send(new ListShardsCommand({ StreamName: STREAM }))
  for (const shard of Shards ?? []) {
    const it = await k.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    const got = await k.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))
    for (const r of got.Records ?? []) records.push(JSON.parse(Buffer.from(r.Data!).toString()))
  }
  const seen = new Set(records.map((r) => `${r.operation}:${r.outcome}`))
  for (const want of [
    'CreateUserPool:OK',
    'CreateUserPoolClient:OK',
    'AdminCreateUser:OK',
    'AdminSetUserPassword:OK',
    'InitiateAuth:OK',
    'InitiateAuth:NotAuthorizedException',
    'InitiateAuth:UserNotFoundException',
    'GetUser:OK',
    'AdminCreateUser:UsernameExistsException',
  ]) {
    t.ok(seen.has(want), `Kinesis holds an access record ${want}`)
  }
  t.match(await (await request(`${cognito.url}/metrics`, { headers: INTERNAL })).body.text(), /cognito_access_stream_ready\{[^}]*\} 1/)

  // A restart keeps pools, users and keys: the old token still verifies, the password still works.
  await cognito.stop()
  cognito = await start({ COGNITO_PUBLIC_URL: 'http://cognito.outage-lab.test:9229/' })
  const after = cognitoClient(t, cognito.url)
  t.equal((await after.send(new GetUserCommand({ AccessToken: auth.AccessToken }))).Username, 'oncall', 'a token issued before the restart')
  const fresh = (await signIn(PASSWORD, 'oncall', after)).AuthenticationResult!
  const publicIssuer = `http://cognito.outage-lab.test:9229/${pool!.Id}`
  await jwtVerify(fresh.IdToken!, createRemoteJWKSet(new URL(`${cognito.url}/${pool!.Id}/.well-known/jwks.json`)), { issuer: publicIssuer })
  t.pass('COGNITO_PUBLIC_URL is the issuer base, and the key survived the restart')
})

t.test('a bad environment stops the process before it listens, naming the variable', async (t) => {
  // A loaded machine may take long to load the process; it must exit, not listen.
  const err: any = await spawnService('services/cognito/main.js', { ACCESS_BUFFER_RECORDS: '10' }, { timeoutMs: 60_000 }).catch((e) => e)
  t.match(err?.message, /exited with 2 before listening; stderr: cognito: environment variable KINESIS_ENDPOINT: expected a non-empty string, got nothing/)
})
