// The customers of the run: what they set up before the method (streams, user pools and users,
// alarms, rules and targets) and the open-loop traffic each sends, all through the stock AWS SDK
// clients. Each generator is named after the service whose customers it stands for; those names
// are the services of the journal, the cascade and `expect`.
import { request } from 'undici'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import {
  CreateUserPoolCommand,
  CreateUserPoolClientCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider'
import { PutMetricDataCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch'
import { PutRuleCommand, PutTargetsCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { InvokeCommand } from '@aws-sdk/client-lambda'
import { CreateServiceCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs'
import type { Random } from '../../services/kit/prng.js'
import { signRequest } from '../../services/kit/sigv4-sign.js'
import { POLICY_SIGNING_NAME } from '../../services/autoscaler/policy-api.js'
import type { CustomerClients } from './clients.js'
import type { ClientRecorder } from './recorder.js'
import { OpenLoop } from './open-loop.js'
import type { EventTarget } from './event-target.js'

export interface WorkloadRates {
  kinesisPut?: number
  kinesisGet?: number
  cognitoSignIn?: number
  putMetricData?: number
  putEvents?: number
  lambdaInvoke?: number
  customerDemand?: number
  statusPageRead?: number
}

export const STREAM = 'customer-orders'
export const METRIC_NAMESPACE = 'Customer'
export const HEARTBEAT_ALARM = 'orders-heartbeat'
const USERS = 20
const PASSWORD = 'Customer-Passw0rd!'

/** The autoscaled customer service and how its demand moves (see the autoscaler generator). */
export const WEB_SERVICE = 'web'
export const DEMAND = { lowTasks: 2, highTasks: 3, periodMs: 6_000, lagToleranceMs: 4_000 }

export interface Seeded {
  autoscaler?: { service: string }
  shards: string[]
  userPool?: { id: string; clientId: string; users: string[] }
  operator?: { userPoolId: string; clientId: string; username: string; password: string }
}

/** Retries a setup step until it works: services create their own streams in the background. */
async function eventually<T>(what: string, timeoutMs: number, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      return await step()
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error(`seeding: ${what} did not succeed within ${timeoutMs} ms: ${(last as Error)?.name ?? ''} ${(last as Error)?.message ?? last}`)
}

export async function seedCustomers(
  c: CustomerClients,
  opts: { eventTarget?: EventTarget; timeoutMs?: number; withOperator?: boolean; autoscalerUrl?: string; streamShards?: number },
): Promise<Seeded> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const seeded: Seeded = { shards: [] }
  const steps: Promise<unknown>[] = []
  if (c.kinesis) {
    const k = c.kinesis
    steps.push(
      (async () => {
        await eventually('CreateStream', timeoutMs, () =>
          k.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: opts.streamShards ?? 4 })).catch((err) => {
            if (err.name !== 'ResourceInUseException') throw err
          }),
        )
        await eventually('the customer stream becoming ACTIVE', timeoutMs, async () => {
          const s = await k.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }))
          if (s.StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') throw new Error('not active yet')
        })
        const shards = await eventually('ListShards', timeoutMs, () => k.send(new ListShardsCommand({ StreamName: STREAM })))
        seeded.shards = (shards.Shards ?? []).map((s) => s.ShardId!)
      })(),
    )
  }
  if (c.cognito) {
    const idp = c.cognito
    const pool = async (name: string, users: string[], password: string) => {
      const p = await eventually(`CreateUserPool ${name}`, timeoutMs, () => idp.send(new CreateUserPoolCommand({ PoolName: name })))
      const id = p.UserPool!.Id!
      const client = await idp.send(
        new CreateUserPoolClientCommand({
          UserPoolId: id,
          ClientName: `${name}-app`,
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      )
      for (const u of users) {
        await idp.send(new AdminCreateUserCommand({ UserPoolId: id, Username: u, MessageAction: 'SUPPRESS' }))
        await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: id, Username: u, Password: password, Permanent: true }))
      }
      return { id, clientId: client.UserPoolClient!.ClientId! }
    }
    steps.push(
      (async () => {
        const users = Array.from({ length: USERS }, (_, i) => `customer-${i + 1}`)
        const p = await pool('customers', users, PASSWORD)
        seeded.userPool = { id: p.id, clientId: p.clientId, users }
        if (opts.withOperator) {
          const password = 'Operator-Passw0rd!'
          const o = await pool('operators', ['operator'], password)
          seeded.operator = { userPoolId: o.id, clientId: o.clientId, username: 'operator', password }
        }
      })(),
    )
  }
  if (c.cloudwatch) {
    const cw = c.cloudwatch
    // An alarm on the customers' own metric: while datapoints flow it is OK; when CloudWatch
    // stops processing them, it has nothing to evaluate (INSUFFICIENT_DATA), as in 2020.
    steps.push(
      eventually('PutMetricAlarm', timeoutMs, () =>
        cw.send(
          new PutMetricAlarmCommand({
            AlarmName: HEARTBEAT_ALARM,
            Namespace: METRIC_NAMESPACE,
            MetricName: 'OrdersProcessed',
            Statistic: 'SampleCount',
            Period: 1,
            EvaluationPeriods: 3,
            Threshold: 0,
            ComparisonOperator: 'LessThanThreshold',
            TreatMissingData: 'missing',
          }),
        ),
      ),
    )
  }
  if (c.eventbridge && opts.eventTarget) {
    const eb = c.eventbridge
    const target = opts.eventTarget
    steps.push(
      (async () => {
        await eventually('PutRule', timeoutMs, () =>
          eb.send(new PutRuleCommand({ Name: 'customer-orders', EventPattern: JSON.stringify({ source: ['customer.orders'] }) })),
        )
        await eb.send(new PutTargetsCommand({ Rule: 'customer-orders', Targets: [{ Id: 'customer-webhook', Arn: target.url }] }))
      })(),
    )
  }
  if (c.ecs && opts.autoscalerUrl) {
    const ecs = c.ecs
    const url = opts.autoscalerUrl
    steps.push(
      (async () => {
        await eventually('CreateService', timeoutMs, () => ecs.send(new CreateServiceCommand({ serviceName: WEB_SERVICE, desiredCount: DEMAND.lowTasks })))
        // Reactive scaling as AWS customers set it up: a policy per direction, each fired by a
        // CloudWatch alarm on the customer's own metric (how many tasks short of demand it is).
        for (const [name, adjustment, op] of [
          ['web-scale-out', 1, 'GreaterThanThreshold'],
          ['web-scale-in', -1, 'LessThanThreshold'],
        ] as const) {
          await eventually(`scaling policy ${name}`, timeoutMs, async () => {
            const body = JSON.stringify({
              service: WEB_SERVICE,
              name,
              adjustment,
              cooldownMs: 1_000,
              alarm: {
                namespace: METRIC_NAMESPACE,
                metricName: 'CapacityShortfall',
                dimensions: { Service: WEB_SERVICE },
                threshold: 0,
                statistic: 'Maximum',
                periodSeconds: 1,
                evaluationPeriods: 1,
                comparisonOperator: op,
              },
            })
            // Signed as Application Auto Scaling's PutScalingPolicy is, with the customer's own key (its ECS client's).
            const headers = await signRequest(
              { method: 'POST', url: `${url}/policies`, headers: { 'content-type': 'application/json' }, body },
              { credentials: await ecs.config.credentials(), region: await ecs.config.region(), service: POLICY_SIGNING_NAME },
            )
            const res = await request(`${url}/policies`, {
              method: 'POST',
              headers,
              body,
              headersTimeout: 5_000,
              bodyTimeout: 5_000,
            })
            const text = await res.body.text()
            if (res.statusCode >= 300 && res.statusCode !== 409) throw new Error(`POST /policies answered ${res.statusCode}: ${text}`)
          })
        }
        seeded.autoscaler = { service: WEB_SERVICE }
      })(),
    )
  }
  await Promise.all(steps)
  return seeded
}

export interface Workload {
  loops: OpenLoop[]
  stop(): Promise<void>
}

export function startWorkload(
  c: CustomerClients,
  seeded: Seeded,
  opts: {
    rates: WorkloadRates
    random: Random
    recorder: ClientRecorder
    maxDurationMs: number
    timeoutMs: number
    statusPageUrl?: string
    clock: () => number
  },
): Workload {
  const loops: OpenLoop[] = []
  const { rates, random, recorder } = opts
  let seq = 0
  const loop = (service: string, operation: string, ratePerSec: number | undefined, call: () => Promise<unknown>) => {
    if (!ratePerSec) return
    // Enough room for every call of two timeouts' worth of arrivals; more would only queue.
    const maxInFlight = Math.ceil(ratePerSec * (opts.timeoutMs / 1000) * 2) + 4
    loops.push(new OpenLoop({ service, operation, ratePerSec, random, recorder, call, maxInFlight, maxDurationMs: opts.maxDurationMs }).start())
  }
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]

  if (c.kinesis) {
    const k = c.kinesis
    loop('kinesis', 'PutRecords', rates.kinesisPut, () =>
      k
        .send(
          new PutRecordsCommand({
            StreamName: STREAM,
            Records: Array.from({ length: 10 }, () => ({ PartitionKey: `customer-${seq % 997}`, Data: Buffer.from(`order-${seq++}`) })),
          }),
        )
        .then((out) => {
          // A partial failure is a failure to the customer who has to resend.
          if (out.FailedRecordCount)
            throw Object.assign(new Error(`${out.FailedRecordCount} records failed`), {
              name: out.Records?.find((r) => r.ErrorCode)?.ErrorCode ?? 'PartialFailure',
            })
        }),
    )
    const iterators = new Map<string, string | undefined>()
    let next = 0
    loop('kinesis', 'GetRecords', seeded.shards.length ? rates.kinesisGet : undefined, async () => {
      const shard = seeded.shards[next++ % seeded.shards.length]
      let it = iterators.get(shard)
      if (!it) it = (await k.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard, ShardIteratorType: 'LATEST' }))).ShardIterator
      iterators.set(shard, undefined)
      const out = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 100 }))
      iterators.set(shard, out.NextShardIterator)
    })
  }
  if (c.cognito && seeded.userPool) {
    const pool = seeded.userPool
    loop('cognito', 'InitiateAuth', rates.cognitoSignIn, () =>
      c.cognito!.send(
        new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: pool.clientId, AuthParameters: { USERNAME: pick(pool.users), PASSWORD } }),
      ),
    )
  }
  if (c.cloudwatch) {
    loop('cloudwatch', 'PutMetricData', rates.putMetricData, () =>
      c.cloudwatch!.send(
        new PutMetricDataCommand({
          Namespace: METRIC_NAMESPACE,
          MetricData: [{ MetricName: 'OrdersProcessed', Value: Math.round(random() * 100), Unit: 'Count' }],
        }),
      ),
    )
  }
  if (c.eventbridge) {
    loop('eventbridge', 'PutEvents', rates.putEvents, () =>
      c
        .eventbridge!.send(
          new PutEventsCommand({
            Entries: [{ Source: 'customer.orders', DetailType: 'Order Placed', Detail: JSON.stringify({ order: seq++, sentAtMs: opts.clock() }) }],
          }),
        )
        .then((out) => {
          if (out.FailedEntryCount)
            throw Object.assign(new Error('PutEvents entry failed'), { name: out.Entries?.find((e) => e.ErrorCode)?.ErrorCode ?? 'FailedEntry' })
        }),
    )
  }
  if (c.lambda) {
    loop('lambda', 'Invoke', rates.lambdaInvoke, () =>
      c.lambda!.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ order: seq++ })) })).then((out) => {
        if (out.FunctionError) throw Object.assign(new Error('function error'), { name: `FunctionError.${out.FunctionError}` })
      }),
    )
  }
  if (c.ecs && seeded.autoscaler) {
    // The customers' demand swings between two sizes every DEMAND.periodMs; each tick they publish
    // how many tasks the service is short (CloudWatch's alarms turn that into scaling decisions)
    // and read the service. Healthy reactive scaling changes the desired count every swing; the
    // customers are hurt when no decision came for a swing plus a tolerance (2020: "scaling
    // decisions delayed"); a stuck count that happens to match the demand does not hide that.
    // Provisioning delays show in pending/running, not here.
    const ecs = c.ecs
    const cw = c.cloudwatch
    let lastDesired: number | undefined
    let lastDecisionAtMs = 0
    loop('autoscaler', 'DescribeServices', rates.customerDemand, async () => {
      const now = opts.clock()
      const target = Math.floor(now / DEMAND.periodMs) % 2 === 0 ? DEMAND.lowTasks : DEMAND.highTasks
      const out = await ecs.send(new DescribeServicesCommand({ services: [WEB_SERVICE] }))
      const desired = out.services?.[0]?.desiredCount ?? 0
      if (desired !== lastDesired) {
        lastDesired = desired
        lastDecisionAtMs = now
      }
      // Publishing the metric is the customer's job, not the probe's: its failure is CloudWatch's.
      cw?.send(
        new PutMetricDataCommand({
          Namespace: METRIC_NAMESPACE,
          MetricData: [{ MetricName: 'CapacityShortfall', Dimensions: [{ Name: 'Service', Value: WEB_SERVICE }], Value: target - desired }],
        }),
      ).catch(() => {})
      // Demand moves every period, so a healthy autoscaler decides at least that often.
      if (now - lastDecisionAtMs > DEMAND.periodMs + DEMAND.lagToleranceMs) {
        throw Object.assign(new Error(`desired ${desired} tasks, demand ${target}: no scaling decision for ${Math.round(now - lastDecisionAtMs)} ms`), {
          name: 'ScalingDecisionsDelayed',
        })
      }
    })
  }
  if (opts.statusPageUrl) {
    const url = opts.statusPageUrl
    loop('status-page', 'GET /api/status', rates.statusPageRead, async () => {
      const res = await request(`${url}/api/status`, { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs })
      await res.body.dump()
      if (res.statusCode !== 200) throw Object.assign(new Error(`HTTP ${res.statusCode}`), { name: `HTTP${res.statusCode}` })
    })
  }
  return {
    loops,
    async stop() {
      await Promise.all(loops.map((l) => l.stop()))
    },
  }
}
