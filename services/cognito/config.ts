// Cognito's environment, validated once at start-up; a bad value names its variable.
import path from 'node:path'
import { envString, envInt, envBool, envCredentials, DEFAULT_CREDENTIALS, DEFAULT_REGION, InvalidConfig } from '../kit/index.js'

export interface CognitoConfig {
  port: number
  host: string
  adminToken?: string
  internalToken?: string
  logLevel: string
  watchParent: boolean
  keys: Map<string, string>
  /** Our own outbound credentials (the first accepted pair). */
  credentials: { accessKeyId: string; secretAccessKey: string }
  seed: string
  storeFile: string
  publicUrl?: string
  kinesisEndpoint: string
  accessLogStream: string
  accessLogShards: number
  accessBufferRecords: number
  accessFlushIntervalMs: number
  accessShipTimeoutMs: number
  sustainKinesisErrors: boolean
  region: string
}

export function readConfig(env: Record<string, string | undefined>): CognitoConfig {
  const keys = envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS)
  const [accessKeyId, secretAccessKey] = [...keys][0]
  const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
  const kinesisEndpoint = envString(env, 'KINESIS_ENDPOINT')
  if (!/^https?:\/\/[^/]+/.test(kinesisEndpoint)) throw new InvalidConfig('KINESIS_ENDPOINT', 'an http:// or https:// URL', kinesisEndpoint)
  const publicUrl = env.COGNITO_PUBLIC_URL || undefined
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new InvalidConfig('COGNITO_PUBLIC_URL', 'an http:// or https:// URL', publicUrl)
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    keys,
    credentials: { accessKeyId, secretAccessKey },
    seed: envString(env, 'OUTAGE_LAB_SEED', '1'),
    storeFile: path.resolve(envString(env, 'COGNITO_STORE_FILE', path.join(dataDir, 'cognito.json'))),
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    kinesisEndpoint,
    accessLogStream: envString(env, 'ACCESS_LOG_STREAM', 'cognito-access-patterns'),
    accessLogShards: envInt(env, 'ACCESS_LOG_SHARDS', { fallback: 2, min: 1, max: 64 }),
    accessBufferRecords: envInt(env, 'ACCESS_BUFFER_RECORDS', { fallback: 2000, min: 1, max: 10_000_000 }),
    accessFlushIntervalMs: envInt(env, 'ACCESS_FLUSH_INTERVAL_MS', { fallback: 200, min: 1, max: 600_000 }),
    accessShipTimeoutMs: envInt(env, 'ACCESS_SHIP_TIMEOUT_MS', { fallback: 5_000, min: 100, max: 600_000 }),
    sustainKinesisErrors: envBool(env, 'SUSTAIN_KINESIS_ERRORS', false),
    region: DEFAULT_REGION,
  }
}
