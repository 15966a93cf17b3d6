// Passwords are stored as scrypt hashes with a per-user salt, never in clear. scrypt runs on the
// libuv pool, so a burst of sign-ins does not stall the event loop.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { CognitoErrors } from './errors.js'

const KEY_LENGTH = 32
// N=2^14, r=8, p=1: Node's defaults, ~16 MiB and a few tens of ms per hash.
const COST = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, COST, (err, key) => (err ? reject(err) : resolve(key))))
}

/** "scrypt$<salt b64>$<hash b64>" */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  return `scrypt$${salt.toString('base64')}$${(await derive(password, salt)).toString('base64')}`
}

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (!stored) return false
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const want = Buffer.from(hash, 'base64')
  const got = await derive(password, Buffer.from(salt, 'base64'))
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
