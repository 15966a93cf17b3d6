// CloudWatch's configuration from the environment, validated once; a bad value names its variable.
import path from 'node:path'
import { envBool, envCredentials, envInt, envString, InvalidConfig, DEFAULT_CREDENTIALS } from '../kit/index.js'

type Env = Record<string, string | undefined>

/** An optional http(s) URL. */
function optionalUrl(env: Env, name: string): string | undefined {
  const raw = env[name]
  if (!raw) return undefined
  if (!/^https?:\/\/[^/]+/.test(raw)) throw new InvalidConfig(name, 'an http(s) URL', raw)
  return raw
}

export function readConfig(env: Env) {
  const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
  const keys = envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS)
  const [accessKeyId, secretAccessKey] = [...keys][0]
  const kinesisEndpoint = envString(env, 'KINESIS_ENDPOINT')
  if (!/^https?:\/\/[^/]+/.test(kinesisEndpoint)) throw new InvalidConfig('KINESIS_ENDPOINT', 'an http(s) URL', kinesisEndpoint)
  const hosts = envString(env, 'ALARM_ACTION_HOSTS', '127.0.0.1,localhost,::1')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
  if (hosts.length === 0) throw new InvalidConfig('ALARM_ACTION_HOSTS', 'a comma-separated list of host names', env.ALARM_ACTION_HOSTS)
  const HOUR3 = 3 * 3600_000
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    autoscalerUrl: optionalUrl(env, 'AUTOSCALER_URL'),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    keys,
    credentials: { accessKeyId, secretAccessKey },
    kinesisEndpoint,
    kinesisTimeoutMs: envInt(env, 'KINESIS_TIMEOUT_MS', { fallback: 2_000, min: 100, max: 120_000 }),
    kinesisMaxAttempts: envInt(env, 'KINESIS_MAX_ATTEMPTS', { fallback: 2, min: 1, max: 10 }),
    stream: envString(env, 'CLOUDWATCH_STREAM', 'cloudwatch-metrics'),
    streamShards: envInt(env, 'CLOUDWATCH_STREAM_SHARDS', { fallback: 2, min: 1, max: 64 }),
    streamRetryMs: envInt(env, 'STREAM_RETRY_MS', { fallback: 1_000, min: 50, max: 60_000 }),
    consumerPollMs: envInt(env, 'CONSUMER_POLL_MS', { fallback: 250, min: 20, max: 60_000 }),
    retentionMs: envInt(env, 'METRIC_RETENTION_MS', { fallback: HOUR3, min: 1_000 }),
    alarmEvaluationIntervalMs: envInt(env, 'ALARM_EVALUATION_INTERVAL_MS', { fallback: 1_000, min: 50, max: 3_600_000 }),
    actionHosts: new Set(hosts),
    actionTimeoutMs: envInt(env, 'ALARM_ACTION_TIMEOUT_MS', { fallback: 2_000, min: 50, max: 60_000 }),
    actionRetries: envInt(env, 'ALARM_ACTION_RETRIES', { fallback: 2, min: 0, max: 10 }),
    maxAlarms: envInt(env, 'MAX_ALARMS', { fallback: 5_000, min: 1 }),
    localStore: envBool(env, 'LOCAL_STORE', false),
    localStoreRetentionMs: envInt(env, 'LOCAL_STORE_RETENTION_MS', { fallback: HOUR3, min: 1_000 }),
    localStoreFile: path.resolve(envString(env, 'LOCAL_STORE_FILE', path.join(dataDir, 'cloudwatch', 'local-store.log'))),
    shipRetryMs: envInt(env, 'LOCAL_STORE_SHIP_RETRY_MS', { fallback: 1_000, min: 50, max: 60_000 }),
    shipBatch: envInt(env, 'LOCAL_STORE_SHIP_BATCH', { fallback: 1_000, min: 1, max: 100_000 }),
  }
}
