// Reactive scaling policies (Application Auto Scaling's step scaling, reduced): a policy names a
// service and an adjustment; its invoke URL is a CloudWatch alarm action. CloudWatch calls it with
// the alarm's state change; only ALARM scales. So a CloudWatch outage (no datapoints, alarms in
// INSUFFICIENT_DATA) delays scaling decisions, as it did on 2020-11-25.
import { AwsError } from '../kit/index.js'
import { parseAlarm, type AlarmSpec } from './alarms.js'

export interface ScalingPolicy {
  name: string
  service: string
  /** ChangeInCapacity: desiredCount + adjustment. */
  adjustment?: number
  /** ExactCapacity: desiredCount = exactCapacity. */
  exactCapacity?: number
  cooldownMs: number
  createdAtMs: number
  lastScaledAtMs?: number
  /** The CloudWatch alarm the autoscaler puts for this policy (needs CLOUDWATCH_URL). */
  alarm?: AlarmSpec
}

const NAME = /^[A-Za-z0-9_.:-]{1,255}$/

export const InvalidParameter = (message: string) => new AwsError('InvalidParameterException', 400, message)
export const PolicyNotFound = (name: string) => new AwsError('ObjectNotFoundException', 400, `No scaling policy found for policy name: ${name}`)

/** Checks a policy definition (POST /policies) and fills its defaults. */
export function parsePolicy(body: any, nowMs: number): ScalingPolicy {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw InvalidParameter('Expected a JSON object {service, name, adjustment | exactCapacity, cooldownMs?, alarm?}')
  const { name, service, adjustment, exactCapacity, cooldownMs = 0 } = body
  if (typeof name !== 'string' || !NAME.test(name)) throw InvalidParameter('name must be 1-255 letters, digits, _ . : or -')
  if (typeof service !== 'string' || service === '') throw InvalidParameter('service must name an ECS service')
  if ((adjustment === undefined) === (exactCapacity === undefined)) throw InvalidParameter('Exactly one of adjustment and exactCapacity must be given')
  if (adjustment !== undefined && (!Number.isInteger(adjustment) || adjustment === 0)) throw InvalidParameter('adjustment must be a non-zero integer')
  if (exactCapacity !== undefined && (!Number.isInteger(exactCapacity) || exactCapacity < 0)) throw InvalidParameter('exactCapacity must be an integer >= 0')
  if (!Number.isInteger(cooldownMs) || cooldownMs < 0) throw InvalidParameter('cooldownMs must be an integer >= 0')
  const alarm = body.alarm === undefined ? undefined : parseAlarm(body.alarm, name)
  return { name, service, adjustment, exactCapacity, cooldownMs, createdAtMs: nowMs, alarm }
}

/**
 * The alarm state in an invocation: CloudWatch's alarm notification ({NewStateValue}), an
 * EventBridge "CloudWatch Alarm State Change" event ({detail: {state: {value}}}) or {state}.
 */
export function alarmState(body: any): string {
  const state = body?.NewStateValue ?? body?.newState?.value ?? body?.detail?.state?.value ?? body?.state?.value ?? body?.state
  if (typeof state !== 'string' || state === '')
    throw InvalidParameter('Expected the alarm state change: {"NewStateValue": "ALARM" | "OK" | "INSUFFICIENT_DATA", ...}')
  return state
}

/** When the demand began, if the caller says (demandAtMs, or an ISO demandAt); else now. */
export function demandTime(body: any, nowMs: number): number {
  if (Number.isFinite(body?.demandAtMs) && body.demandAtMs <= nowMs) return body.demandAtMs
  const at = typeof body?.demandAt === 'string' ? Date.parse(body.demandAt) : NaN
  return Number.isFinite(at) && at <= nowMs ? at : nowMs
}

export function nextDesired(policy: ScalingPolicy, desired: number, maxTasks: number): number {
  const target = policy.exactCapacity ?? desired + policy.adjustment!
  return Math.max(0, Math.min(maxTasks, target))
}
