// The report's charts as data: every series of the timeline the post-incident review needs,
// resampled onto one shared time grid (so every chart has the same x axis and the page stays small:
// at most MAX_POINTS per series, whatever the run's length). Pure: a function of the journal and
// the timeline, like the rest of the report.
import type { Journal, TimelineRows } from '../analyze/journal.js'
import { SeriesIndex, parseSeries, type Point } from '../analyze/series.js'
import { SERVICES } from '../experiment/types.js'

export const MAX_POINTS = 600
/** Scraped series are written on change and at least once a second: older than this, the process is gone. */
const SCRAPE_STALE_MS = 2_500
/** Client windows are written every 250 ms. */
const CLIENT_STALE_MS = 1_000
/** Anything this far from the method's start is a placeholder (events before the time origin), not a sample. */
const SANE_MS = 1e8

export const SERVICE_COLORS: Record<string, string> = {
  kinesis: '#1f77b4',
  cognito: '#9467bd',
  cloudwatch: '#ff7f0e',
  eventbridge: '#2ca02c',
  autoscaler: '#8c564b',
  lambda: '#e377c2',
  'status-page': '#17becf',
}
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#ad494a',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
]
export const ALARM_STATES = ['OK', 'INSUFFICIENT_DATA', 'ALARM']

export interface ChartSeries {
  /** Stable across runs (`success:kinesis`, `shardmap:broken`): the comparison overlays by id. */
  id: string
  label: string
  color: string
  values: (number | null)[]
  /** 2: drawn against the right-hand axis. */
  axis?: 1 | 2
  dash?: number[]
  width?: number
  /** Drawn as steps (states and counts), not slopes. */
  stepped?: boolean
  /** A limit or capacity drawn for reference: a panel of only these and zeros has nothing to show. */
  reference?: boolean
}

export interface ChartPanel {
  id: string
  title: string
  /** What the panel shows and why it matters, one sentence under the title. */
  note: string
  unit: string
  unit2?: string
  /** ratio: 0..1 as %; log: log10 y; states: y is an index into `states`. */
  kind: 'linear' | 'ratio' | 'log' | 'states' | 'bytes' | 'ms'
  kind2?: 'linear' | 'bytes'
  states?: string[]
  series: ChartSeries[]
}

export interface ChartMarker {
  atMs: number
  label: string
  phase: 'method' | 'rollbacks'
  color?: string
}

export interface ChartsData {
  /** Seconds from the start of the method. */
  x: number[]
  stepMs: number
  panels: ChartPanel[]
  markers: ChartMarker[]
  /** Panels with nothing to draw in this run: title (why). */
  missing: string[]
}

export interface Grid {
  startMs: number
  endMs: number
  stepMs: number
}

const sane = (t: number) => Number.isFinite(t) && Math.abs(t) < SANE_MS

/** The span the timeline covers (placeholder times left out). */
export function timelineSpan(rows: TimelineRows): { startMs: number; endMs: number } | null {
  let startMs = Infinity
  let endMs = -Infinity
  for (const r of rows) {
    if (!sane(r.atMs)) continue
    if (r.atMs < startMs) startMs = r.atMs
    if (r.atMs > endMs) endMs = r.atMs
  }
  return Number.isFinite(startMs) ? { startMs, endMs } : null
}

/** A grid over the span, 250 ms steps or coarser so no series exceeds MAX_POINTS. */
export function gridFor(span: { startMs: number; endMs: number } | null): Grid {
  if (!span) return { startMs: 0, endMs: 1_000, stepMs: 250 }
  const stepMs = Math.max(250, Math.ceil((span.endMs - span.startMs) / (MAX_POINTS - 1) / 250) * 250)
  const startMs = Math.floor(span.startMs / stepMs) * stepMs
  return { startMs, endMs: Math.max(span.endMs, startMs + stepMs), stepMs }
}

export function gridTimes(g: Grid): number[] {
  const n = Math.floor((g.endMs - g.startMs) / g.stepMs) + 1
  return Array.from({ length: n }, (_, i) => g.startMs + i * g.stepMs)
}

type Fold = 'min' | 'max' | 'last'
const round = (v: number) => (Number.isInteger(v) ? v : Number(v.toPrecision(4)))

/**
 * One value per grid step (t - step, t]: the samples inside folded (min keeps a dip of the success
 * ratio, max keeps a latency or buffer peak), else the value still in effect from before (a scraped
 * series is written on change), unless it is stale (the process is gone).
 */
export function resample(points: readonly Point[], times: readonly number[], stepMs: number, fold: Fold, staleMs: number): (number | null)[] {
  const out: (number | null)[] = new Array(times.length).fill(null)
  let k = 0
  let last: Point | undefined
  for (let i = 0; i < times.length; i++) {
    const t = times[i]
    let acc: number | null = null
    let inside = false
    while (k < points.length && points[k].atMs <= t) {
      const p = points[k++]
      last = p
      if (p.atMs <= t - stepMs) continue
      inside = true
      if (p.value === null || !Number.isFinite(p.value)) continue
      acc = acc === null || fold === 'last' ? p.value : fold === 'min' ? Math.min(acc, p.value) : Math.max(acc, p.value)
    }
    if (inside) out[i] = acc === null ? null : round(acc)
    else if (last && last.value !== null && Number.isFinite(last.value) && t - last.atMs <= staleMs) out[i] = round(last.value)
  }
  return out
}

function combine(arrays: (number | null)[][], f: (a: number, b: number) => number): (number | null)[] {
  if (arrays.length === 0) return []
  return arrays[0].map((_, i) => {
    let acc: number | null = null
    for (const a of arrays) if (a[i] !== null && a[i] !== undefined) acc = acc === null ? a[i] : f(acc, a[i]!)
    return acc === null ? null : round(acc)
  })
}
const sum = (arrays: (number | null)[][]) => combine(arrays, (a, b) => a + b)
const max = (arrays: (number | null)[][]) => combine(arrays, Math.max)
const hasData = (s: ChartSeries) => s.values.some((v) => v !== null)

/** `kinesis-frontend-main-3` -> { fleet: 'main', n: 3 } */
function frontendOf(process: string): { fleet: string; n: number } | null {
  const m = /^kinesis-frontend-(.+)-(\d+)$/.exec(process)
  return m ? { fleet: m[1], n: Number(m[2]) } : null
}

/** Reads series off one run's timeline onto a grid. */
export class RunSeries {
  readonly index: SeriesIndex
  readonly times: number[]
  readonly grid: Grid
  readonly frontends: string[]

  constructor(rows: TimelineRows, grid: Grid) {
    this.index = new SeriesIndex(rows, (r) => sane(r.atMs))
    this.grid = grid
    this.times = gridTimes(grid)
    this.frontends = this.index
      .services()
      .filter((s) => frontendOf(s))
      .sort((a, b) => frontendOf(a)!.fleet.localeCompare(frontendOf(b)!.fleet) || frontendOf(a)!.n - frontendOf(b)!.n)
  }

  client(service: string, metric: string, fold: Fold): (number | null)[] {
    return resample(this.index.points(service, metric), this.times, this.grid.stepMs, fold, CLIENT_STALE_MS)
  }

  /** A scraped series of one process; with labels given, the sum over every series carrying them. */
  scraped(process: string, name: string, labels: Record<string, string> = {}, fold: Fold = 'max'): (number | null)[] | null {
    const keys = this.index.metricsOf(process).filter((k) => {
      const s = parseSeries(k)
      return s.name === name && Object.entries(labels).every(([l, v]) => s.labels[l] === v)
    })
    if (keys.length === 0) return null
    return sum(keys.map((k) => resample(this.index.points(process, k), this.times, this.grid.stepMs, fold, SCRAPE_STALE_MS)))
  }

  /** Label values a scraped series carries (`alarm` of cloudwatch_alarm_state). */
  labelValues(process: string, name: string, label: string): string[] {
    const out = new Set<string>()
    for (const k of this.index.metricsOf(process)) {
      const s = parseSeries(k)
      if (s.name === name && s.labels[label] !== undefined) out.add(s.labels[label])
    }
    return [...out].sort()
  }

  fleets(): string[] {
    return [...new Set(this.frontends.map((f) => frontendOf(f)!.fleet))]
  }
}

/** Every series the report knows how to draw, by id (the single report arranges them in panels, the comparison overlays them). */
export function extractSeries(j: Journal, rs: RunSeries): Map<string, ChartSeries> {
  const out = new Map<string, ChartSeries>()
  const add = (s: ChartSeries | null) => {
    if (s && hasData(s)) out.set(s.id, s)
  }
  const services = Object.keys(j.services).length ? Object.keys(j.services) : [...SERVICES]
  for (const svc of services) {
    const color = SERVICE_COLORS[svc] ?? PALETTE[out.size % PALETTE.length]
    add({ id: `success:${svc}`, label: svc, color, values: rs.client(svc, 'client.success_ratio', 'min') })
    add({ id: `p99:${svc}`, label: svc, color, values: rs.client(svc, 'client.p99_ms', 'max').map((v) => (v === null ? null : Math.max(1, v))) })
  }

  // Threads: one line per front-end, the limit per fleet, and the busiest front-end per fleet.
  rs.frontends.forEach((f, i) => {
    const values = rs.scraped(f, 'kinesis_frontend_threads')
    if (values) add({ id: `threads:${f}`, label: f.replace(/^kinesis-frontend-/, ''), color: PALETTE[i % PALETTE.length], values, width: 1, stepped: true })
  })
  for (const fleet of rs.fleets()) {
    const members = rs.frontends.filter((f) => frontendOf(f)!.fleet === fleet)
    const limits = members.map((f) => rs.scraped(f, 'kinesis_frontend_thread_limit')).filter((v): v is (number | null)[] => v !== null)
    add({
      id: `thread-limit:${fleet}`,
      label: `thread limit (${fleet})`,
      color: '#d62728',
      values: max(limits),
      dash: [8, 4],
      width: 2,
      stepped: true,
      reference: true,
    })
    const threads = members.map((f) => rs.scraped(f, 'kinesis_frontend_threads')).filter((v): v is (number | null)[] => v !== null)
    add({ id: `threads-max:${fleet}`, label: `most threads on a front-end (${fleet})`, color: '#1f77b4', values: max(threads), stepped: true })
    for (const [state, color] of [
      ['ready', '#2ca02c'],
      ['building', '#e0a800'],
      ['broken', '#d62728'],
    ] as const) {
      const counts = members.map((f) => rs.scraped(f, 'kinesis_frontend_shard_map_state', { state }, 'last')).filter((v): v is (number | null)[] => v !== null)
      const suffix = rs.fleets().length > 1 ? ` (${fleet})` : ''
      add({
        id: `shardmap:${state}:${fleet}`,
        label: `${state}${suffix}`,
        color,
        values: sum(counts),
        stepped: true,
        width: 2,
        dash: fleet === 'main' ? undefined : [4, 3],
      })
    }
  }

  // Buffers that fill while Kinesis fails: Cognito's access log, the Lambda agent, CloudWatch's local store.
  const scraped = (id: string, label: string, color: string, proc: string, name: string, extra: Partial<ChartSeries> = {}) => {
    const values = rs.scraped(proc, name)
    if (values) add({ id, label, color, values, ...extra })
  }
  scraped('buffer:cognito', 'access-pattern buffer', SERVICE_COLORS.cognito, 'cognito', 'cognito_access_buffer_records', { stepped: true })
  scraped('buffer-capacity:cognito', 'buffer capacity', '#555555', 'cognito', 'cognito_access_buffer_capacity', { dash: [2, 3], width: 1, reference: true })
  scraped('blocked:cognito', 'requests blocked on the buffer', '#d62728', 'cognito', 'cognito_requests_blocked', { stepped: true, axis: 2 })
  scraped('buffer:cloudwatch', 'CloudWatch local store (datapoints)', SERVICE_COLORS.cloudwatch, 'cloudwatch', 'cloudwatch_local_store_pending', {
    stepped: true,
    width: 2,
  })
  scraped('buffer:lambda', 'agent buffer', SERVICE_COLORS.lambda, 'lambda', 'lambda_agent_buffer_bytes', { width: 2 })
  scraped('spilled:lambda', 'agent spill file', '#8c564b', 'lambda', 'lambda_agent_spilled_bytes', { width: 1.5, dash: [6, 3] })
  scraped('memory:lambda', 'host memory used', '#7f7f7f', 'lambda', 'lambda_host_memory_used_bytes', { width: 1 })
  scraped('memory-budget:lambda', 'host memory budget', '#555555', 'lambda', 'lambda_host_memory_budget_bytes', { dash: [2, 3], width: 1, reference: true })

  // Alarm states: CloudWatch's alarms and the harness's own (the thread alarm), as state indexes.
  const ALARM_COLORS = ['#9467bd', '#8c564b', '#17becf', '#bcbd22', '#e377c2', '#1f77b4']
  rs.labelValues('cloudwatch', 'cloudwatch_alarm_state', 'alarm').forEach((alarm, k) => {
    const per = ALARM_STATES.map((state) => rs.scraped('cloudwatch', 'cloudwatch_alarm_state', { alarm, state }, 'last'))
    const values = rs.times.map((_, i) => {
      // The worst state set at that time wins (a scrape between two updates can show two).
      for (let s = ALARM_STATES.length - 1; s >= 0; s--) if (per[s]?.[i] === 1) return s
      return per.some((p) => p && p[i] !== null) ? 0 : null
    })
    add({ id: `alarm:${alarm}`, label: alarm, color: ALARM_COLORS[k % ALARM_COLORS.length], values, stepped: true, width: 2 })
  })
  for (const [name, values] of eventAlarms(j, rs.times))
    add({ id: `alarm:${name}`, label: name, color: '#d62728', values, stepped: true, width: 2, dash: [6, 3] })

  // ECS: desired / pending / running tasks (summed over the autoscaler's services).
  for (const [kind, color] of [
    ['desired', '#7f7f7f'],
    ['pending', '#e0a800'],
    ['running', '#2ca02c'],
  ] as const) {
    scraped(`tasks:${kind}`, `${kind} tasks`, color, 'autoscaler', `autoscaler_${kind}_tasks`, {
      stepped: true,
      width: 2,
      dash: kind === 'desired' ? [6, 3] : undefined,
    })
  }
  scraped('workflow-waiting:autoscaler', 'workflow steps waiting for EventBridge', '#8c564b', 'autoscaler', 'autoscaler_workflow_steps_waiting', {
    axis: 2,
    stepped: true,
    width: 1,
  })

  // EventBridge: how late events arrive (client side) and how much is waiting.
  add({
    id: 'delivery:eventbridge',
    label: 'delivery delay (client side)',
    color: SERVICE_COLORS.eventbridge,
    values: rs.client('eventbridge', 'client.delivery_delay_ms', 'max'),
    width: 2,
  })
  scraped('backlog:eventbridge', 'EventBridge backlog (events)', '#7f7f7f', 'eventbridge', 'eventbridge_backlog', { axis: 2, stepped: true, dash: [6, 3] })
  return out
}

function eventAlarms(j: Journal, times: readonly number[]): Map<string, (number | null)[]> {
  const byName = new Map<string, { atMs: number; state: number }[]>()
  for (const e of j.events ?? []) {
    if (e.kind !== 'alarm' || !sane(e.atMs)) continue
    const name = String(e.detail.name ?? 'alarm')
    let state = ALARM_STATES.indexOf(String(e.detail.state ?? ''))
    if (state < 0) state = 0
    if (!byName.has(name)) byName.set(name, [])
    byName.get(name)!.push({ atMs: e.atMs, state })
  }
  const out = new Map<string, (number | null)[]>()
  for (const [name, changes] of byName) {
    changes.sort((a, b) => a.atMs - b.atMs)
    // Before its first change an alarm watched and stayed OK.
    out.set(
      name,
      times.map((t) => changes.filter((c) => c.atMs <= t).at(-1)?.state ?? 0),
    )
  }
  return out
}

/** Every method and rollback action, as it started. */
export function actionMarkers(j: Journal): ChartMarker[] {
  return (j.events ?? [])
    .filter((e) => e.kind === 'action-start' && sane(e.atMs))
    .map((e) => ({
      atMs: e.atMs,
      label: String(e.detail.name ?? e.detail.provider ?? 'action'),
      phase: e.detail.phase === 'rollbacks' ? ('rollbacks' as const) : ('method' as const),
    }))
    .sort((a, b) => a.atMs - b.atMs)
}

interface PanelSpec {
  id: string
  title: string
  note: string
  unit: string
  unit2?: string
  kind: ChartPanel['kind']
  kind2?: ChartPanel['kind2']
  states?: string[]
  /** Which series go in, by id prefix. */
  pick: (id: string) => boolean
}

export const PANELS: PanelSpec[] = [
  {
    id: 'success',
    title: 'Success ratio per service (client side)',
    note: 'What the customers saw: successful calls over calls in the trailing second, every 250 ms (the lowest value per step).',
    unit: 'success',
    kind: 'ratio',
    pick: (id) => id.startsWith('success:'),
  },
  {
    id: 'p99',
    title: 'p99 latency per service (client side)',
    note: 'Log scale; a service is impacted above its maxP99Ms (1 s by default, Lambda 2 s).',
    unit: 'p99',
    kind: 'log',
    pick: (id) => id.startsWith('p99:'),
  },
  {
    id: 'threads',
    title: 'Front-end threads against the OS thread limit',
    note: "One line per front-end (one OS thread per peer plus the process's own); the dashed red line is the limit every front-end shares.",
    unit: 'threads',
    kind: 'linear',
    pick: (id) => id.startsWith('threads:') || id.startsWith('thread-limit:'),
  },
  {
    id: 'shardmap',
    title: 'Shard-map states',
    note: 'How many front-ends hold a ready, building or broken shard-map. A broken map cannot route: only a restart rebuilds it.',
    unit: 'front-ends',
    kind: 'linear',
    pick: (id) => id.startsWith('shardmap:'),
  },
  {
    id: 'buffer-cognito',
    title: 'Buffer: Cognito access-pattern log',
    note: 'Records waiting to be shipped to Kinesis (left) against the capacity; once full, sign-in handlers block on it (right, 2020 behaviour) or records are shed (remediation 9).',
    unit: 'records',
    unit2: 'requests',
    kind: 'linear',
    kind2: 'linear',
    pick: (id) => /^(buffer|buffer-capacity|blocked):cognito$/.test(id),
  },
  {
    id: 'buffer-lambda',
    title: 'Buffer: Lambda metrics agent against host memory',
    note: "The agent buffers invocation metrics while CloudWatch fails; in memory it competes with invocations for the host's budget (2020), spilled to disk it does not (bounded agent buffer).",
    unit: 'bytes',
    kind: 'bytes',
    pick: (id) => /^(buffer|spilled|memory|memory-budget):lambda$/.test(id),
  },
  {
    id: 'buffer-cloudwatch',
    title: 'Buffer: CloudWatch local store',
    note: 'Datapoints kept locally (readable by alarms) and not yet shipped to Kinesis (remediation 8).',
    unit: 'datapoints',
    kind: 'linear',
    pick: (id) => id === 'buffer:cloudwatch',
  },
  {
    id: 'alarms',
    title: 'Alarm states',
    note: "CloudWatch alarms (solid) go to INSUFFICIENT_DATA when their metrics stop arriving; the harness's thread alarm is dashed.",
    unit: ' ',
    kind: 'states',
    states: ALARM_STATES,
    pick: (id) => id.startsWith('alarm:'),
  },
  {
    id: 'tasks',
    title: 'ECS tasks: desired, pending, running',
    note: 'A task is RUNNING only once its state-change event came back through EventBridge; the right axis counts workflow steps waiting for EventBridge.',
    unit: 'tasks',
    unit2: 'steps',
    kind: 'linear',
    kind2: 'linear',
    pick: (id) => id.startsWith('tasks:') || id.startsWith('workflow-waiting:'),
  },
  {
    id: 'delivery',
    title: 'EventBridge event delivery delay',
    note: 'From PutEvents to the target receiving the event, as the customer measured it (left); the right axis is the backlog of events not yet delivered.',
    unit: 'delay',
    unit2: 'events',
    kind: 'ms',
    kind2: 'linear',
    pick: (id) => id === 'delivery:eventbridge' || id === 'backlog:eventbridge',
  },
]

/** The charts of one run's report. */
export function buildCharts(j: Journal, rows: TimelineRows): ChartsData {
  const rs = new RunSeries(rows, gridFor(timelineSpan(rows)))
  const all = extractSeries(j, rs)
  const manyFrontends = rs.frontends.length > 16
  const panels: ChartPanel[] = []
  const missing: string[] = []
  for (const p of PANELS) {
    let series = [...all.values()].filter((s) => p.pick(s.id))
    // Past 16 front-ends, single lines are noise: the busiest one per fleet stands for them.
    if (p.id === 'threads') series = series.filter((s) => (manyFrontends ? !s.id.startsWith('threads:') : true))
    if (p.id === 'threads' && manyFrontends) series.unshift(...[...all.values()].filter((s) => s.id.startsWith('threads-max:')))
    if (p.id === 'alarms') series = series.map((s, i) => ({ ...s, values: s.values.map((v) => (v === null ? null : round(v + i * 0.06))) }))
    if (series.length === 0) missing.push(`${p.title} (no such series in the timeline)`)
    else if (series.every((x) => x.reference || x.values.every((v) => v === null || v === 0))) missing.push(`${p.title} (stayed at 0)`)
    else panels.push({ id: p.id, title: p.title, note: p.note, unit: p.unit, unit2: p.unit2, kind: p.kind, kind2: p.kind2, states: p.states, series })
  }
  return { x: rs.times.map((t) => t / 1000), stepMs: rs.grid.stepMs, panels, markers: actionMarkers(j), missing }
}
