// EventBridge's configuration from the environment, validated once at start-up (a bad value names
// its variable and the process exits before it serves).
import path from 'node:path'
import { envString, envInt, envBool, envCredentials, DEFAULT_CREDENTIALS, DEFAULT_REGION } from '../kit/index.js'

export interface Tuning {
  stream: string
  shardCount: number
  kinesisTimeoutMs: number
  streamRetryMs: number
  pollMs: number
  batchSize: number
  consumerMaxBackoffMs: number
  maxPendingDeliveries: number
  deliveryConcurrency: number
  deliveryTimeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  checkpointIntervalMs: number
  maxTargetsPerRule: number
  /** Host names targets may use beside the loopback ones (service names inside a compose network). */
  targetHosts: string[]
}

export interface Config {
  port: number
  host: string
  adminToken?: string
  internalToken?: string
  /** AUTOSCALER_URL: deliveries to targets there carry the internal credential (the autoscaler's workflow hook). */
  autoscalerUrl?: string
  logLevel: string
  watchParent: boolean
  seed: number
  dataDir: string
  keys: Map<string, string>
  region: string
  kinesisEndpoint: string
  tuning: Tuning
}

function optionalUrl(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name]
  if (!raw) return undefined
  try {
    const u = new URL(raw)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
  } catch {
    throw new Error(`environment variable ${name}: expected an http(s) URL, got ${JSON.stringify(raw)}`)
  }
  return raw
}

export function readConfig(env: Record<string, string | undefined>): Config {
  const kinesisEndpoint = envString(env, 'KINESIS_ENDPOINT')
  try {
    const u = new URL(kinesisEndpoint)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
  } catch {
    throw new Error(`environment variable KINESIS_ENDPOINT: expected an http(s) URL, got ${JSON.stringify(kinesisEndpoint)}`)
  }
  const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    autoscalerUrl: optionalUrl(env, 'AUTOSCALER_URL'),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    seed: envInt(env, 'OUTAGE_LAB_SEED', { fallback: 1 }),
    dataDir: path.resolve(dataDir, 'eventbridge'),
    keys: envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS),
    region: DEFAULT_REGION,
    kinesisEndpoint,
    tuning: {
      stream: envString(env, 'EVENTS_STREAM', 'eventbridge-events'),
      shardCount: envInt(env, 'EVENTS_SHARDS', { fallback: 2, min: 1, max: 64 }),
      kinesisTimeoutMs: envInt(env, 'KINESIS_TIMEOUT_MS', { fallback: 5_000, min: 100, max: 120_000 }),
      streamRetryMs: envInt(env, 'STREAM_RETRY_MS', { fallback: 1_000, min: 10, max: 60_000 }),
      pollMs: envInt(env, 'CONSUMER_POLL_MS', { fallback: 250, min: 10, max: 60_000 }),
      batchSize: envInt(env, 'CONSUMER_BATCH', { fallback: 500, min: 1, max: 10_000 }),
      consumerMaxBackoffMs: envInt(env, 'CONSUMER_MAX_BACKOFF_MS', { fallback: 5_000, min: 10, max: 300_000 }),
      maxPendingDeliveries: envInt(env, 'MAX_PENDING_DELIVERIES', { fallback: 10_000, min: 1, max: 10_000_000 }),
      deliveryConcurrency: envInt(env, 'DELIVERY_CONCURRENCY', { fallback: 16, min: 1, max: 1024 }),
      deliveryTimeoutMs: envInt(env, 'DELIVERY_TIMEOUT_MS', { fallback: 5_000, min: 10, max: 300_000 }),
      retryBaseMs: envInt(env, 'DELIVERY_RETRY_BASE_MS', { fallback: 1_000, min: 1, max: 3_600_000 }),
      retryMaxMs: envInt(env, 'DELIVERY_RETRY_MAX_MS', { fallback: 60_000, min: 1, max: 86_400_000 }),
      checkpointIntervalMs: envInt(env, 'CHECKPOINT_INTERVAL_MS', { fallback: 1_000, min: 10, max: 600_000 }),
      maxTargetsPerRule: envInt(env, 'MAX_TARGETS_PER_RULE', { fallback: 5, min: 1, max: 100 }),
      targetHosts: envString(env, 'TARGET_HOSTS', ' ')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    },
  }
}

/** Defaults for buildApp() callers that do not read the environment (tests). */
export const DEFAULT_TUNING: Tuning = readConfig({ PORT: '0', KINESIS_ENDPOINT: 'http://127.0.0.1:1' }).tuning
