// The autoscaler (ECS-like): the ECS API for services of tasks, task processes on this host,
// provisioning workflows on EventBridge, and scaling policies that CloudWatch alarms invoke.
import type { FastifyInstance } from 'fastify'
import { fileURLToPath } from 'node:url'
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { createService, awsApi, seededRandom, AwsError, PUBLIC } from '../kit/index.js'
import { Cluster } from './cluster.js'
import { TaskRunner } from './runner.js'
import { Workflow } from './workflow.js'
import { AlarmPutter } from './alarms.js'
import { createMetrics } from './metrics.js'
import { ecsOperations, EcsErrors } from './ecs-api.js'
import { signedPolicyRoutes } from './policy-api.js'
import { alarmState, demandTime, nextDesired, parsePolicy, PolicyNotFound, type ScalingPolicy } from './policies.js'

export interface AutoscalerDeps {
  eventBridge: EventBridgeClient
  /** CLOUDWATCH_URL's client: policies with an `alarm` get it put there. */
  cloudWatch?: CloudWatchClient
  keys: Map<string, string>
  instance?: string
  ruleName?: string
  eventBusName?: string
  maxTasks?: number
  /** The compiled task app; default: task-app.js beside this module. */
  taskEntry?: string
  taskStartTimeoutMs?: number
  retryBaseMs?: number
  retryMaxMs?: number
  eventTimeoutMs?: number
  tickMs?: number
  seed?: number
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logLevel?: string
  logger?: boolean
}

export interface AutoscalerParts {
  cluster: Cluster
  workflow: Workflow
  policies: Map<string, ScalingPolicy>
  /** Starts the workflows once the URL EventBridge delivers to is known (after listen). */
  start(publicUrl: string): void
}

declare module 'fastify' {
  interface FastifyInstance {
    autoscaler: AutoscalerParts
  }
}

export function buildApp(deps: AutoscalerDeps): FastifyInstance {
  const instance = deps.instance ?? 'autoscaler'
  const service = createService({
    name: 'autoscaler',
    instance,
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logLevel: deps.logLevel,
    logger: deps.logger,
  })
  const { app } = service
  const random = seededRandom(`${deps.seed ?? 1}:${instance}`)
  let publicUrl: string | undefined

  let workflow!: Workflow
  const cluster = new Cluster({
    runner: new TaskRunner({
      entry: deps.taskEntry ?? fileURLToPath(new URL('./task-app.js', import.meta.url)),
      startTimeoutMs: deps.taskStartTimeoutMs ?? 15_000,
    }),
    maxTasks: deps.maxTasks ?? 16,
    random,
    hooks: {
      demandMet: (svc, trigger, seconds) => {
        metrics.demandMet(svc, trigger, seconds)
        app.log.info({ service: svc, trigger, seconds }, 'demand met: running == desired')
      },
      wake: () => workflow?.wake(),
      log: app.log,
    },
  })
  const waiting = () => [...cluster.tasks.values()].filter((t) => t.workflow && t.workflow.publishedAtMs === undefined).length
  const metrics = createMetrics(service.metrics, () => cluster, waiting)
  workflow = new Workflow({
    client: deps.eventBridge,
    cluster,
    instance,
    ruleName: deps.ruleName ?? `outage-lab-ecs-workflows-${instance}`,
    eventBusName: deps.eventBusName ?? 'default',
    retryBaseMs: deps.retryBaseMs ?? 200,
    retryMaxMs: deps.retryMaxMs ?? 5_000,
    eventTimeoutMs: deps.eventTimeoutMs ?? 30_000,
    tickMs: deps.tickMs ?? 100,
    random,
    metrics,
    log: app.log,
  })
  const policies = new Map<string, ScalingPolicy>()
  const alarms = deps.cloudWatch
    ? new AlarmPutter({ client: deps.cloudWatch, random, retryBaseMs: deps.retryBaseMs ?? 200, retryMaxMs: deps.retryMaxMs ?? 5_000, log: app.log })
    : undefined

  app.register(awsApi, {
    targetPrefix: 'AmazonEC2ContainerServiceV20141113',
    jsonVersion: '1.1',
    signingName: 'ecs',
    keys: deps.keys,
    operations: ecsOperations(cluster),
  })

  // EventBridge's rule target: workflow events come back here. Internal: only EventBridge calls it,
  // with the run's internal credential, which it sends to AUTOSCALER_URL only.
  app.post('/workflow/events', async (req) => workflow.deliver(req.body))

  // Scaling policies: user-facing (the seeding step creates them, as a customer would: public, and
  // SigV4-signed like Application Auto Scaling's API, policy-api.ts), invoked by CloudWatch alarms (internal).
  const invokeUrl = (name: string) => `${publicUrl ?? ''}/policies/${encodeURIComponent(name)}/invoke`
  const view = (p: ScalingPolicy) => ({ ...p, invokeUrl: invokeUrl(p.name) })
  app.register(async (scope) => {
    signedPolicyRoutes(scope, deps.keys)
    scope.post('/policies', PUBLIC, async (req, reply) => {
      const policy = parsePolicy(req.body, Date.now())
      const svc = cluster.services.get(policy.service)
      if (!svc || svc.status === 'INACTIVE') throw EcsErrors.ServiceNotFoundException()
      if (policy.alarm && !alarms) throw new AwsError('InvalidParameterException', 400, 'alarm needs CloudWatch: start the autoscaler with CLOUDWATCH_URL')
      policies.set(policy.name, policy)
      if (policy.alarm) alarms!.put(policy.alarm, invokeUrl(policy.name), () => policies.get(policy.name) === policy)
      reply.code(201)
      return view(policy)
    })
    scope.get('/policies', PUBLIC, async () => ({ policies: [...policies.values()].map(view) }))
    scope.delete('/policies/:name', PUBLIC, async (req) => {
      const { name } = req.params as { name: string }
      if (!policies.delete(name)) throw PolicyNotFound(name)
      return { deleted: name }
    })
  })
  app.post('/policies/:name/invoke', async (req) => {
    const { name } = req.params as { name: string }
    const policy = policies.get(name)
    if (!policy) throw PolicyNotFound(name)
    const now = Date.now()
    const body = parseLoose(req.body)
    const state = alarmState(body)
    const outcome = (o: string, extra: object = {}) => {
      metrics.policyInvoked(name, state, o)
      return { policy: name, service: policy.service, state, outcome: o, ...extra }
    }
    if (state !== 'ALARM') return outcome('ignored')
    const svc = cluster.services.get(policy.service)
    if (!svc || svc.status !== 'ACTIVE') {
      metrics.policyInvoked(name, state, 'failed')
      throw EcsErrors.ServiceNotFoundException()
    }
    if (policy.lastScaledAtMs !== undefined && now - policy.lastScaledAtMs < policy.cooldownMs) return outcome('cooldown', { desiredCount: svc.desiredCount })
    const from = svc.desiredCount
    const to = nextDesired(policy, from, cluster.maxTasks)
    if (to === from) return outcome('unchanged', { desiredCount: to })
    policy.lastScaledAtMs = now
    cluster.setDesired(svc, to, 'policy', demandTime(body, now))
    app.log.info({ policy: name, service: svc.name, from, to }, 'scaling policy executed')
    return outcome('scaled', { previousDesiredCount: from, desiredCount: to })
  })

  service.setHealth(() => ({
    status: 'ok',
    rule_ready: workflow.ruleReady,
    services: [...cluster.services.values()].filter((s) => s.status !== 'INACTIVE').length,
    task_processes: cluster.liveTasks(),
    workflow_steps_waiting: waiting(),
    ...(workflow.lastError ? { last_eventbridge_error: workflow.lastError } : {}),
  }))

  app.decorate('autoscaler', {
    cluster,
    workflow,
    policies,
    start(url: string) {
      publicUrl = url.replace(/\/+$/, '')
      workflow.start(publicUrl)
    },
  })
  // No task outlives the autoscaler.
  app.addHook('onClose', async () => {
    workflow.close()
    alarms?.close()
    await cluster.close()
  })
  return app
}

/** CloudWatch may post its alarm notification as text/plain (SNS does): JSON either way. */
function parseLoose(body: unknown): unknown {
  if (typeof body !== 'string') return body
  try {
    return JSON.parse(body)
  } catch {
    throw new AwsError('InvalidParameterException', 400, 'Expected a JSON body')
  }
}
