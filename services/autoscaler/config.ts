// The autoscaler's environment, parsed and checked once at start-up: a mis-wired topology fails
// before it serves, naming the variable.
import { envString, envInt, envBool, envCredentials, DEFAULT_CREDENTIALS, InvalidConfig } from '../kit/index.js'

type Env = Record<string, string | undefined>

export interface AutoscalerConfig {
  port: number
  host: string
  adminToken?: string
  internalToken?: string
  keys: Map<string, string>
  seed: number
  watchParent: boolean
  logLevel: string
  /** This autoscaler's id: names its rule and marks its events. */
  instance: string
  eventBridgeUrl: string
  eventBridgeTimeoutMs: number
  /** The URL EventBridge delivers to; undefined: http://127.0.0.1:<bound port>. */
  publicUrl?: string
  /** Where policies with an `alarm` get it put (PutMetricAlarm); CloudWatch invokes the policy. */
  cloudWatchUrl?: string
  cloudWatchTimeoutMs: number
  eventBusName: string
  ruleName: string
  maxTasks: number
  taskStartTimeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  eventTimeoutMs: number
  tickMs: number
}

const url = (env: Env, name: string, required: boolean): string | undefined => {
  const raw = required ? envString(env, name) : env[name] || undefined
  if (raw !== undefined && !/^https?:\/\/[^/]+/.test(raw)) throw new InvalidConfig(name, 'an http:// URL', raw)
  return raw?.replace(/\/+$/, '')
}

export function readConfig(env: Env): AutoscalerConfig {
  const instance = envString(env, 'AUTOSCALER_ID', 'autoscaler')
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(instance)) throw new InvalidConfig('AUTOSCALER_ID', '1-40 letters, digits, _ . or -', instance)
  const retryBaseMs = envInt(env, 'WORKFLOW_RETRY_BASE_MS', { fallback: 200, min: 1 })
  return {
    port: envInt(env, 'PORT', { min: 0, max: 65535 }),
    host: envString(env, 'HOST', '127.0.0.1'),
    adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
    internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
    keys: envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS),
    seed: envInt(env, 'OUTAGE_LAB_SEED', { fallback: 1 }),
    watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
    instance,
    eventBridgeUrl: url(env, 'EVENTBRIDGE_URL', true)!,
    eventBridgeTimeoutMs: envInt(env, 'EVENTBRIDGE_TIMEOUT_MS', { fallback: 5_000, min: 1 }),
    publicUrl: url(env, 'AUTOSCALER_PUBLIC_URL', false),
    cloudWatchUrl: url(env, 'CLOUDWATCH_URL', false),
    cloudWatchTimeoutMs: envInt(env, 'CLOUDWATCH_TIMEOUT_MS', { fallback: 5_000, min: 1 }),
    eventBusName: envString(env, 'EVENT_BUS_NAME', 'default'),
    ruleName: envString(env, 'WORKFLOW_RULE_NAME', `outage-lab-ecs-workflows-${instance}`),
    maxTasks: envInt(env, 'MAX_TASKS', { fallback: 16, min: 1, max: 256 }),
    taskStartTimeoutMs: envInt(env, 'TASK_START_TIMEOUT_MS', { fallback: 15_000, min: 100 }),
    retryBaseMs,
    retryMaxMs: envInt(env, 'WORKFLOW_RETRY_MAX_MS', { fallback: 5_000, min: retryBaseMs }),
    eventTimeoutMs: envInt(env, 'WORKFLOW_EVENT_TIMEOUT_MS', { fallback: 30_000, min: 100 }),
    tickMs: envInt(env, 'WORKFLOW_TICK_MS', { fallback: 100, min: 10 }),
  }
}
