// The Lambda service's Prometheus series: invocations as customers see them, the simulated host's
// memory, and the agent's buffer (what shows the 2020 mechanism building up before invocations fail).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { HostMemory } from './host-memory.js'
import type { MetricsAgent } from './agent.js'

export type InvocationOutcome = 'success' | 'function_error' | 'host_memory_exhausted' | 'throttled'

export interface LambdaMetrics {
  invocation(fn: string, outcome: InvocationOutcome, durationMs?: number): void
  request(operation: string, status: number, errorType: string | undefined): void
  flushFailed(): void
  shipped(datums: number): void
  rejected(datums: number): void
}

export function createLambdaMetrics(registry: Registry, parts: { memory: HostMemory; agent: () => MetricsAgent }): LambdaMetrics {
  const invocations = new Counter({
    name: 'lambda_invocations_total',
    help: 'Invocations of known functions by outcome: success, function_error, host_memory_exhausted (the host could not reserve memory), throttled',
    labelNames: ['function', 'outcome'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'lambda_invocation_duration_seconds',
    help: 'Run time of invocations that ran (success or function error), by function',
    labelNames: ['function'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const requests = new Counter({
    name: 'lambda_requests_total',
    help: 'Lambda API calls answered, by operation, HTTP status and error type ("" on success)',
    labelNames: ['operation', 'status', 'error'] as const,
    registers: [registry],
  })
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  gauge(
    'lambda_host_memory_budget_bytes',
    "Memory budget of the SIMULATED invocation host (an accounting, not this process's RSS)",
    () => parts.memory.budgetBytes,
  )
  gauge(
    'lambda_host_memory_used_bytes',
    "Simulated host memory in use: running invocations' reservations plus the agent's in-memory buffer",
    () => parts.memory.usedBytes,
  )
  gauge('lambda_host_memory_reserved_bytes', 'Simulated host memory reserved by running invocations', () => parts.memory.reservedBytes)
  gauge('lambda_running_invocations', 'Invocations running now', () => parts.memory.runningInvocations)
  gauge(
    'lambda_agent_buffer_bytes',
    "Serialized bytes in the agent's in-memory buffer (counted in the host memory budget)",
    () => parts.agent().stats().bufferBytes,
  )
  gauge('lambda_agent_buffered_entries', "Invocation entries in the agent's in-memory buffer", () => parts.agent().stats().bufferedEntries)
  gauge(
    'lambda_agent_spilled_bytes',
    "Bytes in the agent's spill file not yet shipped (bounded buffer only; not in the host memory budget)",
    () => parts.agent().stats().spilledBytes,
  )
  gauge('lambda_agent_spilled_entries', "Invocation entries in the agent's spill file not yet shipped", () => parts.agent().stats().spilledEntries)
  const flushFailures = new Counter({
    name: 'lambda_agent_flush_failures_total',
    help: 'PutMetricData calls of the agent that failed (the data stayed buffered)',
    registers: [registry],
  })
  const shipped = new Counter({
    name: 'lambda_agent_datums_shipped_total',
    help: 'Metric datums CloudWatch accepted from the agent',
    registers: [registry],
  })
  const rejected = new Counter({
    name: 'lambda_agent_datums_rejected_total',
    help: 'Metric datums CloudWatch refused as invalid (a client fault other than throttling); dropped, not retried',
    registers: [registry],
  })
  return {
    invocation(fn, outcome, durationMs) {
      invocations.inc({ function: fn, outcome })
      if (durationMs !== undefined) duration.observe({ function: fn }, durationMs / 1000)
    },
    request(operation, status, errorType) {
      requests.inc({ operation, status: String(status), error: errorType ?? '' })
    },
    flushFailed: () => flushFailures.inc(),
    shipped: (n) => shipped.inc(n),
    rejected: (n) => rejected.inc(n),
  }
}
