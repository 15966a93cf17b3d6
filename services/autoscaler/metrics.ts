// What the harness scrapes: desired/pending/running tasks per service (the ECS console's three
// numbers), how long demand waits for capacity, and how the EventBridge workflows fare.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Cluster } from './cluster.js'
import type { WorkflowMetrics } from './workflow.js'

export interface AutoscalerMetrics extends WorkflowMetrics {
  demandMet(service: string, trigger: string, seconds: number): void
  policyInvoked(policy: string, state: string, outcome: string): void
}

export function createMetrics(registry: Registry, cluster: () => Cluster, workflowQueued: () => number): AutoscalerMetrics {
  const perService = (name: string, help: string, pick: (c: { desired: number; running: number; pending: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['service_name'] as const,
      registers: [registry],
      collect() {
        this.reset()
        const c = cluster()
        for (const svc of c.services.values()) if (svc.status !== 'INACTIVE') this.set({ service_name: svc.name }, pick(c.counts(svc)))
      },
    })
  perService('autoscaler_desired_tasks', 'desiredCount per ECS service', (c) => c.desired)
  perService('autoscaler_pending_tasks', 'Tasks on their way to RUNNING (PROVISIONING, PENDING, ACTIVATING) per ECS service', (c) => c.pending)
  perService('autoscaler_running_tasks', 'Tasks RUNNING (their RUNNING state change came back through EventBridge) per ECS service', (c) => c.running)
  new Gauge({
    name: 'autoscaler_task_processes',
    help: 'Task child processes alive on this host',
    registers: [registry],
    collect() {
      this.set(cluster().liveTasks())
    },
  })
  new Gauge({
    name: 'autoscaler_workflow_steps_waiting',
    help: 'Task workflow steps not yet accepted by EventBridge (queued or backing off)',
    registers: [registry],
    collect() {
      this.set(workflowQueued())
    },
  })
  const demand = new Histogram({
    name: 'autoscaler_demand_to_capacity_seconds',
    help: 'From a demand (scaling policy invocation, desiredCount change) to running == desired, by service and trigger',
    labelNames: ['service_name', 'trigger'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [registry],
  })
  const events = new Counter({
    name: 'autoscaler_workflow_events_total',
    help: 'Workflow events by kind (provisioning, running, deprovisioning, stopped) and outcome (published, failed, delivered, ignored, timed_out)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  })
  const delay = new Histogram({
    name: 'autoscaler_workflow_delivery_seconds',
    help: 'From PutEvents to the event coming back through the rule, by kind',
    labelNames: ['kind'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  })
  const invocations = new Counter({
    name: 'autoscaler_policy_invocations_total',
    help: 'Scaling policy invocations (CloudWatch alarm actions) by policy, alarm state and outcome (scaled, unchanged, cooldown, ignored)',
    labelNames: ['policy', 'state', 'outcome'] as const,
    registers: [registry],
  })
  return {
    demandMet: (service, trigger, seconds) => demand.observe({ service_name: service, trigger }, seconds),
    event: (kind, outcome) => events.inc({ kind, outcome }),
    deliveryDelay: (kind, seconds) => delay.observe({ kind }, seconds),
    policyInvoked: (policy, state, outcome) => invocations.inc({ policy, state, outcome }),
  }
}
