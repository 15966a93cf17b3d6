// Tokens as Cognito issues them: an RS256 IdToken and AccessToken signed with the pool's key
// (published at /<userPoolId>/.well-known/jwks.json), issuer "<public URL>/<userPoolId>", and a
// RefreshToken that is an encrypted JWE only this pool can open (Cognito's are JWEs too), so
// sign-ins write nothing and refresh tokens survive a restart with the pool's key.
import { randomUUID } from 'node:crypto'
import { SignJWT, jwtVerify, decodeJwt, importJWK, CompactEncrypt, compactDecrypt, errors as joseErrors, type CryptoKey, type JWTPayload } from 'jose'
import { CognitoErrors } from './errors.js'
import type { AppClient, User, UserPool, UserStore } from './store.js'

export interface AuthenticationResult {
  AccessToken: string
  IdToken: string
  RefreshToken?: string
  ExpiresIn: number
  TokenType: 'Bearer'
}

/** What a refresh token carries once opened. */
interface RefreshClaims {
  sub: string
  username: string
  client_id: string
  origin_jti: string
  auth_time: number
  exp: number
}

export class TokenIssuer {
  #store: UserStore
  #now: () => number
  #signing = new Map<string, CryptoKey>()
  #verifying = new Map<string, CryptoKey>()

  constructor(store: UserStore, now: () => number = Date.now) {
    this.#store = store
    this.#now = now
  }

  /** A fresh sign-in: all three tokens. A refresh passes the original session to keep auth_time and origin_jti. */
  async issue(
    issuerBase: string,
    pool: UserPool,
    client: AppClient,
    user: User,
    session?: { authTime: number; originJti: string },
  ): Promise<AuthenticationResult> {
    const nowSec = Math.floor(this.#now() / 1000)
    const authTime = session?.authTime ?? nowSec
    const originJti = session?.originJti ?? randomUUID()
    const eventId = randomUUID()
    const iss = `${issuerBase.replace(/\/+$/, '')}/${pool.id}`
    const key = await this.#signingKey(pool)
    const sign = (claims: JWTPayload, lifetimeSec: number) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: pool.signingKey.kid })
        .setIssuer(iss)
        .setIssuedAt(nowSec)
        .setExpirationTime(nowSec + lifetimeSec)
        .setJti(randomUUID())
        .sign(key)
    const attributes = Object.fromEntries(Object.entries(user.attributes).filter(([name]) => name !== 'sub'))
    const IdToken = await sign(
      {
        sub: user.sub,
        ...attributes,
        aud: client.clientId,
        'cognito:username': user.username,
        origin_jti: originJti,
        event_id: eventId,
        token_use: 'id',
        auth_time: authTime,
      },
      client.idTokenValiditySec,
    )
    const AccessToken = await sign(
      {
        sub: user.sub,
        client_id: client.clientId,
        origin_jti: originJti,
        event_id: eventId,
        token_use: 'access',
        scope: 'aws.cognito.signin.user.admin',
        auth_time: authTime,
        username: user.username,
      },
      client.accessTokenValiditySec,
    )
    const result: AuthenticationResult = { AccessToken, IdToken, ExpiresIn: client.accessTokenValiditySec, TokenType: 'Bearer' }
    if (!session) {
      const claims: RefreshClaims = {
        sub: user.sub,
        username: user.username,
        client_id: client.clientId,
        origin_jti: originJti,
        auth_time: authTime,
        exp: nowSec + client.refreshTokenValiditySec,
      }
      result.RefreshToken = await new CompactEncrypt(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' })
        .encrypt(Buffer.from(pool.refreshKey, 'base64'))
    }
    return result
  }

  /** Opens a refresh token issued to this client; NotAuthorizedException as Cognito words it otherwise. */
  async openRefreshToken(pool: UserPool, client: AppClient, token: string): Promise<RefreshClaims> {
    let claims: RefreshClaims
    try {
      const { plaintext } = await compactDecrypt(token, Buffer.from(pool.refreshKey, 'base64'))
      claims = JSON.parse(Buffer.from(plaintext).toString('utf8'))
    } catch {
      throw CognitoErrors.NotAuthorizedException('Invalid Refresh Token')
    }
    if (claims.client_id !== client.clientId) throw CognitoErrors.NotAuthorizedException('Invalid Refresh Token')
    if (claims.exp * 1000 <= this.#now()) throw CognitoErrors.NotAuthorizedException('Refresh Token has expired')
    return claims
  }

  /** Verifies an AccessToken (signature, expiry, token_use) and finds its pool and user. */
  async verifyAccessToken(token: string): Promise<{ pool: UserPool; user: User; claims: JWTPayload }> {
    const invalid = () => CognitoErrors.NotAuthorizedException('Invalid Access Token')
    let poolId: string
    try {
      poolId =
        String(decodeJwt(token).iss ?? '')
          .split('/')
          .pop() ?? ''
    } catch {
      throw invalid()
    }
    const pool = this.#store.findPool(poolId)
    if (!pool) throw invalid()
    let claims: JWTPayload
    try {
      ;({ payload: claims } = await jwtVerify(token, await this.#verifyingKey(pool), { algorithms: ['RS256'], currentDate: new Date(this.#now()) }))
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw CognitoErrors.NotAuthorizedException('Access Token has expired')
      throw invalid()
    }
    if (claims.token_use !== 'access') throw invalid()
    const user = pool.users.get(String(claims.username))
    if (!user || user.sub !== claims.sub) throw CognitoErrors.UserNotFoundException('User does not exist.')
    return { pool, user, claims }
  }

  async #signingKey(pool: UserPool): Promise<CryptoKey> {
    let key = this.#signing.get(pool.id)
    if (!key) {
      key = (await importJWK(pool.signingKey.privateJwk, 'RS256')) as CryptoKey
      this.#signing.set(pool.id, key)
    }
    return key
  }

  async #verifyingKey(pool: UserPool): Promise<CryptoKey> {
    let key = this.#verifying.get(pool.id)
    if (!key) {
      key = (await importJWK(pool.signingKey.publicJwk, 'RS256')) as CryptoKey
      this.#verifying.set(pool.id, key)
    }
    return key
  }
}

/** The pool's public keys as Cognito serves them. */
export function jwks(pool: UserPool): { keys: Array<Record<string, unknown>> } {
  const { kty, n, e, kid, alg, use } = pool.signingKey.publicJwk
  return { keys: [{ alg, e, kid, kty, n, use }] }
}
