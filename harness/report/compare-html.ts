// compare.html: runs side by side, so a remediation's effect shows in one look: the verdict of each
// run, impact per service as a matrix (runs as columns), every impact window on one time axis, and
// the report's charts with the runs overlaid (one colour per run). A function of the runs' journals
// and timelines, like report.html.
import type { Journal, TimelineRows } from '../analyze/journal.js'
import { servicesOfRuns } from '../analyze/customers.js'
import {
  ALARM_STATES,
  RunSeries,
  actionMarkers,
  extractSeries,
  gridFor,
  timelineSpan,
  type ChartMarker,
  type ChartPanel,
  type ChartSeries,
} from './chart-data.js'
import { impactOf, IMPACT_STYLE } from './cascade-graph.js'
import { escHtml as esc, sec, pct, score, delta } from './format.js'
import { chartSlot, page } from './page.js'

export interface CompareRun {
  /** Where the run came from (the experiment file of a suite, the folder given to compare). */
  source: string
  journal?: Journal
  rows: TimelineRows
  /** The run's exit code, when the suite ran it. */
  exitCode?: number
}

export const RUN_COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#7f7f7f',
  '#393b79',
  '#ad494a',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
  '#3182bd',
]
const letter = (i: number) => (i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`)

interface OverlaySpec {
  id: string
  title: string
  note: string
  unit: string
  kind: ChartPanel['kind']
  states?: string[]
  /** Series ids overlaid per run; the second and later are dashed. */
  ids: string[]
}

const OVERLAYS: OverlaySpec[] = [
  {
    id: 'threads',
    title: "Busiest front-end's threads against the thread limit (dashed)",
    note: 'Per run: the most threads any front-end of the main fleet held, and its limit.',
    unit: 'threads',
    kind: 'linear',
    ids: ['threads-max:main', 'thread-limit:main'],
  },
  {
    id: 'broken',
    title: 'Front-ends with a broken shard-map',
    note: 'Per run: how many front-ends could not route.',
    unit: 'front-ends',
    kind: 'linear',
    ids: ['shardmap:broken:main'],
  },
  {
    id: 'cognito',
    title: 'Cognito access-pattern buffer (records) and requests blocked on it (dashed)',
    note: 'Per run.',
    unit: 'records',
    kind: 'linear',
    ids: ['buffer:cognito', 'blocked:cognito'],
  },
  {
    id: 'lambda',
    title: 'Lambda agent buffer in memory and host memory used (dashed)',
    note: 'Per run.',
    unit: 'bytes',
    kind: 'bytes',
    ids: ['buffer:lambda', 'memory:lambda'],
  },
  { id: 'cloudwatch', title: 'CloudWatch local store (datapoints pending)', note: 'Per run.', unit: 'datapoints', kind: 'linear', ids: ['buffer:cloudwatch'] },
  { id: 'tasks', title: 'ECS tasks running and desired (dashed)', note: 'Per run.', unit: 'tasks', kind: 'linear', ids: ['tasks:running', 'tasks:desired'] },
  { id: 'delivery', title: 'EventBridge event delivery delay (client side)', note: 'Per run.', unit: 'delay', kind: 'ms', ids: ['delivery:eventbridge'] },
]

function overlayPanels(runs: CompareRun[], all: (Map<string, ChartSeries> | null)[]): ChartPanel[] {
  const panels: ChartPanel[] = []
  const services = servicesOfRuns(runs.map((r) => r.journal))
  const overlay = (id: string, title: string, note: string, unit: string, kind: ChartPanel['kind'], ids: string[], states?: string[]) => {
    const series: ChartSeries[] = []
    all.forEach((m, i) => {
      if (!m) return
      ids.forEach((sid, k) => {
        const s = m.get(sid)
        if (s)
          series.push({
            ...s,
            id: `${letter(i)}:${sid}`,
            label: `${letter(i)}${ids.length > 1 ? ` ${s.label}` : ''}`,
            color: RUN_COLORS[i % RUN_COLORS.length],
            dash: k === 0 ? undefined : [6, 4],
            width: k === 0 ? 2 : 1.5,
            axis: 1,
          })
      })
    })
    const drawable = series.some((s) => !s.reference && s.values.some((v) => v !== null && v !== 0))
    if (drawable) panels.push({ id, title, note, unit, kind, states, series })
  }
  for (const svc of services) overlay(`success-${svc}`, `${svc}: success ratio (client side)`, 'One line per run.', 'success', 'ratio', [`success:${svc}`])
  // Latency only where some run was impacted: flat noise elsewhere says nothing.
  for (const svc of services.filter((s) => runs.some((r) => r.journal?.services[s]?.impacted)))
    overlay(`p99-${svc}`, `${svc}: p99 latency (client side)`, 'One line per run, log scale.', 'p99', 'log', [`p99:${svc}`])
  for (const o of OVERLAYS) overlay(o.id, o.title, o.note, o.unit, o.kind, o.ids, o.states)
  const alarms = [...new Set(all.flatMap((m) => [...(m?.keys() ?? [])].filter((k) => k.startsWith('alarm:'))))].sort()
  for (const a of alarms) overlay(`alarm-${a.slice(6)}`, `Alarm ${a.slice(6)}`, 'One line per run.', ' ', 'states', [a], ALARM_STATES)
  return panels
}

/** One marker per action; an action every run took at the same moment is drawn once, in grey. */
function overlayMarkers(runs: CompareRun[]): ChartMarker[] {
  const per = runs.map((r) => (r.journal ? actionMarkers(r.journal) : []))
  const present = per.filter((_, i) => runs[i].journal)
  const out: ChartMarker[] = []
  per.forEach((markers, i) => {
    for (const m of markers) {
      const shared = present.every((other) => other.some((o) => o.label === m.label && Math.abs(o.atMs - m.atMs) < 500))
      if (shared && present.length > 1) {
        if (!out.some((o) => o.label === m.label && Math.abs(o.atMs - m.atMs) < 500)) out.push({ ...m, color: '#555555' })
      } else out.push({ ...m, label: `${letter(i)}: ${m.label}`, color: RUN_COLORS[i % RUN_COLORS.length] })
    }
  })
  return out.sort((a, b) => a.atMs - b.atMs)
}

function matrix(runs: CompareRun[]): string {
  const services = servicesOfRuns(runs.map((r) => r.journal))
  const base = runs.find((r) => r.journal)?.journal
  const head = runs.map((r, i) => `<th><span style="color:${RUN_COLORS[i % RUN_COLORS.length]}">■</span> ${letter(i)}</th>`).join('')
  const rows = services.map((svc) => {
    const cells = runs.map((r, i) => {
      const s = r.journal?.services[svc]
      if (!r.journal) return '<td class="cell-idle">did not run</td>'
      if (!s) return '<td class="cell-idle">not in this run</td>'
      const impact = impactOf(s)
      const b = base?.services[svc]
      const diff = (s.impactMs ?? 0) - (b?.impactMs ?? 0)
      const vsBase = i > 0 && b && base !== r.journal ? ` <span class="muted">(${diff === 0 ? '=' : delta(diff)} vs A)</span>` : ''
      const text =
        impact === 'idle'
          ? 'no calls measured'
          : s.impacted
            ? `<b>down ${esc(sec(s.impactMs))}${s.recoveredMs === null ? '+' : ''}</b>${vsBase}<br>${esc(sec(s.onsetMs))} → ${s.recoveredMs === null ? '<b>never</b>' : esc(sec(s.recoveredMs))}`
            : `ok${vsBase}<br><span class="muted">${esc(pct(s.availability))} available</span>`
      return `<td class="cell-${impact}" data-service="${esc(svc)}" data-run="${letter(i)}" data-impacted="${s.impacted}">${text}</td>`
    })
    return `<tr><th>${esc(svc)}</th>${cells.join('')}</tr>`
  })
  const recover = runs.map((r) => `<td class="num">${r.journal ? esc(sec(r.journal.recovery?.timeToRecoverMs)) : '-'}</td>`).join('')
  const radius = runs
    .map((r) => `<td class="num">${r.journal?.blastRadius ? `${r.journal.blastRadius.count}/${r.journal.blastRadius.total}` : '-'}</td>`)
    .join('')
  return `<table class="matrix" id="impact-matrix"><tr><th>service</th>${head}</tr>${rows.join('')}<tr><th>blast radius</th>${radius}</tr><tr><th>time to recover</th>${recover}</tr></table>
<p class="legend">${(['down', 'recovered', 'healthy'] as const).map((k) => `<span><i style="background:${IMPACT_STYLE[k].fill};border-color:${IMPACT_STYLE[k].stroke}"></i>${IMPACT_STYLE[k].text}</span>`).join(' ')} <span>cells: impact duration (difference to run A), onset → recovery, in seconds from the start of the method</span></p>`
}

/** The last sane time of a run's rows (0 when none); a loop, as a long run has more rows than a call takes arguments. */
function lastAtMs(rows: TimelineRows): number {
  let end = 0
  for (const x of rows) if (Math.abs(x.atMs) < 1e8 && x.atMs > end) end = x.atMs
  return end
}

/** Every impact window on one axis: per service, one bar per run from onset to recovery (or the end). */
function impactWindows(runs: CompareRun[]): string {
  const services = servicesOfRuns(runs.map((r) => r.journal))
  const ends = runs.map((r) => (r.journal ? lastAtMs(r.rows) : 0))
  const maxMs = Math.max(10_000, ...ends)
  const W = 1180
  const L = 110
  const R = 20
  const barH = 10
  const groupH = runs.length * (barH + 3) + 10
  const H = 24 + services.length * groupH + 24
  const x = (t: number) => L + (Math.max(0, t) / maxMs) * (W - L - R)
  const parts: string[] = []
  const step = [5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000].find((s) => maxMs / s <= 12) ?? 600_000
  for (let t = 0; t <= maxMs; t += step)
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="16" y2="${H - 20}" stroke="#e5e5e5"/><text x="${x(t)}" y="${H - 6}" text-anchor="middle" font-size="11">${t / 1000} s</text>`,
    )
  services.forEach((svc, si) => {
    const y0 = 20 + si * groupH
    parts.push(`<text x="4" y="${y0 + groupH / 2}" font-size="12" font-weight="600">${esc(svc)}</text>`)
    runs.forEach((r, i) => {
      const s = r.journal?.services[svc]
      const y = y0 + i * (barH + 3)
      if (!s?.impacted || s.onsetMs === null) return
      const end = s.recoveredMs ?? ends[i]
      const color = RUN_COLORS[i % RUN_COLORS.length]
      parts.push(
        `<rect class="window" data-service="${esc(svc)}" data-run="${letter(i)}" x="${x(s.onsetMs)}" y="${y}" width="${Math.max(2, x(end) - x(s.onsetMs))}" height="${barH}" fill="${color}" opacity="0.85"${s.recoveredMs === null ? ' stroke="#c62828" stroke-dasharray="3 2"' : ''}><title>${esc(`${letter(i)} ${svc}: ${sec(s.onsetMs)} → ${s.recoveredMs === null ? 'not recovered' : sec(s.recoveredMs)}`)}</title></rect>`,
      )
      parts.push(
        `<text x="${x(end) + 4}" y="${y + barH - 1}" font-size="10" fill="#333">${letter(i)} ${esc(sec(s.impactMs))}${s.recoveredMs === null ? '+' : ''}</text>`,
      )
    })
  })
  return `<svg class="windows" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="impact windows per service and run">${parts.join('')}</svg>`
}

export function compareHtml(runs: CompareRun[], title = 'outage-lab comparison'): string {
  const spans = runs.map((r) => timelineSpan(r.rows)).filter((s): s is { startMs: number; endMs: number } => s !== null)
  const grid = gridFor(spans.length ? { startMs: Math.min(...spans.map((s) => s.startMs)), endMs: Math.max(...spans.map((s) => s.endMs)) } : null)
  let times: number[] = []
  const all = runs.map((r) => {
    if (!r.journal) return null
    const rs = new RunSeries(r.rows, grid)
    times = rs.times
    return extractSeries(r.journal, rs)
  })
  if (times.length === 0) times = new RunSeries([], grid).times
  const panels = overlayPanels(runs, all)
  const runRows = runs.map((r, i) => {
    const j = r.journal
    const sw = `<span style="color:${RUN_COLORS[i % RUN_COLORS.length]}">■</span> <b>${letter(i)}</b>`
    if (!j)
      return `<tr><td>${sw}</td><td colspan="7"><code>${esc(r.source)}</code>: <span class="bad">did not run${r.exitCode === undefined ? '' : ` (exit ${r.exitCode})`}</span></td></tr>`
    const met = j.expectations.filter((x) => x.met).length
    return `<tr><td>${sw}</td><td>${esc(j.title)}<br><code>${esc(j.experiment?.file ?? r.source)}</code>${r.source !== j.experiment?.file ? `<br><span class="muted">run: ${esc(r.source)}</span>` : ''}</td><td class="${j.status === 'completed' && !j.deviated ? 'ok' : 'bad'}">${esc(j.status)}${j.deviated ? ' (deviated)' : ''}</td><td class="${met === j.expectations.length ? 'ok' : 'bad'}">${met}/${j.expectations.length}</td><td class="num">${esc(score(j.fidelity?.score))}</td><td class="num">${j.blastRadius ? `${j.blastRadius.count}/${j.blastRadius.total}` : '-'}</td><td class="num">${esc(sec(j.recovery?.timeToRecoverMs))}</td><td>${esc(j.cascade.map((c) => c.service).join(' → ') || 'no impact')}</td></tr>`
  })
  const body = `<header><h1>${esc(title)}</h1><p class="meta">${runs.length} runs, side by side. Times are seconds from the start of each run's method.</p></header>
<section><h2>Runs</h2><table id="runs"><tr><th>run</th><th>experiment</th><th>status</th><th>expectations</th><th>fidelity</th><th>blast radius</th><th>time to recover</th><th>cascade</th></tr>${runRows.join('')}</table></section>
<section><h2>Impact per service</h2><div class="scroll">${matrix(runs)}</div></section>
<section><h2>Impact windows</h2><p class="muted">From onset to recovery (dashed red outline: not recovered by the end of the run).</p>${impactWindows(runs)}</section>
<section id="charts"><h2>The runs overlaid</h2><p class="muted">One colour per run. Vertical lines: actions every run took at the same moment (grey), or one run's actions (its colour, its letter).</p>
${panels.map((p) => chartSlot(p.id, p.title, p.note)).join('\n')}
${panels.length ? '' : '<p>No timeline to draw.</p>'}</section>
<footer>outage-lab compare / suite.</footer>`
  return page({ title, body, data: { x: times.map((t) => t / 1000), stepMs: grid.stepMs, panels, markers: overlayMarkers(runs) } })
}
