// Wiring a run to its topology: the customers' AWS SDK clients, the seed (streams, users, alarms,
// rules, services), the observer with the thread alarm, the seeded open-loop workload and the
// status-page poster. It fixes the run's time origin: the method starts once traffic warmed up and
// filled the hypothesis window. `stop()` undoes it all and never throws.
import { seededRandom } from '../../services/kit/prng.js'
import type { Experiment } from '../experiment/index.js'
import type { StartedTopology } from '../platform/started.js'
import { ClientRecorder } from '../workload/recorder.js'
import { customerClients, type CustomerClients } from '../workload/clients.js'
import { seedCustomers, startWorkload, type Workload } from '../workload/customers.js'
import { startCustomerWorkloads, type CustomerWorkloads } from '../workload/customer-http.js'
import { customerAccessKey } from '../topology/customers.js'
import { EventTarget } from '../workload/event-target.js'
import { Observer } from '../observe/observer.js'
import { callRow } from '../observe/call-rows.js'
import type { TimelineWriter } from '../observe/timeline.js'
import { ThreadAlarm } from './thread-alarm.js'
import { statusPoster } from './status-posting.js'
import type { RunContext } from './context.js'

/** Before the method: traffic runs this long before the hypothesis window starts. */
export const WARMUP_MS = 3_000

export type PostStatus = ReturnType<typeof statusPoster>

export class Wiring {
  clients?: CustomerClients
  workload?: Workload
  /** The open-loop HTTP workload of the customer services (the user's own). */
  customerWorkloads?: CustomerWorkloads
  observer?: Observer
  eventTarget?: EventTarget
  postStatus?: PostStatus
  private progressTimer?: NodeJS.Timeout

  constructor(
    private readonly run: RunContext,
    private readonly exp: Experiment,
    private readonly recorder: ClientRecorder,
    private readonly timeline: TimelineWriter,
  ) {}

  /** Seeds the customers, sets the run's origin (after the warm-up and the hypothesis window), then starts observing and the workload. */
  async start(topo: StartedTopology, hypothesisWindowMs: number): Promise<void> {
    const { exp, run } = this
    const e = topo.endpoints()
    const has = (s: string) => (exp.topology.services as string[]).includes(s)
    const w = exp.workload
    this.clients = customerClients(
      {
        kinesis: e.kinesis,
        ...(has('cloudwatch') ? { cloudwatch: e.services.cloudwatch } : {}),
        ...(has('eventbridge') ? { eventbridge: e.services.eventbridge } : {}),
        ...(has('cognito') ? { cognito: e.services.cognito } : {}),
        ...(has('lambda') ? { lambda: e.services.lambda } : {}),
        ...(has('autoscaler') ? { autoscaler: e.services.autoscaler } : {}),
      },
      { region: e.region, credentials: e.credentials },
      { timeoutMs: w.clientTimeoutMs, maxAttempts: w.retries.maxAttempts, retryMode: w.retries.mode },
    )
    if (has('eventbridge')) this.eventTarget = await new EventTarget(() => run.clock()).start()
    const seeded = await seedCustomers(this.clients, {
      eventTarget: this.eventTarget,
      withOperator: has('status-page'),
      autoscalerUrl: has('autoscaler') ? e.services.autoscaler : undefined,
      streamShards: w.streamShards,
    })
    run.emit('log', { message: 'customers seeded', shards: seeded.shards.length, userPool: seeded.userPool?.id })
    run.checkInterrupt()

    // Observation starts with the workload, so the hypothesis window has data (at negative times).
    run.setOrigin(Date.now() + WARMUP_MS + hypothesisWindowMs)
    const alarm = exp.topology.threadAlarm.enabled
      ? new ThreadAlarm({
          threshold: exp.topology.threadAlarm.threshold,
          read: (s, m) => this.observer?.lastValue(s, m),
          members: () =>
            topo
              .services()
              .filter((s) => s.kind === 'kinesis-frontend' && s.state === 'running')
              .map((s) => s.name),
          emit: (detail) => run.emit('alarm', detail),
        })
      : undefined
    this.observer = new Observer({
      topology: topo,
      recorder: this.recorder,
      writer: this.timeline,
      clock: () => run.clock(),
      // The customer services' calls to the lab, counted by the lab per access key: their dependencies.
      callers: new Set(exp.topology.customers.map((c) => customerAccessKey(c.name).accessKeyId)),
      extra: () => {
        alarm?.evaluate()
        if (!this.eventTarget) return []
        return [
          { service: 'eventbridge', metric: 'client.delivery_delay_ms', value: this.eventTarget.takeDelay() },
          { service: 'eventbridge', metric: 'client.delivered', value: this.eventTarget.delivered },
        ]
      },
    })
    this.observer.start()
    // Every call a row of the timeline: the analysis judges windows on the calls themselves.
    this.recorder.onOutcome((o) => this.timeline.write(callRow(o)))
    this.progressTimer = setInterval(() => run.progress.services(this.recorder.window(), run.clock()), 1_000)
    this.workload = startWorkload(this.clients, seeded, {
      rates: w.rates,
      random: seededRandom(`${exp.seed}:workload`),
      recorder: this.recorder,
      maxDurationMs: 60_000 + exp.durationMs * 3,
      timeoutMs: w.clientTimeoutMs,
      statusPageUrl: has('status-page') ? e.services['status-page'] : undefined,
      clock: () => run.clock(),
    })
    if (exp.topology.customers.length > 0)
      this.customerWorkloads = startCustomerWorkloads(exp.topology.customers, {
        urlOf: (name) => e.services[name],
        seed: exp.seed,
        recorder: this.recorder,
        maxDurationMs: 60_000 + exp.durationMs * 3,
      })
    this.postStatus = has('status-page')
      ? statusPoster({
          statusPageUrl: e.services['status-page'],
          cognitoUrl: e.services.cognito,
          operator: seeded.operator,
          operatorKey: topo.secret('operator-key'),
          credentials: e.credentials,
          region: e.region,
        })
      : undefined
  }

  /** Stops the workload, the observer, the clients and the event target, in that order; every step is attempted. */
  async stop(step: (what: string, fn: () => Promise<unknown> | unknown) => Promise<void>): Promise<void> {
    await step('workload', () => this.workload?.stop())
    await step('customer workload', () => this.customerWorkloads?.stop())
    this.recorder.abandonInFlight()
    clearInterval(this.progressTimer)
    await step('observer', () => this.observer?.stop())
    await step('clients', () => this.clients?.destroy())
    await step('event target', () => this.eventTarget?.stop())
  }
}
