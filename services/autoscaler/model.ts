// The autoscaler's nouns, in ECS's words: a service keeps desiredCount tasks; a task moves through
// ECS's lastStatus values, and each move that needs the control plane is a workflow step carried
// by an EventBridge event (docs/fidelity.md: ECS's internal workflows run on EventBridge).

export const REGION = 'us-east-1'
export const ACCOUNT = '000000000000'
export const DEFAULT_CLUSTER = 'default'
export const DEFAULT_TASK_DEFINITION = 'outage-lab-task-app:1'

/**
 * PROVISIONING: its provisioning request is on its way through EventBridge (no process yet).
 * PENDING: the request came back; the process is starting.
 * ACTIVATING: the process answers its health check; its RUNNING state change is on its way.
 * RUNNING: that event came back. STOPPING: deprovisioning came back; the process is being stopped.
 */
export type LastStatus = 'PROVISIONING' | 'PENDING' | 'ACTIVATING' | 'RUNNING' | 'STOPPING' | 'STOPPED'
export type DesiredStatus = 'RUNNING' | 'STOPPED'

/** A workflow event: requests (provisioning, deprovisioning) and task state changes (running, stopped). */
export type WorkflowKind = 'provisioning' | 'running' | 'deprovisioning' | 'stopped'

export const DETAIL_TYPES: Record<WorkflowKind, string> = {
  provisioning: 'ECS Task Provisioning Requested',
  deprovisioning: 'ECS Task Deprovisioning Requested',
  running: 'ECS Task State Change',
  stopped: 'ECS Task State Change',
}
export const EVENT_SOURCE = 'outage-lab.ecs'

/** The event a task waits for. Its state changes only once that event came back through a rule. */
export interface WorkflowStep {
  kind: WorkflowKind
  /** Failed PutEvents attempts so far (drives the backoff). */
  attempts: number
  /** When to (re)publish. */
  nextAtMs: number
  /** Set once PutEvents accepted it; cleared when it must be published again. */
  publishedAtMs?: number
  queuedAtMs: number
  /** STOPPED state changes are told, not awaited. */
  awaited: boolean
}

export interface Task {
  id: string
  arn: string
  service: string
  lastStatus: LastStatus
  desiredStatus: DesiredStatus
  createdAtMs: number
  startedAtMs?: number
  stoppingAtMs?: number
  stoppedAtMs?: number
  stoppedReason?: string
  port?: number
  pid?: number
  workflow?: WorkflowStep
}

export interface ServiceEvent {
  id: string
  createdAtMs: number
  message: string
}

export interface EcsService {
  name: string
  arn: string
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'
  desiredCount: number
  taskDefinition: string
  createdAtMs: number
  events: ServiceEvent[]
  /** The oldest demand for capacity not yet met (running == desired), for demand-to-capacity. */
  demand?: { atMs: number; trigger: 'policy' | 'api' }
  /** The last "unable to place" event, so an unmet demand is reported once, not every tick. */
  placementBlocked?: boolean
  steady?: boolean
}

export const clusterArn = (cluster = DEFAULT_CLUSTER) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`
export const serviceArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${DEFAULT_CLUSTER}/${name}`
export const taskArn = (id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${DEFAULT_CLUSTER}/${id}`
