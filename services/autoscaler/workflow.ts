// ECS's internal workflows on EventBridge. The autoscaler owns one rule matching its own workflow
// events, targeting its own /workflow/events route; every task step is a PutEvents, and the step
// happens only when the event comes back through the rule. While EventBridge fails (PutEvents
// errors, or accepted events never delivered) tasks wait, and the metrics show it.
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { Random } from '../kit/index.js'
import type { Cluster } from './cluster.js'
import { clusterArn, DETAIL_TYPES, EVENT_SOURCE, type Task, type WorkflowKind } from './model.js'

export interface WorkflowMetrics {
  event(kind: string, outcome: 'published' | 'failed' | 'delivered' | 'ignored' | 'timed_out'): void
  deliveryDelay(kind: string, seconds: number): void
}

export interface WorkflowOptions {
  client: EventBridgeClient
  cluster: Cluster
  /** This autoscaler's id: its rule and its events carry it, so autoscalers sharing a bus stay apart. */
  instance: string
  ruleName: string
  eventBusName: string
  retryBaseMs: number
  retryMaxMs: number
  /** An accepted request not delivered within this is published again (deliveries are idempotent). */
  eventTimeoutMs: number
  tickMs: number
  random: Random
  metrics: WorkflowMetrics
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }
}

/** PutEvents takes at most 10 entries per call. */
const BATCH = 10
const KINDS: ReadonlySet<string> = new Set<WorkflowKind>(['provisioning', 'running', 'deprovisioning', 'stopped'])
const WARN_INTERVAL_MS = 5_000

export class Workflow {
  readonly #o: WorkflowOptions
  #targetUrl?: string
  #ruleReady = false
  #ruleAttempts = 0
  #ruleNextAtMs = 0
  #inFlight = false
  #timer?: NodeJS.Timeout
  #closed = false
  #lastError?: string
  #lastWarnAtMs = 0

  constructor(opts: WorkflowOptions) {
    this.#o = opts
  }

  get ruleReady(): boolean {
    return this.#ruleReady
  }

  get lastError(): string | undefined {
    return this.#lastError
  }

  /** The rule's pattern: this autoscaler's workflow events and nothing else. */
  get eventPattern(): object {
    return { source: [EVENT_SOURCE], 'detail-type': [...new Set(Object.values(DETAIL_TYPES))], detail: { autoscaler: [this.#o.instance] } }
  }

  /** Begins with the rule (retried in the background until it works), then publishes steps as they come. */
  start(targetUrl: string): void {
    this.#targetUrl = targetUrl
    this.#timer = setInterval(() => this.wake(), this.#o.tickMs)
    this.#timer.unref()
    this.wake()
  }

  wake(): void {
    if (this.#closed || this.#inFlight || !this.#targetUrl) return
    this.#inFlight = true
    this.#tick()
      .catch((err) => this.#o.log.warn({ err: String(err) }, 'workflow tick failed'))
      .finally(() => {
        this.#inFlight = false
      })
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#o.client.destroy()
  }

  /** One or more events delivered by the rule's target. Returns what became of them. */
  deliver(body: unknown): { delivered: number; ignored: number } {
    const events = Array.isArray(body) ? body : [body]
    let delivered = 0
    let ignored = 0
    for (const event of events) {
      const detail = parseDetail(event)
      const kind = detail?.kind
      if (!detail || event?.source !== EVENT_SOURCE || detail.autoscaler !== this.#o.instance || !KINDS.has(kind) || typeof detail.taskArn !== 'string') {
        ignored++
        this.#o.metrics.event(typeof kind === 'string' && KINDS.has(kind) ? kind : 'unknown', 'ignored')
        continue
      }
      if (typeof detail.requestedAtMs === 'number') this.#o.metrics.deliveryDelay(kind, Math.max(0, Date.now() - detail.requestedAtMs) / 1000)
      const outcome = this.#o.cluster.delivered(kind, detail.taskArn)
      this.#o.metrics.event(kind, outcome)
      if (outcome === 'delivered') delivered++
      else ignored++
    }
    return { delivered, ignored }
  }

  async #tick(): Promise<void> {
    const now = Date.now()
    if (!this.#ruleReady) {
      if (now >= this.#ruleNextAtMs) await this.#ensureRule()
      if (!this.#ruleReady) return
    }
    for (const task of this.#o.cluster.tasks.values()) {
      const step = task.workflow
      if (step?.awaited && step.publishedAtMs !== undefined && now - step.publishedAtMs > this.#o.eventTimeoutMs) {
        step.publishedAtMs = undefined
        step.nextAtMs = now
        this.#o.metrics.event(step.kind, 'timed_out')
      }
    }
    // Batches go one after another: while EventBridge hangs, one call waits, not one per task.
    for (let due = this.#o.cluster.dueSteps(now); due.length > 0 && !this.#closed; due = this.#o.cluster.dueSteps(Date.now())) {
      const ok = await this.#publish(due.slice(0, BATCH))
      if (!ok) break
    }
  }

  async #ensureRule(): Promise<void> {
    const { client, ruleName, eventBusName } = this.#o
    try {
      await client.send(
        new PutRuleCommand({
          Name: ruleName,
          EventBusName: eventBusName,
          EventPattern: JSON.stringify(this.eventPattern),
          State: 'ENABLED',
          Description: 'outage-lab autoscaler: task provisioning workflows',
        }),
      )
      const out = await client.send(
        new PutTargetsCommand({
          Rule: ruleName,
          EventBusName: eventBusName,
          Targets: [{ Id: 'autoscaler-workflows', Arn: `${this.#targetUrl}/workflow/events` }],
        }),
      )
      if (out.FailedEntryCount) throw new Error(`PutTargets failed: ${JSON.stringify(out.FailedEntries)}`)
      this.#ruleReady = true
      this.#lastError = undefined
      this.#o.log.info({ rule: ruleName, eventBus: eventBusName, target: `${this.#targetUrl}/workflow/events` }, 'workflow rule ready')
    } catch (err) {
      this.#ruleAttempts++
      this.#ruleNextAtMs = Date.now() + this.#backoff(this.#ruleAttempts)
      this.#failed('workflow rule not created yet', err)
    }
  }

  /** One PutEvents; false when the whole call failed (the rest waits for the backoff). */
  async #publish(tasks: Task[]): Promise<boolean> {
    const steps = tasks.map((t) => t.workflow!)
    const requestedAtMs = Date.now()
    const entries = tasks.map((task, i) => ({
      Source: EVENT_SOURCE,
      DetailType: DETAIL_TYPES[steps[i].kind],
      EventBusName: this.#o.eventBusName,
      Resources: [task.arn],
      Detail: JSON.stringify({
        autoscaler: this.#o.instance,
        kind: steps[i].kind,
        taskArn: task.arn,
        clusterArn: clusterArn(),
        group: `service:${task.service}`,
        lastStatus: task.lastStatus,
        desiredStatus: task.desiredStatus,
        requestedAtMs,
      }),
    }))
    let results: Array<{ ok: boolean; error?: string }>
    try {
      const out = await this.#o.client.send(new PutEventsCommand({ Entries: entries }))
      results = entries.map((_, i) => {
        const e = out.Entries?.[i]
        return e?.ErrorCode ? { ok: false, error: `${e.ErrorCode}: ${e.ErrorMessage ?? ''}` } : { ok: true }
      })
    } catch (err) {
      results = entries.map(() => ({ ok: false, error: errorText(err) }))
    }
    const now = Date.now()
    let anyOk = false
    tasks.forEach((task, i) => {
      const step = steps[i]
      // The task may have moved on while the call ran (scaled in, stopped): its old step is moot.
      if (task.workflow !== step) return
      if (results[i].ok) {
        anyOk = true
        this.#o.metrics.event(step.kind, 'published')
        if (step.awaited) step.publishedAtMs = now
        else task.workflow = undefined
      } else {
        step.attempts++
        step.nextAtMs = now + this.#backoff(step.attempts)
        this.#o.metrics.event(step.kind, 'failed')
        this.#failed('PutEvents failed; the workflow step waits', results[i].error)
      }
    })
    if (anyOk) this.#lastError = undefined
    return anyOk
  }

  /** Exponential backoff with seeded full jitter. */
  #backoff(attempts: number): number {
    const cap = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(attempts - 1, 20))
    return Math.round(cap / 2 + (this.#o.random() * cap) / 2)
  }

  #failed(msg: string, err: unknown): void {
    this.#lastError = errorText(err)
    const now = Date.now()
    // An outage repeats the same failure many times a second: log it now and then.
    if (now - this.#lastWarnAtMs >= WARN_INTERVAL_MS) {
      this.#lastWarnAtMs = now
      this.#o.log.warn({ err: this.#lastError }, msg)
    }
  }
}

function parseDetail(event: any): any {
  const d = event?.detail
  if (typeof d === 'string') {
    try {
      return JSON.parse(d)
    } catch {
      return undefined
    }
  }
  return d && typeof d === 'object' ? d : undefined
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  if (e && typeof e === 'object') return `${e.name ?? 'Error'}${e.$metadata?.httpStatusCode ? ` (${e.$metadata.httpStatusCode})` : ''}: ${e.message ?? ''}`
  return String(err)
}

/**
 * The EventBridge client: HTTP/1.1 with explicit timeouts, and one attempt per call, because the
 * workflow retries with its own backoff and counts every failure (SDK retries would hide them).
 */
export function createEventBridgeClient(opts: {
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  timeoutMs: number
}): EventBridgeClient {
  return new EventBridgeClient({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: opts.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(opts.timeoutMs, 2_000), requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true }),
  })
}
