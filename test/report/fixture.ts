// A synthetic but realistic run of the flagship experiment, for the report's tests: the timeline the
// observer would write (client windows every 250 ms, scraped series on change and every second)
// and the journal the runner would write, with the real analysis run over that timeline. Shapes
// follow docs/fidelity.md: a capacity addition at 10 s breaks every front-end, Kinesis fails, then
// CloudWatch and EventBridge, then Lambda as its agent buffer fills, then Cognito when its access
// buffer is full; removing capacity does not help, a paced restart at 60 s does.
import { analyzeRun, evaluateHypothesis, SeriesIndex } from '../../harness/analyze/index.js'
import type { Journal, JournalEvent, TimelineRow } from '../../harness/analyze/journal.js'
import { mergeExperiment, validateExperiment, type Experiment } from '../../harness/experiment/index.js'

export const FLAGSHIP = {
  title: 'Kinesis front-end fleet crosses its OS thread limit (synthetic)',
  timeScale: 10,
  duration: '100s',
  seed: 7,
  topology: {
    fleets: { main: { frontends: 4, threadLimit: 18, bootstrap: 'peers', learnDelay: '3s' } },
    services: ['cognito', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'status-page'],
  },
  'steady-state-hypothesis': {
    title: 'customers are served',
    probes: [
      { type: 'probe', name: 'kinesis-available', service: 'kinesis', measure: 'successRatio', window: '3s', tolerance: { min: 0.99 } },
      { type: 'probe', name: 'cognito-fast', service: 'cognito', measure: 'p99Ms', window: '3s', tolerance: { max: 1000 } },
    ],
  },
  method: [
    { type: 'action', name: 'add-capacity', at: '10s', provider: 'scale-fleet', args: { fleet: 'main', to: 10 } },
    {
      type: 'probe',
      name: 'every-frontend-broken',
      at: '40s',
      service: 'kinesis',
      metric: 'kinesis_frontend_shard_map_state{state="broken"}',
      aggregate: 'min',
      window: '2s',
      tolerance: { min: 1 },
    },
    { type: 'action', name: 'post-status-primary', at: '45s', provider: 'post-status', args: { path: 'primary', message: 'Investigating' } },
    { type: 'action', name: 'post-status-backup', at: '47s', provider: 'post-status', args: { path: 'backup', message: 'Investigating' } },
    { type: 'action', name: 'remove-capacity', at: '50s', provider: 'scale-fleet', args: { fleet: 'main', to: 4 } },
    { type: 'action', name: 'paced-restart', at: '60s', provider: 'restart-fleet', args: { fleet: 'main', ratePerSec: 1 } },
  ],
  rollbacks: [{ type: 'action', name: 'restore-fleet', provider: 'restart-fleet', args: { fleet: 'main', ratePerSec: 2 } }],
  expect: {
    impacted: ['kinesis', 'cloudwatch', 'eventbridge', 'lambda', 'cognito'],
    onsetOrder: [['kinesis'], ['cloudwatch', 'eventbridge'], ['lambda'], ['cognito']],
    recovered: true,
    steadyStateAfter: true,
  },
}

export interface SyntheticOptions {
  /** Remediation 9: Cognito sheds records instead of blocking (it stays healthy). */
  cognitoSustains?: boolean
  /** Remediation 2: the thread alarm fires before the first break. */
  threadAlarm?: boolean
  /** Shift every downstream onset and recovery (another run of the same experiment). */
  jitterMs?: number
  title?: string
}

const STEP = 250
const START = -6_000
const END = 112_000

export function experiment(over: Record<string, unknown> = {}): Experiment {
  const r = validateExperiment(mergeExperiment(structuredClone(FLAGSHIP), over))
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: expected ${i.expected}, got ${i.got}`).join('\n'))
  return { file: 'experiments/synthetic.yaml', files: ['experiments/synthetic.yaml'], ...r.experiment }
}

/** A tiny seeded generator, so the noise is the same every run of the tests. */
function random(seed: number) {
  let s = seed >>> 0 || 1
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export function syntheticRun(o: SyntheticOptions = {}): { journal: Journal; rows: TimelineRow[] } {
  const rnd = random(7 + (o.jitterMs ?? 0))
  const j = o.jitterMs ?? 0
  const rows: TimelineRow[] = []
  const push = (service: string, metric: string, value: number | null, atMs: number) => rows.push({ service, metric, value, atMs })
  const down: Record<string, [number, number, 'bad' | 'slow'] | null> = {
    kinesis: [14_000, 66_000, 'bad'],
    cloudwatch: [17_000 + j, 70_000 + j, 'bad'],
    eventbridge: [18_000 + j, 72_000 + j, 'bad'],
    autoscaler: [20_000 + j, 75_000 + j, 'slow'],
    lambda: [25_000 + j, 73_000 + j, 'bad'],
    cognito: o.cognitoSustains ? null : [31_000 + j, 78_000 + j, 'bad'],
    'status-page': null,
  }
  const rate: Record<string, number> = { kinesis: 25, cloudwatch: 10, eventbridge: 5, autoscaler: 5, lambda: 10, cognito: 5, 'status-page': 2 }

  // Scraped series are written on change and at least once a second, like the observer does.
  const last = new Map<string, { v: number; t: number }>()
  const scrape = (service: string, metric: string, value: number, t: number) => {
    const k = `${service}\u0000${metric}`
    const l = last.get(k)
    if (l && l.v === value && t - l.t < 1_000) return
    last.set(k, { v: value, t })
    push(service, metric, value, t)
  }

  const frontends = Array.from({ length: 10 }, (_, i) => `kinesis-frontend-main-${i + 1}`)
  const breakAt = frontends.map(() => 12_500 + Math.round(rnd() * 1_500))
  // The paced restart brings main-1..4 back one a second from 60 s; each is down for 1.5 s, then builds for 2 s.
  const restartAt = (i: number) => 60_000 + i * 1_000

  for (let t = START; t <= END; t += STEP) {
    for (const [svc, span] of Object.entries(down)) {
      const calls = Math.max(1, Math.round(rate[svc] * (0.85 + rnd() * 0.3)))
      const inside = span && t > span[0] && t <= span[1]
      const ratio = inside && span![2] === 'bad' ? Math.round((0.05 + rnd() * 0.25) * 100) / 100 : rnd() < 0.97 ? 1 : 0.98
      const p99 = inside ? (span![2] === 'slow' ? 3_000 + rnd() * 2_000 : 1_500 + rnd() * 600) : 25 + rnd() * 60
      push(svc, 'client.success_ratio', ratio, t)
      push(svc, 'client.p99_ms', Math.round(p99), t)
      push(svc, 'client.calls', calls, t)
      push(svc, 'client.in_flight', inside ? 4 + Math.round(rnd() * 6) : Math.round(rnd() * 2), t)
    }
    // EventBridge's end-to-end delay: events wait while Kinesis is down, the backlog drains after.
    const ebDelay = t < 18_000 ? 150 + rnd() * 100 : t < 72_000 ? (t - 18_000) * 0.9 : Math.max(200, 48_600 - (t - 72_000) * 4)
    push('eventbridge', 'client.delivery_delay_ms', Math.round(ebDelay), t)
    push('eventbridge', 'client.delivered', t < 18_000 || t > 72_000 ? 5 : 0, t)

    frontends.forEach((f, i) => {
      const added = i >= 4
      const alive = added ? t >= 10_500 && t < 50_000 : !(t >= restartAt(i) && t < restartAt(i) + 1_500)
      if (!alive) return
      const restarted = !added && t >= restartAt(i) + 1_500
      let state: 'ready' | 'building' | 'broken'
      let threads: number
      if (restarted) {
        const since = t - restartAt(i) - 1_500
        state = since < 2_000 ? 'building' : 'ready'
        threads = since < 2_000 ? 11 + Math.floor(since / 700) : 14
      } else if (added && t < 11_500) {
        state = 'building'
        threads = 11
      } else if (t >= breakAt[i]) {
        state = 'broken'
        threads = 18
      } else {
        state = 'ready'
        threads = t < 10_000 ? 14 : Math.min(18, 14 + Math.floor((t - 10_000) / 600))
      }
      scrape(f, 'scrape.up', 1, t)
      scrape(f, 'kinesis_frontend_threads', threads, t)
      scrape(f, 'kinesis_frontend_thread_limit', 18, t)
      for (const s of ['broken', 'building', 'ready']) scrape(f, `kinesis_frontend_shard_map_state{state="${s}"}`, s === state ? 1 : 0, t)
    })
    // Cognito's access buffer fills from Kinesis' onset; full at its onset, then handlers block (2020) or records are shed.
    const cap = 2_000
    const cognitoStart = 14_000
    const filled =
      t < cognitoStart
        ? Math.round(rnd() * 4)
        : t < 66_000
          ? Math.min(cap, Math.round((t - cognitoStart) * 0.118))
          : Math.max(0, cap - Math.round((t - 66_000) * 0.2))
    scrape('cognito', 'cognito_access_buffer_records', filled, t)
    scrape('cognito', 'cognito_access_buffer_capacity', cap, t)
    scrape('cognito', 'cognito_requests_blocked', !o.cognitoSustains && filled >= cap ? 6 + Math.round(rnd() * 6) : 0, t)
    // Lambda's agent buffer grows while CloudWatch fails, until the host's memory budget is spent.
    const cwDown = t > 17_000 + j && t <= 70_000 + j
    const agent = cwDown
      ? Math.min(900_000, Math.round((t - 17_000 - j) * 110))
      : t > 70_000 + j
        ? Math.max(0, 900_000 - Math.round((t - 70_000 - j) * 300))
        : 2_000
    scrape('lambda', 'lambda_agent_buffer_bytes', agent, t)
    scrape('lambda', 'lambda_host_memory_used_bytes', agent + 150_000, t)
    scrape('lambda', 'lambda_host_memory_budget_bytes', 1_048_576, t)
    scrape('cloudwatch', 'cloudwatch_local_store_pending', 0, t)
    const alarm = t > 20_000 + j && t <= 74_000 + j ? 'INSUFFICIENT_DATA' : 'OK'
    for (const s of ['OK', 'ALARM', 'INSUFFICIENT_DATA'])
      scrape('cloudwatch', `cloudwatch_alarm_state{alarm="orders-heartbeat",state="${s}"}`, s === alarm ? 1 : 0, t)
    const desired = t < 30_000 ? 2 : 3
    const running = t < 75_000 + j ? 2 : 3
    scrape('autoscaler', 'autoscaler_desired_tasks{service_name="web"}', desired, t)
    scrape('autoscaler', 'autoscaler_pending_tasks{service_name="web"}', desired - running, t)
    scrape('autoscaler', 'autoscaler_running_tasks{service_name="web"}', running, t)
    scrape('autoscaler', 'autoscaler_workflow_steps_waiting', t >= 30_000 && t < 75_000 + j ? 1 + Math.floor((t - 30_000) / 15_000) : 0, t)
    scrape(
      'eventbridge',
      'eventbridge_backlog',
      t < 18_000 + j ? 0 : t < 72_000 + j ? Math.round((t - 18_000 - j) / 200) : Math.max(0, 270 - Math.round((t - 72_000 - j) / 50)),
      t,
    )
  }

  const exp = experiment(
    o.cognitoSustains
      ? {
          title: o.title ?? 'Remediation 9 (synthetic)',
          topology: { switches: { cognito: { sustainKinesisErrors: true } }, threadAlarm: { enabled: !!o.threadAlarm } },
          expect: {
            impacted: ['kinesis', 'cloudwatch', 'eventbridge', 'lambda'],
            healthy: ['cognito'],
            onsetOrder: [['kinesis'], ['cloudwatch', 'eventbridge'], ['lambda']],
          },
        }
      : o.title
        ? { title: o.title }
        : {},
  )
  const ev = (atMs: number, kind: string, detail: Record<string, unknown>): JournalEvent => ({ atMs, kind, detail })
  const action = (at: number, end: number, name: string, provider: string, phase: 'method' | 'rollbacks', ok = true, error?: string) => [
    ev(at, 'action-start', { name, provider, phase }),
    ev(end, 'action-end', { name, provider, phase, ok, ...(error ? { error } : {}) }),
  ]
  const events: JournalEvent[] = [
    ev(-1_000_000_000, 'phase', { phase: 'boot' }),
    ev(-6_000, 'phase', { phase: 'steady-state-before' }),
    ev(0, 'phase', { phase: 'method' }),
    ...(o.threadAlarm ? [ev(11_800, 'alarm', { name: 'thread-alarm', state: 'ALARM' })] : []),
    ...action(10_000, 10_600, 'add-capacity', 'scale-fleet', 'method'),
    ev(10_600, 'fleet-scaled', { fleet: 'main', from: 4, to: 10 }),
    ev(40_000, 'probe', { name: 'every-frontend-broken', phase: 'method', met: true, value: 1 }),
    ...action(
      45_000,
      47_000,
      'post-status-primary',
      'post-status',
      'method',
      !!o.cognitoSustains,
      o.cognitoSustains ? undefined : 'sign-in through Cognito timed out',
    ),
    ...action(47_000, 47_300, 'post-status-backup', 'post-status', 'method'),
    ...action(50_000, 50_400, 'remove-capacity', 'scale-fleet', 'method'),
    ...frontends.slice(4).map((f) => ev(50_200, 'service-exited', { name: f, code: 0 })),
    ...action(60_000, 67_500, 'paced-restart', 'restart-fleet', 'method'),
    ev(100_000, 'phase', { phase: 'rollbacks' }),
    ...action(100_000, 104_000, 'restore-fleet', 'restart-fleet', 'rollbacks'),
    ev(105_000, 'phase', { phase: 'steady-state-after' }),
  ].sort((a, b) => a.atMs - b.atMs)
  const index = new SeriesIndex(rows)
  const before = evaluateHypothesis(exp.steadyStateHypothesis, index, 0)
  const after = evaluateHypothesis(exp.steadyStateHypothesis, index, END)
  const a = analyzeRun({ experiment: exp, timeline: index, events, steadyStateAfter: after })
  const journal: Journal = {
    title: exp.title,
    experiment: exp,
    backend: 'local',
    seed: exp.seed,
    status: 'completed',
    deviated: !after.met,
    startedAt: '2026-11-25T10:00:00.000Z',
    endedAt: '2026-11-25T10:03:10.000Z',
    durationMs: 190_000,
    threadLimitEnforcement: 'cgroup',
    steadyState: { before, after },
    events,
    services: a.services,
    cascade: a.cascade,
    blastRadius: a.blastRadius,
    recovery: a.recovery,
    probes: a.probes,
    expectations: a.expectations,
    fidelity: a.fidelity,
  }
  return { journal, rows }
}
