// The AWSCognitoIdentityProviderService operations outage-lab serves, one handler each, answering
// in Cognito's shapes and words. Admin* and CreateUserPool* are signed IAM calls; InitiateAuth and
// GetUser are the end user's own (unsigned) calls.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Operation } from '../kit/index.js'
import { CognitoErrors, INCORRECT_CREDENTIALS } from './errors.js'
import { checkPolicy, hashPassword, verifyPassword, DEFAULT_POLICY, type PasswordPolicy } from './passwords.js'
import type { AppClient, User, UserPool, UserStore } from './store.js'
import type { TokenIssuer } from './tokens.js'
import * as v from './validate.js'

export interface OperationDeps {
  store: UserStore
  tokens: TokenIssuer
  /** The issuer's base URL for a request: COGNITO_PUBLIC_URL, or what the caller used to reach us. */
  issuerBase: (req: FastifyRequest) => string
}

const AUTH_FLOWS = [
  'USER_SRP_AUTH',
  'REFRESH_TOKEN_AUTH',
  'REFRESH_TOKEN',
  'CUSTOM_AUTH',
  'ADMIN_NO_SRP_AUTH',
  'USER_PASSWORD_AUTH',
  'ADMIN_USER_PASSWORD_AUTH',
  'USER_AUTH',
] as const
const EXPLICIT_AUTH_FLOWS = [
  'ADMIN_NO_SRP_AUTH',
  'CUSTOM_AUTH_FLOW_ONLY',
  'USER_PASSWORD_AUTH',
  'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  'ALLOW_CUSTOM_AUTH',
  'ALLOW_USER_PASSWORD_AUTH',
  'ALLOW_USER_SRP_AUTH',
  'ALLOW_REFRESH_TOKEN_AUTH',
  'ALLOW_USER_AUTH',
]
/** What Cognito gives a client created without ExplicitAuthFlows: no USER_PASSWORD_AUTH. */
const DEFAULT_AUTH_FLOWS = ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH']
const UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 }

// A hash to verify against when the user does not exist, so both answers take the same time.
const NO_USER_HASH = hashPassword(randomBytes(16).toString('hex'))

export function cognitoOperations(deps: OperationDeps): Record<string, Operation> {
  const { store, tokens } = deps

  return {
    async CreateUserPool(input) {
      const name = v.str(input, 'PoolName', { max: 128, pattern: v.PATTERNS.poolName })
      const pool = await store.createPool(name, passwordPolicy(input))
      return { UserPool: describePool(pool) }
    },

    async CreateUserPoolClient(input) {
      const poolId = v.str(input, 'UserPoolId', { max: 55, pattern: v.PATTERNS.userPoolId })
      const clientName = v.str(input, 'ClientName', { max: 128, pattern: v.PATTERNS.clientName })
      const flows = explicitAuthFlows(input)
      const prevent = input.PreventUserExistenceErrors === undefined ? 'LEGACY' : v.oneOf(input, 'PreventUserExistenceErrors', ['LEGACY', 'ENABLED'] as const)
      const units = tokenUnits(input)
      const access = validity(input, 'AccessTokenValidity', units.AccessToken ?? 'hours', 1, [300, 86400])
      const id = validity(input, 'IdTokenValidity', units.IdToken ?? 'hours', 1, [300, 86400])
      const refresh = validity(input, 'RefreshTokenValidity', units.RefreshToken ?? 'days', 30, [3600, 315360000])
      const client = await store.createClient(poolId, {
        clientName,
        generateSecret: v.bool(input, 'GenerateSecret', false),
        explicitAuthFlows: flows,
        preventUserExistenceErrors: prevent,
        accessTokenValiditySec: access,
        idTokenValiditySec: id,
        refreshTokenValiditySec: refresh,
      })
      return { UserPoolClient: describeClient(poolId, client, units) }
    },

    async AdminCreateUser(input) {
      const pool = store.pool(v.str(input, 'UserPoolId', { max: 55, pattern: v.PATTERNS.userPoolId }))
      const username = v.str(input, 'Username', { max: 128, pattern: v.PATTERNS.username })
      const attributes = v.attributes(input, 'UserAttributes')
      if ('sub' in attributes) throw CognitoErrors.InvalidParameterException('Cannot modify the non-mutable attribute sub')
      const temporary = v.optionalStr(input, 'TemporaryPassword', { max: 256 })
      if (temporary !== undefined) checkPolicy(temporary, pool.passwordPolicy)
      if (input.MessageAction !== undefined) v.oneOf(input, 'MessageAction', ['RESEND', 'SUPPRESS'] as const)
      // Without a temporary password Cognito makes one and mails it; nobody here reads mail, so the
      // user can sign in only after AdminSetUserPassword.
      const hash = await hashPassword(temporary ?? randomBytes(24).toString('base64'))
      const user = await store.createUser(pool.id, username, attributes, hash)
      return { User: describeUser(user) }
    },

    async AdminSetUserPassword(input) {
      const pool = store.pool(v.str(input, 'UserPoolId', { max: 55, pattern: v.PATTERNS.userPoolId }))
      const username = v.str(input, 'Username', { max: 128, pattern: v.PATTERNS.username })
      const password = v.str(input, 'Password', { max: 256 })
      const permanent = v.bool(input, 'Permanent', false)
      const user = store.user(pool, username)
      checkPolicy(password, pool.passwordPolicy)
      await store.setPassword(user, await hashPassword(password), permanent)
      return {}
    },

    async InitiateAuth(input, { req }) {
      const flow = v.oneOf(input, 'AuthFlow', AUTH_FLOWS)
      const { pool, client } = store.client(v.str(input, 'ClientId', { max: 128, pattern: v.PATTERNS.clientId }))
      const params = v.stringMap(input, 'AuthParameters')
      if (flow === 'USER_PASSWORD_AUTH') return passwordAuth(req, pool, client, params)
      if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') return refreshAuth(req, pool, client, params)
      if (flow === 'ADMIN_NO_SRP_AUTH' || flow === 'ADMIN_USER_PASSWORD_AUTH')
        throw CognitoErrors.InvalidParameterException('Initiate Auth method not supported.')
      throw CognitoErrors.InvalidParameterException(`${flow} is not supported by outage-lab's Cognito (USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH are).`)
    },

    async GetUser(input) {
      const token = v.str(input, 'AccessToken', { max: 20000 })
      const { user } = await tokens.verifyAccessToken(token)
      return { Username: user.username, UserAttributes: attributeList(user) }
    },
  }

  async function passwordAuth(req: FastifyRequest, pool: UserPool, client: AppClient, params: Record<string, string>) {
    if (!client.explicitAuthFlows.some((f) => f === 'ALLOW_USER_PASSWORD_AUTH' || f === 'USER_PASSWORD_AUTH')) {
      throw CognitoErrors.InvalidParameterException('USER_PASSWORD_AUTH flow not enabled for this client')
    }
    const username = required(params, 'USERNAME')
    const password = required(params, 'PASSWORD')
    checkSecretHash(client, username, params.SECRET_HASH)
    const user = store.findUser(pool, username)
    if (!user) {
      await verifyPassword(password, await NO_USER_HASH)
      if (client.preventUserExistenceErrors === 'ENABLED') throw CognitoErrors.NotAuthorizedException(INCORRECT_CREDENTIALS)
      throw CognitoErrors.UserNotFoundException('User does not exist.')
    }
    if (!(await verifyPassword(password, user.passwordHash))) throw CognitoErrors.NotAuthorizedException(INCORRECT_CREDENTIALS)
    if (!user.enabled) throw CognitoErrors.NotAuthorizedException('User is disabled.')
    if (user.status === 'FORCE_CHANGE_PASSWORD') {
      return {
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: randomBytes(48).toString('base64url'),
        ChallengeParameters: { USER_ID_FOR_SRP: user.username, requiredAttributes: '[]', userAttributes: JSON.stringify(user.attributes) },
      }
    }
    return { ChallengeParameters: {}, AuthenticationResult: await tokens.issue(deps.issuerBase(req), pool, client, user) }
  }

  async function refreshAuth(req: FastifyRequest, pool: UserPool, client: AppClient, params: Record<string, string>) {
    if (!client.explicitAuthFlows.some((f) => f === 'ALLOW_REFRESH_TOKEN_AUTH' || !f.startsWith('ALLOW_'))) {
      throw CognitoErrors.InvalidParameterException('REFRESH_TOKEN_AUTH flow not enabled for this client')
    }
    const claims = await tokens.openRefreshToken(pool, client, required(params, 'REFRESH_TOKEN'))
    const user = store.findUser(pool, claims.username)
    if (!user || user.sub !== claims.sub) throw CognitoErrors.NotAuthorizedException('Invalid Refresh Token')
    if (!user.enabled) throw CognitoErrors.NotAuthorizedException('User is disabled.')
    const result = await tokens.issue(deps.issuerBase(req), pool, client, user, { authTime: claims.auth_time, originJti: claims.origin_jti })
    return { ChallengeParameters: {}, AuthenticationResult: result }
  }
}

function required(params: Record<string, string>, name: string): string {
  const value = params[name]
  if (!value) throw CognitoErrors.InvalidParameterException(`Missing required parameter ${name}`)
  return value
}

// SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id)), as the Cognito docs define it.
function checkSecretHash(client: AppClient, username: string, given: string | undefined): void {
  if (!client.clientSecret) return
  if (!given) throw CognitoErrors.NotAuthorizedException(`Client ${client.clientId} is configured with secret but SECRET_HASH was not received`)
  const want = createHmac('sha256', client.clientSecret)
    .update(username + client.clientId)
    .digest()
  const got = Buffer.from(given, 'base64')
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw CognitoErrors.NotAuthorizedException(`Unable to verify secret hash for client ${client.clientId}`)
}

function passwordPolicy(input: Record<string, any>): Partial<PasswordPolicy> | undefined {
  const p = input.Policies?.PasswordPolicy
  if (p === undefined) return undefined
  if (typeof p !== 'object' || p === null)
    throw CognitoErrors.InvalidParameterException(
      "1 validation error detected: Value at 'policies.passwordPolicy' failed to satisfy constraint: Member must be a structure",
    )
  const out: Partial<PasswordPolicy> = {}
  const min = v.int(p, 'MinimumLength', { min: 6, max: 99 })
  if (min !== undefined) out.MinimumLength = min
  for (const k of ['RequireUppercase', 'RequireLowercase', 'RequireNumbers', 'RequireSymbols'] as const) out[k] = v.bool(p, k, DEFAULT_POLICY[k])
  const days = v.int(p, 'TemporaryPasswordValidityDays', { min: 0, max: 365 })
  if (days !== undefined) out.TemporaryPasswordValidityDays = days
  return out
}

function explicitAuthFlows(input: Record<string, unknown>): string[] {
  const flows = input.ExplicitAuthFlows
  if (flows === undefined || flows === null) return DEFAULT_AUTH_FLOWS
  if (!Array.isArray(flows) || flows.some((f) => !EXPLICIT_AUTH_FLOWS.includes(f))) {
    throw CognitoErrors.InvalidParameterException(
      `1 validation error detected: Value '${JSON.stringify(flows)}' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${EXPLICIT_AUTH_FLOWS.join(', ')}]]`,
    )
  }
  const mixed = flows.some((f: string) => f.startsWith('ALLOW_')) && flows.some((f: string) => !f.startsWith('ALLOW_'))
  if (mixed) throw CognitoErrors.InvalidParameterException('Cannot mix legacy and new auth flows: use either the ALLOW_ values or the legacy ones.')
  return [...new Set(flows as string[])]
}

function tokenUnits(input: Record<string, any>): Record<string, string> {
  const u = input.TokenValidityUnits
  if (u === undefined || u === null) return {}
  const out: Record<string, string> = {}
  for (const k of ['AccessToken', 'IdToken', 'RefreshToken']) if (u[k] !== undefined) out[k] = v.oneOf(u, k, Object.keys(UNIT_SECONDS))
  return out
}

/** A lifetime in seconds from Cognito's (value, unit) pair, within Cognito's bounds. */
function validity(input: Record<string, unknown>, field: string, unit: string, fallback: number, [minSec, maxSec]: [number, number]): number {
  const value = v.int(input, field, { min: 1, max: 315360000 }) ?? fallback
  const sec = value * UNIT_SECONDS[unit]
  if (sec < minSec || sec > maxSec) {
    throw CognitoErrors.InvalidParameterException(
      `${field.replace('Validity', '')} validity must be between ${minSec / 60} minutes and ${maxSec / 86400} days (got ${value} ${unit}).`,
    )
  }
  return sec
}

const epochSeconds = (ms: number) => ms / 1000

function describePool(pool: UserPool) {
  return {
    Id: pool.id,
    Name: pool.name,
    Arn: pool.arn,
    Policies: { PasswordPolicy: pool.passwordPolicy },
    CreationDate: epochSeconds(pool.createdAtMs),
    LastModifiedDate: epochSeconds(pool.modifiedAtMs),
    EstimatedNumberOfUsers: pool.users.size,
    MfaConfiguration: 'OFF',
    LambdaConfig: {},
    SchemaAttributes: [],
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: false, UnusedAccountValidityDays: pool.passwordPolicy.TemporaryPasswordValidityDays },
  }
}

function describeClient(poolId: string, c: AppClient, units: Record<string, string>) {
  const unit = (k: string, fallback: string) => units[k] ?? fallback
  return {
    UserPoolId: poolId,
    ClientName: c.clientName,
    ClientId: c.clientId,
    ...(c.clientSecret ? { ClientSecret: c.clientSecret } : {}),
    CreationDate: epochSeconds(c.createdAtMs),
    LastModifiedDate: epochSeconds(c.createdAtMs),
    ExplicitAuthFlows: c.explicitAuthFlows,
    PreventUserExistenceErrors: c.preventUserExistenceErrors,
    AccessTokenValidity: c.accessTokenValiditySec / UNIT_SECONDS[unit('AccessToken', 'hours')],
    IdTokenValidity: c.idTokenValiditySec / UNIT_SECONDS[unit('IdToken', 'hours')],
    RefreshTokenValidity: c.refreshTokenValiditySec / UNIT_SECONDS[unit('RefreshToken', 'days')],
    TokenValidityUnits: { AccessToken: unit('AccessToken', 'hours'), IdToken: unit('IdToken', 'hours'), RefreshToken: unit('RefreshToken', 'days') },
    AllowedOAuthFlowsUserPoolClient: false,
    EnableTokenRevocation: true,
  }
}

function attributeList(user: User) {
  return [{ Name: 'sub', Value: user.sub }, ...Object.entries(user.attributes).map(([Name, Value]) => ({ Name, Value }))]
}

function describeUser(user: User) {
  return {
    Username: user.username,
    Attributes: attributeList(user),
    UserCreateDate: epochSeconds(user.createdAtMs),
    UserLastModifiedDate: epochSeconds(user.modifiedAtMs),
    Enabled: user.enabled,
    UserStatus: user.status,
  }
}
