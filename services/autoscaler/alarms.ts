// A policy may bring its own CloudWatch alarm (as Application Auto Scaling's target tracking
// does): the autoscaler puts it with PutMetricAlarm, the policy's invoke URL as its action,
// retrying in the background until CloudWatch takes it.
import { CloudWatchClient, PutMetricAlarmCommand, type ComparisonOperator, type Statistic } from '@aws-sdk/client-cloudwatch'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { Random } from '../kit/index.js'
import { InvalidParameter } from './policies.js'

export interface AlarmSpec {
  alarmName: string
  namespace: string
  metricName: string
  dimensions: Array<{ Name: string; Value: string }>
  statistic: Statistic
  periodSeconds: number
  evaluationPeriods: number
  threshold: number
  comparisonOperator: ComparisonOperator
  /** creating until CloudWatch took it. */
  state: 'creating' | 'created'
  lastError?: string
}

const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']
const OPERATORS = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']

/** Checks a policy's `alarm` ({namespace, metricName, threshold, dimensions?, statistic?, periodSeconds?, evaluationPeriods?, comparisonOperator?, alarmName?}). */
export function parseAlarm(raw: any, policyName: string): AlarmSpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw InvalidParameter('alarm must be an object {namespace, metricName, threshold, ...}')
  const {
    namespace,
    metricName,
    threshold,
    statistic = 'Average',
    periodSeconds = 60,
    evaluationPeriods = 1,
    comparisonOperator = 'GreaterThanThreshold',
  } = raw
  if (typeof namespace !== 'string' || namespace === '') throw InvalidParameter('alarm.namespace must be a non-empty string')
  if (typeof metricName !== 'string' || metricName === '') throw InvalidParameter('alarm.metricName must be a non-empty string')
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw InvalidParameter('alarm.threshold must be a number')
  if (!STATISTICS.includes(statistic)) throw InvalidParameter(`alarm.statistic must be one of ${STATISTICS.join(', ')}`)
  if (!OPERATORS.includes(comparisonOperator)) throw InvalidParameter(`alarm.comparisonOperator must be one of ${OPERATORS.join(', ')}`)
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1) throw InvalidParameter('alarm.periodSeconds must be an integer >= 1')
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) throw InvalidParameter('alarm.evaluationPeriods must be an integer >= 1')
  const dims = raw.dimensions ?? {}
  if (typeof dims !== 'object' || Array.isArray(dims) || !Object.values(dims).every((v) => typeof v === 'string'))
    throw InvalidParameter('alarm.dimensions must map names to string values')
  return {
    alarmName: typeof raw.alarmName === 'string' && raw.alarmName !== '' ? raw.alarmName : `outage-lab-policy-${policyName}`,
    namespace,
    metricName,
    dimensions: Object.entries(dims as Record<string, string>).map(([Name, Value]) => ({ Name, Value })),
    statistic,
    periodSeconds,
    evaluationPeriods,
    threshold,
    comparisonOperator,
    state: 'creating',
  }
}

export class AlarmPutter {
  readonly #client: CloudWatchClient
  readonly #random: Random
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(opts: {
    client: CloudWatchClient
    random: Random
    retryBaseMs: number
    retryMaxMs: number
    log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }
  }) {
    this.#client = opts.client
    this.#random = opts.random
    this.#retryBaseMs = opts.retryBaseMs
    this.#retryMaxMs = opts.retryMaxMs
    this.#log = opts.log
  }

  /** Puts the alarm, retrying until CloudWatch takes it or the spec is replaced (isCurrent() false). */
  put(spec: AlarmSpec, invokeUrl: string, isCurrent: () => boolean, attempt = 0): void {
    if (!isCurrent()) return
    const command = new PutMetricAlarmCommand({
      AlarmName: spec.alarmName,
      AlarmDescription: `outage-lab autoscaler: invokes ${invokeUrl}`,
      Namespace: spec.namespace,
      MetricName: spec.metricName,
      Dimensions: spec.dimensions,
      Statistic: spec.statistic,
      Period: spec.periodSeconds,
      EvaluationPeriods: spec.evaluationPeriods,
      Threshold: spec.threshold,
      ComparisonOperator: spec.comparisonOperator,
      AlarmActions: [invokeUrl],
      ActionsEnabled: true,
    })
    this.#client.send(command).then(
      () => {
        spec.state = 'created'
        spec.lastError = undefined
        this.#log.info({ alarm: spec.alarmName, action: invokeUrl }, 'scaling alarm created in CloudWatch')
      },
      (err: any) => {
        spec.lastError = `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`
        if (attempt === 0 || attempt % 10 === 0) this.#log.warn({ alarm: spec.alarmName, err: spec.lastError, attempt }, 'PutMetricAlarm failed; retrying')
        const cap = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** Math.min(attempt, 20))
        const timer = setTimeout(
          () => {
            this.#timers.delete(timer)
            this.put(spec, invokeUrl, isCurrent, attempt + 1)
          },
          Math.round(cap / 2 + (this.#random() * cap) / 2),
        )
        timer.unref()
        this.#timers.add(timer)
      },
    )
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#client.destroy()
  }
}

/** HTTP/1.1 with explicit timeouts, one attempt per call: put() retries with its own backoff. */
export function createCloudWatchClient(opts: {
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  timeoutMs: number
}): CloudWatchClient {
  return new CloudWatchClient({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: opts.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(opts.timeoutMs, 2_000), requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true }),
  })
}
