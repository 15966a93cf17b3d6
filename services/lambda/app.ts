// The Lambda service: one simulated invocation host. Customers call Invoke (and GetFunction,
// ListFunctions) with the stock @aws-sdk/client-lambda; every invocation hands its metrics to the
// host's agent, which ships them to CloudWatch. When CloudWatch fails, the agent's buffer is what
// decides whether invocations keep working (docs/fidelity.md, "Lambda").
import type { FastifyInstance } from 'fastify'
import { createService, type Service } from '../kit/index.js'
import { HostMemory } from './host-memory.js'
import { MetricsAgent, DEFAULT_NAMESPACE, type ShipDatums } from './agent.js'
import type { SpillFile } from './spill.js'
import { FunctionCatalogue } from './functions.js'
import { Invoker } from './invoker.js'
import { createLambdaMetrics } from './metrics.js'
import { lambdaApi } from './api.js'

/** Lambda's synchronous request payload limit (6 MB). */
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024

export interface LambdaDeps {
  keys: Map<string, string>
  /** How the agent reaches CloudWatch (PutMetricData of one namespace). */
  ship: ShipDatums
  hostMemoryBudgetBytes: number
  invocationMemoryBytes: number
  logBytesPerInvocation: number
  maxConcurrentInvocations?: number
  agentFlushIntervalMs: number
  /** The CloudWatch namespace of the agent's datums (DEFAULT_NAMESPACE). */
  agentNamespace?: string
  /** The remediation: cap the in-memory buffer, spill the rest to this file. Absent: 2020's unbounded buffer. */
  boundedAgentBuffer?: { maxBytes: number; spill: SpillFile }
  /** The simulated host's id, for /health. */
  hostId?: string
  /** Extra fields for /health (the CloudWatch endpoint, ...). */
  describe?: Record<string, unknown>
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logLevel?: string
  logger?: boolean
  /** Start the agent's flusher when the app is ready (tests that drive flush() themselves say false). */
  startAgent?: boolean
}

export interface LambdaParts {
  service: Service
  memory: HostMemory
  agent: MetricsAgent
  invoker: Invoker
}

declare module 'fastify' {
  interface FastifyInstance {
    lambda: LambdaParts
  }
}

export function buildApp(deps: LambdaDeps): FastifyInstance {
  const service = createService({
    name: 'lambda',
    instance: deps.hostId,
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logLevel: deps.logLevel,
    logger: deps.logger,
    bodyLimit: PAYLOAD_LIMIT_BYTES,
  })
  const { app } = service
  const memory = new HostMemory(deps.hostMemoryBudgetBytes)
  // Declared before the agent: the metrics' gauges read it lazily.
  let agent!: MetricsAgent
  const metrics = createLambdaMetrics(service.metrics, { memory, agent: () => agent })
  let lastFailureLogMs = 0
  agent = new MetricsAgent({
    memory,
    ship: deps.ship,
    flushIntervalMs: deps.agentFlushIntervalMs,
    namespace: deps.agentNamespace,
    bounded: deps.boundedAgentBuffer,
    events: {
      shipped: (n) => metrics.shipped(n),
      flushFailed: (err) => {
        metrics.flushFailed()
        // CloudWatch down means a failure every flush: one line a few seconds is enough to see it.
        if (Date.now() - lastFailureLogMs < 5_000) return
        lastFailureLogMs = Date.now()
        const s = agent.stats()
        app.log.warn(
          { err: err.message, bufferBytes: s.bufferBytes, spilledBytes: s.spilledBytes, consecutiveFailures: s.consecutiveFailures },
          'agent: PutMetricData failed, keeping the datums buffered',
        )
      },
      rejected: (n, err) => {
        metrics.rejected(n)
        app.log.error({ datums: n, errorType: err.errorType, err: err.message }, 'agent: CloudWatch refused a batch as invalid; dropped it')
      },
      recovered: (failures) => app.log.info({ failures, ...agent.stats() }, 'agent: CloudWatch accepts datums again'),
    },
  })
  const invoker = new Invoker({
    memory,
    agent,
    metrics,
    invocationMemoryBytes: deps.invocationMemoryBytes,
    logBytesPerInvocation: deps.logBytesPerInvocation,
    maxConcurrentInvocations: deps.maxConcurrentInvocations ?? 100,
  })
  const catalogue = new FunctionCatalogue()

  app.register(lambdaApi, {
    keys: deps.keys,
    catalogue,
    invoker,
    metrics,
    onBackgroundError: (err: unknown) => app.log.warn({ err: (err as Error).message }, 'event invocation failed'),
  })

  service.setHealth(() => {
    const a = agent.stats()
    return {
      status: 'ok',
      functions: catalogue.list().map((f) => f.name),
      host_memory: {
        simulated: true,
        note: "an accounting of a simulated invocation host shared by invocations and the metrics agent, not this process's RSS",
        budget_bytes: memory.budgetBytes,
        used_bytes: memory.usedBytes,
        reserved_bytes: memory.reservedBytes,
        agent_bytes: memory.agentBytes,
        invocation_bytes: deps.invocationMemoryBytes,
        running_invocations: memory.runningInvocations,
      },
      agent: {
        mode: a.mode,
        buffer_bytes: a.bufferBytes,
        buffered_entries: a.bufferedEntries,
        spilled_bytes: a.spilledBytes,
        spilled_entries: a.spilledEntries,
        datums_shipped: a.datumsShipped,
        datums_rejected: a.datumsRejected,
        namespace: deps.agentNamespace ?? DEFAULT_NAMESPACE,
        flush_failures: a.flushFailures,
        consecutive_failures: a.consecutiveFailures,
        ...(a.failingSinceMs !== undefined ? { failing_since: new Date(a.failingSinceMs).toISOString() } : {}),
        ...(a.lastFlushError ? { last_flush_error: a.lastFlushError } : {}),
        ...(deps.boundedAgentBuffer ? { spill_file: deps.boundedAgentBuffer.spill.file, buffer_max_bytes: deps.boundedAgentBuffer.maxBytes } : {}),
      },
      ...deps.describe,
    }
  })

  app.decorate('lambda', { service, memory, agent, invoker })
  if (deps.startAgent !== false) app.addHook('onReady', async () => agent.start())
  app.addHook('onClose', async () => {
    await agent.stop()
    await deps.boundedAgentBuffer?.spill.close()
  })
  return app
}
