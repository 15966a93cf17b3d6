// The Lambda service's environment, parsed and checked once at start-up so that a mis-wired
// invocation host fails before it serves. Every variable is documented in the report / docs.
import path from 'node:path'
import { envString, envInt, envBool, envCredentials, DEFAULT_CREDENTIALS, InvalidConfig } from '../kit/index.js'

type Env = Record<string, string | undefined>

const MiB = 1024 * 1024

export interface LambdaConfig {
  port: number
  host: string
  adminToken?: string
  internalToken?: string
  keys: Map<string, string>
  watchParent: boolean
  logLevel: string
  /** The simulated invocation host this process stands for (names its spill file). */
  hostId: string
  cloudwatchUrl: string
  hostMemoryBudgetBytes: number
  invocationMemoryBytes: number
  logBytesPerInvocation: number
  maxConcurrentInvocations: number
  agent: {
    bounded: boolean
    flushIntervalMs: number
    namespace: string
    requestTimeoutMs: number
    bufferMaxBytes: number
    spillFile: string
  }
}

export function readConfig(env: Env): LambdaConfig {
  const cloudwatchUrl = envString(env, 'CLOUDWATCH_URL')
  if (!/^https?:\/\/[^/]+/.test(cloudwatchUrl)) throw new InvalidConfig('CLOUDWATCH_URL', 'an http:// URL', cloudwatchUrl)
  const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
  const hostId = envString(env, 'LAMBDA_HOST_ID', 'host-1')
  if (!/^[A-Za-z0-9_.-]+$/.test(hostId)) throw new InvalidConfig('LAMBDA_HOST_ID', 'letters, digits, _ . -', hostId)
  const hostMemoryBudgetBytes = envInt(env, 'HOST_MEMORY_BUDGET_MB', { fallback: 64, min: 1, max: 4096 }) * MiB
  const invocationMemoryBytes = envInt(env, 'INVOCATION_MEMORY_MB', { fallback: 8, min: 1, max: 4096 }) * MiB
  if (invocationMemoryBytes > hostMemoryBudgetBytes) {
    throw new InvalidConfig('INVOCATION_MEMORY_MB', `at most HOST_MEMORY_BUDGET_MB (${hostMemoryBudgetBytes / MiB})`, env.INVOCATION_MEMORY_MB)
  }
  const bounded = envBool(env, 'BOUNDED_AGENT_BUFFER', false)
  const bufferMaxBytes = envInt(env, 'AGENT_BUFFER_MAX_BYTES', { fallback: MiB, min: 1024 })
  // The remediation's promise is that the agent never starves an invocation: its capped part must
  // leave room for at least one invocation's reservation.
  if (bounded && bufferMaxBytes + invocationMemoryBytes > hostMemoryBudgetBytes) {
    throw new InvalidConfig(
      'AGENT_BUFFER_MAX_BYTES',
      `at most HOST_MEMORY_BUDGET_MB - INVOCATION_MEMORY_MB (${hostMemoryBudgetBytes - invocationMemoryBytes} bytes) with BOUNDED_AGENT_BUFFER=true`,
      env.AGENT_BUFFER_MAX_BYTES,
    )
  }
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    keys: envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    hostId,
    cloudwatchUrl: cloudwatchUrl.replace(/\/+$/, ''),
    hostMemoryBudgetBytes,
    invocationMemoryBytes,
    logBytesPerInvocation: envInt(env, 'LOG_BYTES_PER_INVOCATION', { fallback: 16 * 1024, min: 0, max: 16 * MiB }),
    maxConcurrentInvocations: envInt(env, 'MAX_CONCURRENT_INVOCATIONS', { fallback: 100, min: 1 }),
    agent: {
      bounded,
      flushIntervalMs: envInt(env, 'AGENT_FLUSH_INTERVAL_MS', { fallback: 500, min: 10 }),
      namespace: envString(env, 'AGENT_NAMESPACE', 'OutageLab/Lambda'),
      requestTimeoutMs: envInt(env, 'AGENT_REQUEST_TIMEOUT_MS', { fallback: 2000, min: 50 }),
      bufferMaxBytes,
      spillFile: path.resolve(envString(env, 'AGENT_SPILL_FILE', path.join(dataDir, `lambda-${hostId}-agent-spill.ndjson`))),
    },
  }
}
