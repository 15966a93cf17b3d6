// The cluster: services, their tasks, and the reconciliation that moves desiredCount into tasks.
// Every step that needs ECS's control plane waits for its workflow event to come back through
// EventBridge (delivered()); nothing here talks to EventBridge itself (workflow.ts does).
import type { Random } from '../kit/index.js'
import { TaskRunner } from './runner.js'
import { DEFAULT_TASK_DEFINITION, serviceArn, taskArn, type EcsService, type LastStatus, type Task, type WorkflowKind } from './model.js'

export interface ClusterHooks {
  /** running == desired again after a demand: seconds since the demand. */
  demandMet(service: string, trigger: string, seconds: number): void
  /** A workflow step was queued: publish soon. */
  wake(): void
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }
}

export interface ClusterOptions {
  runner: TaskRunner
  maxTasks: number
  random: Random
  now?: () => number
  hooks: ClusterHooks
}

const MAX_EVENTS = 100
const MAX_STOPPED_TASKS = 200
// Scale-in stops the tasks that are least far along first, then the newest: ECS's preference for
// keeping long-running capacity.
const SCALE_IN_ORDER: Record<LastStatus, number> = { PROVISIONING: 0, PENDING: 1, ACTIVATING: 2, RUNNING: 3, STOPPING: 4, STOPPED: 5 }
const IN_FLIGHT: ReadonlySet<LastStatus> = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING'])

export interface ServiceCounts {
  desired: number
  running: number
  pending: number
}

export class Cluster {
  readonly services = new Map<string, EcsService>()
  readonly tasks = new Map<string, Task>()
  readonly maxTasks: number
  readonly #runner: TaskRunner
  readonly #random: Random
  readonly #now: () => number
  readonly #hooks: ClusterHooks
  #closed = false
  #reconciling = false
  #again = false

  constructor(opts: ClusterOptions) {
    this.#runner = opts.runner
    this.maxTasks = opts.maxTasks
    this.#random = opts.random
    this.#now = opts.now ?? Date.now
    this.#hooks = opts.hooks
  }

  createService(name: string, desiredCount: number, taskDefinition?: string): EcsService {
    const svc: EcsService = {
      name,
      arn: serviceArn(name),
      status: 'ACTIVE',
      desiredCount: 0,
      taskDefinition: taskDefinition ?? DEFAULT_TASK_DEFINITION,
      createdAtMs: this.#now(),
      events: [],
    }
    // A name used by a deleted (INACTIVE) service starts over: its stopped tasks go with it.
    for (const [arn, task] of this.tasks) if (task.service === name) this.tasks.delete(arn)
    this.services.set(name, svc)
    this.setDesired(svc, desiredCount, 'api')
    return svc
  }

  /** Changes desiredCount; a rise opens a demand for capacity, timed until running == desired. */
  setDesired(svc: EcsService, desiredCount: number, trigger: 'policy' | 'api', demandAtMs?: number): void {
    if (desiredCount !== svc.desiredCount && !svc.demand) svc.demand = { atMs: demandAtMs ?? this.#now(), trigger }
    if (desiredCount !== svc.desiredCount) svc.steady = false
    svc.desiredCount = desiredCount
    this.reconcile()
  }

  /** ECS DeleteService: the service drains (its tasks are deprovisioned), then it is INACTIVE. */
  deleteService(svc: EcsService): void {
    svc.desiredCount = 0
    svc.demand = undefined
    svc.status = 'DRAINING'
    this.reconcile()
  }

  counts(svc: EcsService): ServiceCounts {
    let running = 0
    let pending = 0
    for (const task of this.tasks.values()) {
      if (task.service !== svc.name) continue
      if (task.lastStatus === 'RUNNING') running++
      else if (task.desiredStatus === 'RUNNING' && IN_FLIGHT.has(task.lastStatus)) pending++
    }
    return { desired: svc.desiredCount, running, pending }
  }

  /** Tasks holding (or about to hold) a process: what MAX_TASKS caps. */
  liveTasks(): number {
    let n = 0
    for (const task of this.tasks.values()) if (task.lastStatus !== 'STOPPED') n++
    return n
  }

  reconcile(): void {
    if (this.#closed) return
    // A stop inside a pass asks for another pass instead of recursing into this one.
    if (this.#reconciling) {
      this.#again = true
      return
    }
    this.#reconciling = true
    try {
      do {
        this.#again = false
        this.#reconcilePass()
      } while (this.#again)
    } finally {
      this.#reconciling = false
    }
  }

  #reconcilePass(): void {
    for (const svc of this.services.values()) {
      if (svc.status === 'INACTIVE') continue
      const wanted = [...this.tasks.values()].filter((t) => t.service === svc.name && t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED')
      if (svc.desiredCount > wanted.length) this.#scaleOut(svc, svc.desiredCount - wanted.length)
      else if (svc.desiredCount < wanted.length) {
        wanted.sort((a, b) => SCALE_IN_ORDER[a.lastStatus] - SCALE_IN_ORDER[b.lastStatus] || b.createdAtMs - a.createdAtMs)
        const victims = wanted.slice(0, wanted.length - svc.desiredCount)
        for (const task of victims) this.#scaleIn(task)
        this.#event(svc, `(service ${svc.name}) is stopping ${victims.length} tasks: ${victims.map((t) => `(task ${t.id})`).join(' ')}.`)
      }
      if (svc.status === 'DRAINING' && ![...this.tasks.values()].some((t) => t.service === svc.name && t.lastStatus !== 'STOPPED')) {
        svc.status = 'INACTIVE'
        this.#event(svc, `(service ${svc.name}) has been deleted.`)
      }
      this.#checkCapacity(svc)
    }
  }

  /** A workflow event came back through EventBridge. Duplicates and stale events are ignored. */
  delivered(kind: WorkflowKind, arn: string): 'delivered' | 'ignored' {
    const task = this.tasks.get(arn)
    if (!task) return 'ignored'
    const awaiting = task.workflow?.kind === kind
    if (kind === 'provisioning' && awaiting && task.lastStatus === 'PROVISIONING' && task.desiredStatus === 'RUNNING') {
      task.workflow = undefined
      task.lastStatus = 'PENDING'
      this.#start(task)
      return 'delivered'
    }
    if (kind === 'running' && awaiting && task.lastStatus === 'ACTIVATING' && task.desiredStatus === 'RUNNING') {
      task.workflow = undefined
      task.lastStatus = 'RUNNING'
      task.startedAtMs = this.#now()
      const svc = this.services.get(task.service)
      if (svc) this.#event(svc, `(service ${svc.name}) has started 1 tasks: (task ${task.id}).`)
      this.reconcile()
      return 'delivered'
    }
    if (kind === 'deprovisioning' && awaiting && task.desiredStatus === 'STOPPED' && task.lastStatus !== 'STOPPING' && task.lastStatus !== 'STOPPED') {
      task.workflow = undefined
      task.lastStatus = 'STOPPING'
      task.stoppingAtMs = this.#now()
      task.stoppedReason ??= 'Scaling activity initiated by (deployment ecs-svc)'
      void this.#runner.stop(arn)
      return 'delivered'
    }
    if (kind === 'stopped' && task.lastStatus === 'STOPPED') {
      if (awaiting) task.workflow = undefined
      return 'delivered'
    }
    return 'ignored'
  }

  /** Tasks whose workflow event is due to be published. */
  dueSteps(nowMs: number): Task[] {
    return [...this.tasks.values()].filter((t) => t.workflow && t.workflow.publishedAtMs === undefined && t.workflow.nextAtMs <= nowMs)
  }

  /** Stops reconciling; every task process is stopped (none outlives the autoscaler). */
  async close(): Promise<void> {
    this.#closed = true
    await this.#runner.stopAll()
  }

  #scaleOut(svc: EcsService, n: number): void {
    const room = Math.max(0, this.maxTasks - this.liveTasks())
    const placed = Math.min(n, room)
    for (let i = 0; i < placed; i++) {
      const id = this.#taskId()
      const task: Task = { id, arn: taskArn(id), service: svc.name, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', createdAtMs: this.#now() }
      this.tasks.set(task.arn, task)
      this.#queue(task, 'provisioning', true)
    }
    if (placed < n) {
      if (!svc.placementBlocked) {
        this.#event(
          svc,
          `(service ${svc.name}) was unable to place a task because no container instance met all of its requirements. Reason: MAX_TASKS (${this.maxTasks}) tasks already run on this host.`,
        )
        this.#hooks.log.warn({ service: svc.name, unplaced: n - placed, maxTasks: this.maxTasks }, 'unable to place tasks')
      }
      svc.placementBlocked = true
    } else svc.placementBlocked = false
    this.#prune()
  }

  #scaleIn(task: Task): void {
    task.desiredStatus = 'STOPPED'
    if (task.lastStatus === 'PROVISIONING') {
      // Nothing was provisioned yet: withdraw the request instead of deprovisioning nothing.
      this.#stopped(task, 'Scaling activity initiated by (deployment ecs-svc) before the task was provisioned')
      return
    }
    this.#queue(task, 'deprovisioning', true)
  }

  #start(task: Task): void {
    this.#runner
      .start(task.arn, task.service, (code, signal) => {
        if (task.lastStatus === 'STOPPED') return
        this.#stopped(
          task,
          task.lastStatus === 'STOPPING' ? task.stoppedReason! : `Essential container in task exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`,
        )
      })
      .then(({ pid, port }) => {
        task.pid = pid
        task.port = port
        this.#hooks.log.info({ task: task.arn, service: task.service, pid, port }, 'task process healthy')
        if (task.lastStatus === 'PENDING' && task.desiredStatus === 'RUNNING') {
          task.lastStatus = 'ACTIVATING'
          this.#queue(task, 'running', true)
        }
      })
      .catch((err: Error) => {
        this.#hooks.log.warn({ task: task.arn, err: err.message }, 'task failed to start')
        if (task.lastStatus !== 'STOPPED') this.#stopped(task, `Task failed to start: ${err.message}`)
      })
  }

  #stopped(task: Task, reason: string): void {
    task.lastStatus = 'STOPPED'
    task.desiredStatus = 'STOPPED'
    task.stoppedReason = reason
    task.stoppedAtMs = this.#now()
    task.pid = undefined
    // Observers learn of the stop through EventBridge too; nothing waits for that event.
    this.#queue(task, 'stopped', false)
    const svc = this.services.get(task.service)
    if (svc) this.#event(svc, `(service ${svc.name}) has stopped 1 running tasks: (task ${task.id}). Reason: ${reason}`)
    this.reconcile()
  }

  #queue(task: Task, kind: WorkflowKind, awaited: boolean): void {
    const now = this.#now()
    task.workflow = { kind, attempts: 0, nextAtMs: now, queuedAtMs: now, awaited }
    this.#hooks.wake()
  }

  #checkCapacity(svc: EcsService): void {
    const { desired, running, pending } = this.counts(svc)
    const settled = running === desired && pending === 0
    if (settled && svc.demand) {
      this.#hooks.demandMet(svc.name, svc.demand.trigger, (this.#now() - svc.demand.atMs) / 1000)
      svc.demand = undefined
    }
    const transitioning = [...this.tasks.values()].some((t) => t.service === svc.name && t.lastStatus !== 'RUNNING' && t.lastStatus !== 'STOPPED')
    if (settled && !transitioning && !svc.steady && svc.status === 'ACTIVE') {
      svc.steady = true
      this.#event(svc, `(service ${svc.name}) has reached a steady state.`)
    }
  }

  #event(svc: EcsService, message: string): void {
    svc.events.unshift({
      id: this.#hex(8) + '-' + this.#hex(4) + '-' + this.#hex(4) + '-' + this.#hex(4) + '-' + this.#hex(12),
      createdAtMs: this.#now(),
      message,
    })
    if (svc.events.length > MAX_EVENTS) svc.events.length = MAX_EVENTS
  }

  #taskId(): string {
    return this.#hex(32)
  }

  #hex(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += Math.floor(this.#random() * 16).toString(16)
    return s
  }

  /** ECS forgets stopped tasks after a while; here, beyond a count. */
  #prune(): void {
    const stopped = [...this.tasks.values()].filter((t) => t.lastStatus === 'STOPPED' && !t.workflow)
    for (const task of stopped.slice(0, Math.max(0, stopped.length - MAX_STOPPED_TASKS))) this.tasks.delete(task.arn)
  }
}
