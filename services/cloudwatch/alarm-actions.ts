// Alarm actions: an http(s) URL on an allowed host (127.0.0.1 and localhost by default; the
// autoscaler's policy URL) gets a JSON POST of the state change, as an SNS subscriber would; other
// ARNs are stored and ignored. Each delivery has a timeout and a couple of retries; the outcome is
// counted. Deliveries never hold up the evaluation loop.
import { request, type Dispatcher } from 'undici'
import type { Alarm, AlarmState } from './alarms.js'

export interface StateChange {
  alarm: Alarm
  oldState: AlarmState
  newState: AlarmState
  reason: string
  atMs: number
}

export interface AlarmActionsOptions {
  dispatcher: Dispatcher
  timeoutMs: number
  retries: number
  retryDelayMs: number
  allowedHosts: Set<string>
  onOutcome: (outcome: 'delivered' | 'failed' | 'ignored') => void
  log: { warn: (detail: object, msg: string) => void }
  signal: AbortSignal
}

/** True for an action the service delivers itself: an http(s) URL to an allowed host. */
export function isHttpAction(action: string, allowedHosts: Set<string>): boolean {
  let url: URL
  try {
    url = new URL(action)
  } catch {
    return false
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && allowedHosts.has(url.hostname.replace(/^\[|\]$/g, ''))
}

export function createAlarmActions(opts: AlarmActionsOptions): (change: StateChange) => void {
  const deliver = async (url: string, body: string) => {
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      if (opts.signal.aborted) return
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: opts.dispatcher,
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]),
        })
        await res.body.dump()
        if (res.statusCode >= 200 && res.statusCode < 300) return opts.onOutcome('delivered')
        if (attempt === opts.retries) opts.log.warn({ url, status: res.statusCode }, 'alarm action refused')
      } catch (err) {
        if (attempt === opts.retries) opts.log.warn({ url, err: (err as Error).message }, 'alarm action failed')
      }
      if (attempt < opts.retries) await new Promise((r) => setTimeout(r, opts.retryDelayMs * 2 ** attempt))
    }
    if (!opts.signal.aborted) opts.onOutcome('failed')
  }

  return (change) => {
    const { alarm } = change
    if (!alarm.actionsEnabled) return
    const actions = change.newState === 'ALARM' ? alarm.alarmActions : change.newState === 'OK' ? alarm.okActions : alarm.insufficientDataActions
    if (actions.length === 0) return
    const body = JSON.stringify({
      AlarmName: alarm.alarmName,
      AlarmDescription: alarm.alarmDescription ?? null,
      AlarmArn: alarm.arn,
      AWSAccountId: '000000000000',
      Region: 'US East (N. Virginia)',
      NewStateValue: change.newState,
      OldStateValue: change.oldState,
      NewStateReason: change.reason,
      StateChangeTime: new Date(change.atMs).toISOString(),
      Trigger: {
        MetricName: alarm.metricName,
        Namespace: alarm.namespace,
        Statistic: alarm.statistic.toUpperCase(),
        Dimensions: alarm.dimensions.map(([name, value]) => ({ name, value })),
        Period: alarm.periodSec,
        EvaluationPeriods: alarm.evaluationPeriods,
        DatapointsToAlarm: alarm.datapointsToAlarm,
        ComparisonOperator: alarm.comparisonOperator,
        Threshold: alarm.threshold,
        TreatMissingData: alarm.treatMissingData,
      },
    })
    for (const action of actions) {
      if (isHttpAction(action, opts.allowedHosts)) void deliver(action, body)
      else opts.onOutcome('ignored')
    }
  }
}
