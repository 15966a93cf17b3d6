// Passwords are stored as scrypt hashes with a per-user salt, never in clear. scrypt runs on the
// libuv pool, so a burst of sign-ins does not stall the event loop.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { CognitoErrors } from './errors.js'

const KEY_LENGTH = 32
// N=2^12, r=8 (4 MiB, ~10 ms): a quarter of Node's default cost. A chaos run signs users in at a
// steady rate on a shared 2-core machine, and the cost of a sign-in must not be what breaks it.
// N is stored with each hash, so a stronger cost can come later without breaking stored users.
const COST_N = 4096
const R = 8
const P = 1

function derive(password: string, salt: Buffer, N: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N, r: R, p: P, maxmem: 256 * N * R }, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** "scrypt$<N>$<salt b64>$<hash b64>" */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  return `scrypt$${COST_N}$${salt.toString('base64')}$${(await derive(password, salt, COST_N)).toString('base64')}`
}

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (!stored) return false
  const [scheme, n, salt, hash] = stored.split('$')
  const N = Number(n)
  if (scheme !== 'scrypt' || !Number.isInteger(N) || N < 2 || N > 1 << 20 || !salt || !hash) return false
  const want = Buffer.from(hash, 'base64')
  const got = await derive(password, Buffer.from(salt, 'base64'), N)
  return got.length === want.length && timingSafeEqual(got, want)
}

export interface PasswordPolicy {
  MinimumLength: number
  RequireUppercase: boolean
  RequireLowercase: boolean
  RequireNumbers: boolean
  RequireSymbols: boolean
  TemporaryPasswordValidityDays: number
}

/** Cognito's default policy for a pool created without one. */
export const DEFAULT_POLICY: PasswordPolicy = {
  MinimumLength: 8,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 7,
}

// Cognito's symbol set for RequireSymbols.
const SYMBOLS = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/

/** Throws InvalidPasswordException with Cognito's wording for the first rule broken. */
export function checkPolicy(password: string, policy: PasswordPolicy): void {
  const fail = (why: string) => {
    throw CognitoErrors.InvalidPasswordException(`Password did not conform with policy: ${why}`)
  }
  if (password.length < policy.MinimumLength) fail('Password not long enough')
  if (policy.RequireLowercase && !/[a-z]/.test(password)) fail('Password must have lowercase characters')
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) fail('Password must have uppercase characters')
  if (policy.RequireNumbers && !/[0-9]/.test(password)) fail('Password must have numeric characters')
  if (policy.RequireSymbols && !SYMBOLS.test(password)) fail('Password must have symbol characters')
}
