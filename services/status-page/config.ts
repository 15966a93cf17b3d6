// status-page's environment, validated once at start; a bad value names its variable.
import path from 'node:path'
import { envString, envInt, envBool, InvalidConfig } from '../kit/index.js'
import { COMPONENT_NAME, DEFAULT_COMPONENTS } from './components.js'
import { MIN_OPERATOR_KEY_CHARS } from './backup-key.js'

export interface StatusPageConfig {
  port: number
  host: string
  updatesFile: string
  cognitoUrl: string
  operatorPoolId?: string
  operatorClientId?: string
  jwksTimeoutMs: number
  jwksCacheMs: number
  operatorKey?: string
  components: string[]
  refreshSeconds: number
  adminToken?: string
  internalToken?: string
  logLevel: string
  watchParent: boolean
}

type Env = Record<string, string | undefined>

export function loadConfig(env: Env): StatusPageConfig {
  const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
  const cognitoUrl = envString(env, 'COGNITO_URL')
  if (!/^https?:\/\/[^/]+\/?$/.test(cognitoUrl)) throw new InvalidConfig('COGNITO_URL', 'the base URL of Cognito (http://host:port)', cognitoUrl)
  const operatorKey = env.OUTAGE_LAB_OPERATOR_KEY || undefined
  if (operatorKey !== undefined && operatorKey.length < MIN_OPERATOR_KEY_CHARS) {
    throw new InvalidConfig(
      'OUTAGE_LAB_OPERATOR_KEY',
      `at least ${MIN_OPERATOR_KEY_CHARS} characters (or unset: backup path disabled)`,
      `${operatorKey.length} characters`,
    )
  }
  const components = envString(env, 'STATUS_PAGE_COMPONENTS', DEFAULT_COMPONENTS.join(','))
    .split(',')
    .map((c) => c.trim())
  if (components.some((c) => !COMPONENT_NAME.test(c)) || new Set(components).size !== components.length) {
    throw new InvalidConfig(
      'STATUS_PAGE_COMPONENTS',
      'distinct component names (lower-case letters, digits, dashes) separated by commas',
      env.STATUS_PAGE_COMPONENTS,
    )
  }
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    updatesFile: path.resolve(envString(env, 'STATUS_PAGE_UPDATES_FILE', path.join(dataDir, 'status-page-updates.jsonl'))),
    cognitoUrl: cognitoUrl.replace(/\/$/, ''),
    operatorPoolId: env.OPERATOR_POOL_ID || undefined,
    operatorClientId: env.OPERATOR_CLIENT_ID || undefined,
    jwksTimeoutMs: envInt(env, 'JWKS_TIMEOUT_MS', { fallback: 2_000, min: 1, max: 600_000 }),
    jwksCacheMs: envInt(env, 'JWKS_CACHE_MS', { fallback: 0, min: 0, max: 86_400_000 }),
    operatorKey,
    components,
    refreshSeconds: envInt(env, 'STATUS_PAGE_REFRESH_SECONDS', { fallback: 30, min: 0, max: 86_400 }),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
  }
}
