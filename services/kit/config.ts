// Configuration comes from the environment. Every variable is validated once at start-up and a
// bad one names itself and what was expected, so a mis-wired topology fails before it serves.

export class InvalidConfig extends Error {
  readonly variable: string
  constructor(variable: string, expected: string, got: string | undefined) {
    super(`environment variable ${variable}: expected ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`)
    this.name = 'InvalidConfig'
    this.variable = variable
  }
}

type Env = Record<string, string | undefined>

export function envString(env: Env, name: string, fallback?: string): string {
  const raw = env[name]
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new InvalidConfig(name, 'a non-empty string', raw)
    return fallback
  }
  return raw
}

export function envInt(env: Env, name: string, opts: { fallback?: number; min?: number; max?: number } = {}): number {
  const raw = env[name]
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts
  const expected = `an integer in [${min}, ${max}]`
  if (raw === undefined || raw === '') {
    if (opts.fallback === undefined) throw new InvalidConfig(name, expected, raw)
    return opts.fallback
  }
  if (!/^-?\d+$/.test(raw.trim())) throw new InvalidConfig(name, expected, raw)
  const n = Number(raw)
  if (n < min || n > max) throw new InvalidConfig(name, expected, raw)
  return n
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new InvalidConfig(name, 'true or false', raw)
}

export function envEnum<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if ((values as readonly string[]).includes(raw)) return raw as T
  throw new InvalidConfig(name, `one of ${values.join(', ')}`, raw)
}

/** Credentials the services accept: "AKID:SECRET[,AKID:SECRET...]". */
export function envCredentials(env: Env, name: string, fallback: string): Map<string, string> {
  const raw = env[name] || fallback
  const keys = new Map<string, string>()
  for (const pair of raw.split(',')) {
    const i = pair.indexOf(':')
    if (i <= 0 || i === pair.length - 1) throw new InvalidConfig(name, 'AKID:SECRET pairs separated by commas', raw)
    keys.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim())
  }
  return keys
}

/** The credentials every service accepts unless told otherwise; the harness hands them to users. */
export const DEFAULT_CREDENTIALS = 'AKIDOUTAGELAB:outage-lab-secret'
export const DEFAULT_REGION = 'us-east-1'
