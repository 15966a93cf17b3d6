// The user directory: user pools, their app clients and users, and each pool's signing keys.
// Durable (atomic-file.ts) before a mutation is answered, so a restarted Cognito still knows its
// users and still verifies the tokens it issued. Sign-ins do not write: they only read.
import { randomBytes, randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { seededRandom, type Random } from '../kit/index.js'
import { AtomicJsonFile } from '../kit/atomic-file.js'
import { CognitoErrors } from './errors.js'
import { DEFAULT_POLICY, type PasswordPolicy } from './passwords.js'

export const REGION = 'us-east-1'
export const ACCOUNT = '000000000000'

export type AuthFlowName =
  'ALLOW_USER_PASSWORD_AUTH' | 'ALLOW_REFRESH_TOKEN_AUTH' | 'ALLOW_USER_SRP_AUTH' | 'ALLOW_CUSTOM_AUTH' | 'ALLOW_ADMIN_USER_PASSWORD_AUTH'

export interface SigningKey {
  kid: string
  /** RS256 private key as a JWK (d, p, q, ...); the public part is derived for the JWKS. */
  privateJwk: JWK
  publicJwk: JWK
}

export interface AppClient {
  clientId: string
  clientName: string
  clientSecret?: string
  explicitAuthFlows: string[]
  preventUserExistenceErrors: 'LEGACY' | 'ENABLED'
  /** Token lifetimes in seconds. */
  accessTokenValiditySec: number
  idTokenValiditySec: number
  refreshTokenValiditySec: number
  createdAtMs: number
}

export interface User {
  username: string
  sub: string
  attributes: Record<string, string>
  status: 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED'
  enabled: boolean
  /** scrypt hash (passwords.ts); absent until a password is set. */
  passwordHash?: string
  createdAtMs: number
  modifiedAtMs: number
}

export interface UserPool {
  id: string
  name: string
  arn: string
  createdAtMs: number
  modifiedAtMs: number
  passwordPolicy: PasswordPolicy
  signingKey: SigningKey
  /** base64 AES-256 key that seals this pool's refresh tokens (tokens.ts). */
  refreshKey: string
  clients: Map<string, AppClient>
  users: Map<string, User>
}

const FORMAT = 1
const POOL_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const CLIENT_ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'

export interface StoreOptions {
  seed?: number | string
  now?: () => number
}

export class UserStore {
  readonly file: string
  #pools = new Map<string, UserPool>()
  #disk: AtomicJsonFile
  #random: Random
  #now: () => number

  private constructor(file: string, opts: StoreOptions) {
    this.file = file
    this.#random = seededRandom(opts.seed ?? 1)
    this.#now = opts.now ?? Date.now
    this.#disk = new AtomicJsonFile(file, () => this.#persisted())
  }

  static async open(file: string, opts: StoreOptions = {}): Promise<UserStore> {
    const store = new UserStore(file, opts)
    const saved = (await store.#disk.read()) as { format?: number; pools?: any[] } | undefined
    if (saved !== undefined) {
      if (saved.format !== FORMAT || !Array.isArray(saved.pools)) throw new Error(`user store ${file}: unknown format ${JSON.stringify(saved.format)}`)
      for (const p of saved.pools) {
        store.#pools.set(p.id, {
          ...p,
          clients: new Map(p.clients.map((c: AppClient) => [c.clientId, c])),
          users: new Map(p.users.map((u: User) => [u.username, u])),
        })
      }
    }
    return store
  }

  get poolCount(): number {
    return this.#pools.size
  }

  flush(): Promise<void> {
    return this.#disk.flush()
  }

  async createPool(name: string, policy: Partial<PasswordPolicy> | undefined): Promise<UserPool> {
    const id = this.#unique(
      () => `${REGION}_${this.#chars(POOL_ID_CHARS, 9)}`,
      (x) => this.#pools.has(x),
    )
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
    const kid = randomBytes(16).toString('base64url')
    const now = this.#now()
    const pool: UserPool = {
      id,
      name,
      arn: `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${id}`,
      createdAtMs: now,
      modifiedAtMs: now,
      passwordPolicy: { ...DEFAULT_POLICY, ...policy },
      signingKey: {
        kid,
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
      },
      refreshKey: randomBytes(32).toString('base64'),
      clients: new Map(),
      users: new Map(),
    }
    this.#pools.set(id, pool)
    await this.#disk.save()
    return pool
  }

  pool(id: string): UserPool {
    const pool = this.#pools.get(id)
    if (!pool) throw CognitoErrors.ResourceNotFoundException(`User pool ${id} does not exist.`)
    return pool
  }

  findPool(id: string): UserPool | undefined {
    return this.#pools.get(id)
  }

  async createClient(poolId: string, c: Omit<AppClient, 'clientId' | 'clientSecret' | 'createdAtMs'> & { generateSecret: boolean }): Promise<AppClient> {
    const pool = this.pool(poolId)
    const clientId = this.#unique(
      () => this.#chars(CLIENT_ID_CHARS, 26),
      (x) => this.#clientPool(x) !== undefined,
    )
    const { generateSecret, ...rest } = c
    const client: AppClient = { ...rest, clientId, createdAtMs: this.#now() }
    if (generateSecret) client.clientSecret = [...randomBytes(51)].map((b) => CLIENT_ID_CHARS[b % CLIENT_ID_CHARS.length]).join('')
    pool.clients.set(clientId, client)
    pool.modifiedAtMs = this.#now()
    await this.#disk.save()
    return client
  }

  /** The app client and its pool; ResourceNotFoundException as Cognito words it. */
  client(clientId: string): { pool: UserPool; client: AppClient } {
    const pool = this.#clientPool(clientId)
    if (!pool) throw CognitoErrors.ResourceNotFoundException(`User pool client ${clientId} does not exist.`)
    return { pool, client: pool.clients.get(clientId)! }
  }

  async createUser(poolId: string, username: string, attributes: Record<string, string>, passwordHash: string | undefined): Promise<User> {
    const pool = this.pool(poolId)
    if (pool.users.has(username)) throw CognitoErrors.UsernameExistsException('User account already exists')
    const now = this.#now()
    const user: User = {
      username,
      sub: randomUUID(),
      attributes,
      status: 'FORCE_CHANGE_PASSWORD',
      enabled: true,
      passwordHash,
      createdAtMs: now,
      modifiedAtMs: now,
    }
    pool.users.set(username, user)
    await this.#disk.save()
    return user
  }

  findUser(pool: UserPool, username: string): User | undefined {
    return pool.users.get(username)
  }

  user(pool: UserPool, username: string): User {
    const user = pool.users.get(username)
    if (!user) throw CognitoErrors.UserNotFoundException('User does not exist.')
    return user
  }

  async setPassword(user: User, passwordHash: string, permanent: boolean): Promise<void> {
    user.passwordHash = passwordHash
    user.status = permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD'
    user.modifiedAtMs = this.#now()
    await this.#disk.save()
  }

  #clientPool(clientId: string): UserPool | undefined {
    for (const pool of this.#pools.values()) if (pool.clients.has(clientId)) return pool
    return undefined
  }

  #chars(alphabet: string, n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.#random() * alphabet.length)]
    return s
  }

  // A restarted process with the same seed draws the same ids again: skip the ones taken.
  #unique(draw: () => string, taken: (id: string) => boolean): string {
    for (;;) {
      const id = draw()
      if (!taken(id)) return id
    }
  }

  #persisted(): unknown {
    return {
      format: FORMAT,
      pools: [...this.#pools.values()].map((p) => ({ ...p, clients: [...p.clients.values()], users: [...p.users.values()] })),
    }
  }
}
