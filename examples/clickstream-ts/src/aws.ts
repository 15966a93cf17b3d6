// The AWS side: the three stock SDK clients and what the service needs to exist before it serves
// (its stream, a user pool with its users). The SDK reads the endpoints from the environment
// (AWS_ENDPOINT_URL_KINESIS, _CLOUDWATCH, _COGNITO_IDENTITY_PROVIDER, AWS_REGION and the key):
// the code names no endpoint, so it runs unchanged against AWS, `outage-lab up` or a run.
import { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  CreateUserPoolClientCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider'
import { NodeHttpHandler } from '@smithy/node-http-handler'

export interface Clients {
  kinesis: KinesisClient
  cloudwatch: CloudWatchClient
  cognito: CognitoIdentityProviderClient
}

/**
 * naive: the SDK's defaults (3 attempts, standard retry mode, no request timeout of its own).
 * resilient: one attempt and a short timeout per call, because its own shipper retries with
 * backoff behind a breaker; SDK retries under it would multiply the load on a failing service.
 */
export function clients(variant: 'naive' | 'resilient'): Clients {
  if (variant === 'naive') return { kinesis: new KinesisClient({}), cloudwatch: new CloudWatchClient({}), cognito: new CognitoIdentityProviderClient({}) }
  const quick = (timeoutMs: number) => ({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true }),
  })
  return { kinesis: new KinesisClient(quick(2_000)), cloudwatch: new CloudWatchClient(quick(1_000)), cognito: new CognitoIdentityProviderClient(quick(1_000)) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Retries a setup step until it works or `deadline` (the lab's services may still be starting). */
async function eventually<T>(what: string, deadline: number, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step()
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err })
      await sleep(250)
    }
  }
}

/** CreateStream unless it exists, then wait until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, stream: string, shards: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  await eventually('CreateStream', deadline, () =>
    kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards })).catch((err: Error) => {
      if (err.name !== 'ResourceInUseException') throw err
    }),
  )
  await eventually(`stream ${stream} ACTIVE`, deadline, async () => {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
    if (s.StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') throw new Error(`status ${s.StreamDescriptionSummary?.StreamStatus}`)
  })
}

export interface UserPool {
  poolId: string
  clientId: string
  password: string
}

/**
 * A user pool of its own with `users` users (user-0 ...), each with a permanent password, and an
 * app client that allows password sign-in: what the lab's Cognito supports (CreateUserPool,
 * CreateUserPoolClient, AdminCreateUser, AdminSetUserPassword; no SignUp).
 */
export async function ensureUsers(
  cognito: CognitoIdentityProviderClient,
  name: string,
  users: number,
  password: string,
  timeoutMs = 60_000,
): Promise<UserPool> {
  const deadline = Date.now() + timeoutMs
  const pool = await eventually('CreateUserPool', deadline, () => cognito.send(new CreateUserPoolCommand({ PoolName: name })))
  const poolId = pool.UserPool!.Id!
  const client = await eventually('CreateUserPoolClient', deadline, () =>
    cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: `${name}-web`,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    ),
  )
  for (let i = 0; i < users; i++) {
    const Username = `user-${i}`
    await eventually(`AdminCreateUser ${Username}`, deadline, () =>
      cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username, MessageAction: 'SUPPRESS' })).catch((err: Error) => {
        if (err.name !== 'UsernameExistsException') throw err
      }),
    )
    await eventually(`AdminSetUserPassword ${Username}`, deadline, () =>
      cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username, Password: password, Permanent: true })),
    )
  }
  return { poolId, clientId: client.UserPoolClient!.ClientId!, password }
}

export interface Session {
  sub: string
  expiresAt: number
}

/** Signs users in (InitiateAuth USER_PASSWORD_AUTH) and keeps each one's token until shortly before it expires. */
export class SignIn {
  private readonly cache = new Map<string, Session>()
  calls = 0

  constructor(
    private readonly cognito: CognitoIdentityProviderClient,
    private readonly pool: UserPool,
  ) {}

  cached(user: string): Session | undefined {
    const s = this.cache.get(user)
    return s && s.expiresAt > Date.now() ? s : undefined
  }

  async session(user: string): Promise<Session> {
    const hit = this.cached(user)
    if (hit) return hit
    this.calls++
    const out = await this.cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: this.pool.clientId,
        AuthParameters: { USERNAME: user, PASSWORD: this.pool.password },
      }),
    )
    const r = out.AuthenticationResult!
    const claims = JSON.parse(Buffer.from(r.IdToken!.split('.')[1], 'base64url').toString('utf8')) as { sub: string }
    // A minute early, so a token never expires between the cache and the use.
    const s = { sub: claims.sub, expiresAt: Date.now() + ((r.ExpiresIn ?? 3600) - 60) * 1000 }
    this.cache.set(user, s)
    return s
  }
}
