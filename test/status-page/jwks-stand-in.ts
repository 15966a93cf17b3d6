// A stand-in for Cognito's JWKS endpoint (a real HTTP server on 127.0.0.1, not a mock): it serves
// the public key of an RS256 key pair generated here at /<pool>/.well-known/jwks.json, and mints
// tokens with Cognito's claims signed by that key. Used until, and beside, the real Cognito.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPair, exportJWK, SignJWT, type JWTPayload } from 'jose'

export type StandInMode = 'serve' | 'hang' | 'error'

export interface CognitoStandIn {
  url: string
  poolId: string
  /** JWKS requests seen. */
  fetches: number
  mode: StandInMode
  mint(opts?: {
    tokenUse?: 'id' | 'access'
    username?: string
    clientId?: string
    expiresInS?: number
    issuer?: string
    claims?: JWTPayload
    kid?: string
    signWith?: CryptoKey
    alg?: string
  }): Promise<string>
  /** A key pair Cognito does not publish. */
  foreignKey: CryptoKey
  close(): Promise<void>
}

// RSA key generation costs about a second on a busy machine: one pair of pairs per test file.
let keys: Promise<[CryptoKeyPair, CryptoKeyPair]> | undefined

export async function startCognitoStandIn(poolId = 'us-east-1_StandIn01'): Promise<CognitoStandIn> {
  keys ??= Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')])
  const [{ publicKey, privateKey }, foreign] = await keys
  const jwk = { ...(await exportJWK(publicKey)), kid: 'stand-in-key-1', alg: 'RS256', use: 'sig' }
  const state = { fetches: 0, mode: 'serve' as StandInMode }
  const server = http.createServer((req, res) => {
    if (req.url !== `/${poolId}/.well-known/jwks.json`) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'User pool does not exist.' }))
      return
    }
    state.fetches++
    if (state.mode === 'hang') return
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ __type: 'InternalErrorException', message: 'stand-in failure' }))
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    poolId,
    get fetches() {
      return state.fetches
    },
    get mode() {
      return state.mode
    },
    set mode(m: StandInMode) {
      state.mode = m
    },
    foreignKey: foreign.privateKey,
    async mint(o = {}) {
      const tokenUse = o.tokenUse ?? 'id'
      const clientId = o.clientId ?? 'operators-client'
      const username = o.username ?? 'oncall-operator'
      const claims: JWTPayload =
        tokenUse === 'id'
          ? { token_use: 'id', aud: clientId, 'cognito:username': username, ...o.claims }
          : { token_use: 'access', client_id: clientId, username, ...o.claims }
      const nowS = Math.floor(Date.now() / 1000)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? jwk.kid })
        .setIssuer(o.issuer ?? `${url}/${poolId}`)
        .setSubject('4f0c7a1e-0000-4000-8000-000000000001')
        .setIssuedAt(nowS - 60)
        .setExpirationTime(nowS + (o.expiresInS ?? 3600))
        .sign(o.signWith ?? privateKey)
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
