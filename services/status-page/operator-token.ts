// The primary posting path's sign-in check: the operator's Cognito token (ID or access), verified
// with jose against the JWKS of the user pool that issued it. The issuer must be a pool of *our*
// Cognito (COGNITO_URL), so a token minted elsewhere cannot name its own key server. When the
// JWKS cannot be fetched the post fails with 503: in 2020 the dashboard's posting tool depended on
// Cognito, and this is where that dependency bites.
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import { fetch, type Dispatcher } from 'undici'
import { Rejections, PostRejected } from './errors.js'

export interface OperatorTokenOptions {
  /** Base URL of Cognito, e.g. http://127.0.0.1:4001 (issuers are `${cognitoUrl}/${userPoolId}`). */
  cognitoUrl: string
  /** Accept only this user pool. */
  poolId?: string
  /** Accept only tokens issued to this app client. */
  clientId?: string
  /** A JWKS fetch that has not completed after this long fails the post (503). */
  jwksTimeoutMs: number
  /** How long fetched keys are trusted without asking Cognito again (0: ask for every post). */
  jwksCacheMs: number
  /** The service's outbound agent (carries the admin fault rules). */
  dispatcher: Dispatcher
}

export interface Operator {
  /** The Cognito username, or the subject when the token carries none. */
  name: string
  sub: string
  poolId: string
  tokenUse: 'id' | 'access'
}

const POOL_ID = /^[A-Za-z0-9_-]{1,55}$/
// Issuers come from untrusted tokens: keep a bounded number of key sets.
const MAX_POOLS = 64

/** A failure of the fetch itself, raised inside jose's fetch so it survives jose's handling. */
class JwksFetchFailed extends Error {
  constructor(
    readonly unavailable: boolean,
    message: string,
  ) {
    super(message)
  }
}

export function operatorTokenVerifier(opts: OperatorTokenOptions): (authorization: string | undefined) => Promise<Operator> {
  const base = opts.cognitoUrl.replace(/\/+$/, '')
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>()

  const fetchJwks = async (url: string, init: any) => {
    let res
    try {
      res = await fetch(url, { ...init, dispatcher: opts.dispatcher })
    } catch (err) {
      const e = err as Error & { cause?: NodeJS.ErrnoException }
      // jose turns a TimeoutError into JWKSTimeout.
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw Object.assign(new Error('timeout'), { name: 'TimeoutError' })
      throw new JwksFetchFailed(true, `JWKS fetch from ${url} failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`)
    }
    if (res.status === 200) return res
    await res.body?.cancel().catch(() => {})
    // Cognito answers 4xx for a pool it does not have: the token names an issuer that does not exist.
    if (res.status >= 400 && res.status < 500)
      throw new JwksFetchFailed(false, `the token's user pool is unknown to Cognito (JWKS ${url} answered ${res.status})`)
    throw new JwksFetchFailed(true, `JWKS fetch from ${url} answered ${res.status}`)
  }

  const keySetOf = (issuer: string) => {
    let set = keySets.get(issuer)
    if (!set) {
      if (keySets.size >= MAX_POOLS) keySets.delete(keySets.keys().next().value!)
      set = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), {
        timeoutDuration: opts.jwksTimeoutMs,
        cacheMaxAge: opts.jwksCacheMs,
        cooldownDuration: Math.min(opts.jwksCacheMs, 30_000),
        [customFetch]: fetchJwks as any,
      })
      keySets.set(issuer, set)
    }
    return set
  }

  return async (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match) throw Rejections.missingToken()
    const token = match[1]

    // Look at the claims before verifying only to learn which pool's keys to verify with.
    let claims: JWTPayload
    try {
      decodeProtectedHeader(token)
      claims = decodeJwt(token)
    } catch {
      throw Rejections.invalidToken('the operator token is not a JWT')
    }
    const issuer = typeof claims.iss === 'string' ? claims.iss : ''
    if (!issuer.startsWith(`${base}/`)) throw Rejections.invalidToken(`the token's issuer ${JSON.stringify(issuer)} is not a user pool of ${base}`)
    const poolId = issuer.slice(base.length + 1)
    if (!POOL_ID.test(poolId)) throw Rejections.invalidToken(`the token's issuer ${JSON.stringify(issuer)} does not name a user pool`)
    if (opts.poolId && poolId !== opts.poolId)
      throw Rejections.invalidToken(`the token was issued by user pool ${poolId}, not the operators' pool ${opts.poolId}`)

    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, keySetOf(issuer), { issuer, algorithms: ['RS256'], requiredClaims: ['exp', 'sub', 'token_use'] }))
    } catch (err) {
      throw rejectionOf(err)
    }

    const tokenUse = payload.token_use
    if (tokenUse !== 'id' && tokenUse !== 'access') throw Rejections.invalidToken(`token_use must be id or access, got ${JSON.stringify(tokenUse)}`)
    // An ID token names its app client in aud, an access token in client_id.
    const client = tokenUse === 'id' ? (Array.isArray(payload.aud) ? payload.aud[0] : payload.aud) : payload.client_id
    if (opts.clientId && client !== opts.clientId)
      throw Rejections.invalidToken(`the token was issued to app client ${JSON.stringify(client ?? null)}, not the operators' client ${opts.clientId}`)
    const username = tokenUse === 'id' ? payload['cognito:username'] : payload.username
    const sub = String(payload.sub)
    return { name: typeof username === 'string' && username !== '' ? username : sub, sub, poolId, tokenUse }
  }
}

function rejectionOf(err: unknown): PostRejected {
  if (err instanceof PostRejected) return err
  if (err instanceof JwksFetchFailed) return err.unavailable ? Rejections.cognitoUnavailable(err.message) : Rejections.invalidToken(err.message)
  if (err instanceof errors.JWKSTimeout) return Rejections.cognitoUnavailable('the JWKS fetch timed out')
  if (err instanceof errors.JWTExpired) return Rejections.expiredToken()
  if (err instanceof errors.JOSEAlgNotAllowed) return Rejections.invalidToken('the token must be signed with RS256')
  if (err instanceof errors.JWSSignatureVerificationFailed) return Rejections.invalidToken("the token signature does not verify with the user pool's keys")
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return Rejections.invalidToken('no key of the user pool matches the token (kid)')
  if (err instanceof errors.JWTClaimValidationFailed) return Rejections.invalidToken(`token claim ${err.claim}: ${err.message}`)
  // Cognito answered, but not with a key set.
  // Cognito answered 200, but not with a key set (our fetch already turned other statuses into errors).
  if (err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC'))
    return Rejections.cognitoUnavailable('Cognito answered the JWKS fetch with something else than a key set')
  if (err instanceof errors.JOSEError) return Rejections.invalidToken(`the operator token is not valid: ${err.message}`)
  return Rejections.cognitoUnavailable((err as Error)?.message ?? String(err))
}
