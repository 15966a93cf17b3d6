// report.html: the page an engineer shows in the post-incident review. The verdict first; then the
// cascade as a dependency graph; then the run on one time axis (customers' success and latency,
// the front-ends' threads against their limit, the buffers that filled, alarms, ECS tasks, event
// delivery), every action a marked line; the steady state before and after; and the 2020
// timeline mapped onto this run beside what the run measured. One file, nothing fetched to view
// it, and a function of journal.json and timeline.jsonl only (`outage-lab report` re-renders it).
import { lagSentence } from '../analyze/observation.js'
import type { Journal, SteadyStateResult, TimelineRows } from '../analyze/journal.js'
import { buildCharts } from './chart-data.js'
import { cascadeGraph } from './cascade-graph.js'
import { escHtml as esc, sec, pct, ms, score, delta, toleranceText, probeValue } from './format.js'
import { chartSlot, page } from './page.js'
import { publishedTimeline, triggerOf, type PublishedTimeline } from './published.js'
import { calledText, customerNames } from './customers.js'

const SANE_MS = 1e8

function card(k: string, v: string, d: string, cls: string): string {
  return `<div class="card ${cls}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="d">${d}</div></div>`
}

export function verdictCards(j: Journal): string {
  const met = j.expectations.filter((x) => x.met).length
  const total = j.expectations.length
  const expCls = total === 0 ? '' : met === total ? 'ok' : 'bad'
  const statusCls = j.status === 'completed' && !j.deviated ? 'ok' : j.status === 'completed' ? 'warn' : 'bad'
  const statusNote =
    j.status === 'failed'
      ? 'the steady state did not hold before the method, so it did not run'
      : j.status === 'aborted'
        ? 'the run aborted'
        : j.status === 'interrupted'
          ? 'interrupted before the end'
          : j.deviated
            ? 'the steady state did not hold after the method'
            : 'the method and rollbacks ran'
  const br = j.blastRadius
  const rec = j.recovery
  const recNote = !rec
    ? ''
    : rec.unrecovered.length
      ? `<span class="bad">not recovered: ${esc(rec.unrecovered.join(', '))}</span>`
      : rec.lastRecoveredMs === null
        ? 'nothing needed to recover'
        : rec.recoveryAction
          ? `from <b>${esc(rec.recoveryAction.name)}</b> at ${esc(sec(rec.recoveryAction.atMs))} to the last recovery at ${esc(sec(rec.lastRecoveredMs))}`
          : `last recovery at ${esc(sec(rec.lastRecoveredMs))}, no recovery action before it`
  const fid = j.fidelity
  const fidApplicable = fid.checks.filter((c) => c.applicable)
  return `<div class="cards" id="verdict">
${card('status', j.status + (j.deviated ? ' (deviated)' : ''), esc(statusNote), statusCls)}
${card(
  'expectations',
  total ? `${met}/${total} met` : 'none stated',
  j.expectations
    .filter((x) => !x.met)
    .map((x) => `<span class="bad">not met: ${esc(x.name)}</span>`)
    .join('<br>') || (total ? 'every expectation held' : ''),
  expCls,
)}
${card('fidelity to 2020', score(fid.score), `${fidApplicable.filter((c) => c.met).length} of ${fidApplicable.length} applicable mechanisms of docs/fidelity.md showed`, fid.score === null ? '' : fid.score >= 0.8 ? 'ok' : fid.score >= 0.5 ? 'warn' : 'bad')}
${card('blast radius', br ? `${br.count}/${br.total}` : '-', br ? (br.impacted.length ? `impacted: ${esc(br.impacted.join(', '))}` : 'no service impacted') : '', br ? (br.count === 0 ? 'ok' : 'bad') : '')}
${card('time to recover', sec(rec?.timeToRecoverMs), recNote, !rec || (rec.lastRecoveredMs === null && rec.recovered) ? '' : rec.recovered ? 'ok' : 'bad')}
</div>`
}

export function steadyStateTable(before: SteadyStateResult, after: SteadyStateResult): string {
  const names = [...new Set([...before.probes.map((p) => p.name), ...after.probes.map((p) => p.name)])]
  if (names.length === 0) return '<p>The experiment states no steady-state hypothesis.</p>'
  const cell = (p: SteadyStateResult['probes'][number] | undefined) =>
    p
      ? `<td class="num">${esc(probeValue(p.value))}</td><td class="${p.met ? 'ok' : 'bad'}">${p.met ? 'met' : 'NOT met'}</td>`
      : '<td class="muted" colspan="2">not checked</td>'
  const rows = names.map((n) => {
    const b = before.probes.find((p) => p.name === n)
    const a = after.probes.find((p) => p.name === n)
    const any = b ?? a!
    return `<tr><td>${esc(n)}</td><td>${esc(any.service)}</td><td>${esc(toleranceText(any.tolerance))}</td>${cell(b)}${cell(a)}<td class="muted">${esc(a?.detail ?? b?.detail ?? '')}</td></tr>`
  })
  const head = (label: string, ss: SteadyStateResult) =>
    `${label}: <b class="${ss.met ? 'ok' : 'bad'}">${ss.probes.length ? (ss.met ? 'held' : 'did NOT hold') : 'not checked'}</b>`
  return `<p>${head('Before the method', before)} · ${head('after the rollbacks', after)}</p>
<table id="steady-state"><tr><th>probe</th><th>service</th><th>tolerance</th><th>before</th><th></th><th>after</th><th></th><th>last reading</th></tr>${rows.join('')}</table>`
}

/** One card per customer service: impacted or not, through which lab service, what it called. */
export function customerCards(j: Journal): string {
  const names = customerNames(j)
  if (names.length === 0) return ''
  const cascadeBy = new Map(j.cascade.map((c) => [c.service, c]))
  const cards = names.map((name) => {
    const s = j.services[name]
    const c = cascadeBy.get(name)
    const key = j.customers?.[name]?.accessKeyId
    const value = !s ? 'not measured' : s.impacted ? `down ${sec(s.impactMs)}${s.recoveredMs === null ? '+' : ''}` : 'not impacted'
    const why = !s
      ? 'no call of its workload was recorded'
      : s.impacted
        ? `onset ${esc(sec(s.onsetMs))}${c ? (c.cause === 'trigger' ? ', hit by the trigger' : c.cause === 'unexplained' ? ', no lab service it called was impacted then' : `, <b>via ${esc(c.cause)}</b>`) : ''}; ${s.recoveredMs === null ? '<span class="bad">not recovered</span>' : `recovered ${esc(sec(s.recoveredMs))}`}`
        : `${esc(pct(s.availability))} available, p99 ${esc(ms(s.p99Ms))}`
    const cls = !s ? '' : s.impacted ? (s.recoveredMs === null ? 'bad' : 'warn') : 'ok'
    const detail = `${why}<br><span class="muted">called: ${esc(calledText(j, name))}${key ? ` · key ${esc(key)}` : ''}</span>`
    return `<div class="card ${cls}" data-customer="${esc(name)}"><div class="k">${esc(name)}</div><div class="v">${esc(value)}</div><div class="d">${detail}</div></div>`
  })
  return `<section id="customers"><h2>Customer services</h2><p class="muted">Your own services in this run (topology.customers), judged on the harness's calls to them like every lab service; what each called of the lab is what the lab counted under its access key.</p><div class="cards">${cards.join('\n')}</div></section>`
}

function publishedTable(p: PublishedTimeline): string {
  const rows = p.entries.map((e) => {
    const measured = e.measured.length
      ? e.measured
          .map(
            (m) => `${esc(m.text)}${m.atMs === null ? '' : ` at <b>${esc(sec(m.atMs))}</b> <span class="muted">(${esc(delta(m.atMs - e.mappedMs))})</span>`}`,
          )
          .join('<br>')
      : '<span class="muted">no counterpart in this run</span>'
    const cls = e.kind === 'onset' ? 'bad' : e.kind === 'recovery' ? 'ok' : ''
    return `<tr><td class="num">${esc(e.pst)}</td><td class="${cls}">${esc(e.text)}</td><td class="num">${esc(sec(e.mappedMs))}</td><td>${measured}</td></tr>`
  })
  return `<table id="published-timeline"><tr><th>PST</th><th>published (docs/fidelity.md)</th><th>mapped to this run</th><th>measured in this run (difference to the mapped time)</th></tr>${rows.join('')}</table>`
}

function servicesTable(j: Journal): string {
  const rows = Object.entries(j.services).map(
    ([n, s]) =>
      `<tr><td>${esc(n)}</td><td class="${s.impacted ? 'bad' : 'ok'}">${s.impacted ? 'yes' : 'no'}</td><td class="num">${sec(s.onsetMs)}</td><td class="num">${sec(s.recoveredMs)}</td><td class="num">${sec(s.impactMs)}</td><td class="num">${sec(s.timeToRecoverMs)}</td><td class="num">${pct(s.availability)}</td><td class="num">${ms(s.p99Ms)}</td><td class="num">${s.calls}</td><td class="num">${s.errors}</td></tr>`,
  )
  const clientErrors = (j as { clientErrors?: Record<string, Record<string, number>> }).clientErrors ?? {}
  const kinds = Object.entries(clientErrors).filter(([, e]) => Object.keys(e).length)
  const errors = kinds.length
    ? `<p>Errors the customers saw:</p><ul class="checks">${kinds
        .map(
          ([svc, e]) =>
            `<li><b>${esc(svc)}</b>: ${esc(
              Object.entries(e)
                .sort((a, b) => b[1] - a[1])
                .map(([k, v]) => `${k} ${v}`)
                .join(', '),
            )}</li>`,
        )
        .join('')}</ul>`
    : ''
  return `<table id="services"><tr><th>service</th><th>impacted</th><th>onset</th><th>recovered</th><th>impact</th><th>time to recover</th><th>availability</th><th>p99</th><th>calls</th><th>errors</th></tr>${rows.join('')}</table>${errors}`
}

function eventLog(j: Journal): string {
  const shown = new Set(['action-start', 'action-end', 'probe', 'alarm', 'phase', 'service-exited', 'fleet-scaled', 'log', 'fault'])
  const rows = (j.events ?? [])
    .filter((e) => shown.has(e.kind))
    .map((e) => {
      const d = e.detail as Record<string, unknown>
      const at = Math.abs(e.atMs) < SANE_MS ? sec(e.atMs) : 'before'
      const text =
        e.kind === 'action-start'
          ? `${d.phase === 'rollbacks' ? 'rollback' : 'action'} <b>${esc(d.name)}</b> (${esc(d.provider)})`
          : e.kind === 'action-end'
            ? `<b>${esc(d.name)}</b> ${d.ok === false ? `<span class="bad">failed: ${esc(d.error)}</span>` : 'done'}`
            : e.kind === 'probe'
              ? `probe <b>${esc(d.name)}</b> (${esc(d.phase)}): <span class="${d.met ? 'ok' : 'bad'}">${d.met ? 'met' : 'NOT met'}</span> ${esc(d.value ?? '')}`
              : e.kind === 'alarm'
                ? `alarm <b>${esc(d.name)}</b> → ${esc(d.state)}`
                : e.kind === 'phase'
                  ? `phase <b>${esc(d.phase)}</b>`
                  : `${esc(e.kind)}: ${esc(d.message ?? JSON.stringify(d))}`
      return `<tr><td class="num">${esc(at)}</td><td>${text}</td></tr>`
    })
  return `<details><summary>Every event of the run (${rows.length})</summary><table id="events">${rows.join('')}</table></details>`
}

export function reportHtml(j: Journal, rows: TimelineRows): string {
  const charts = buildCharts(j, rows)
  const published = publishedTimeline(j, rows)
  const aborted = (j as { error?: string }).error
  const notes = [
    aborted ? `The run aborted: ${esc(aborted)}` : '',
    j.status === 'failed' ? 'The steady state did not hold before the method, so the method did not run: the charts show the system before any fault.' : '',
    j.deviated ? 'The steady state did not hold after the method (the run deviated).' : '',
    j.observation?.lagged ? `The ${esc(lagSentence(j.observation)!)}.` : '',
    rows.length === 0 ? 'timeline.jsonl is missing or empty: no charts.' : '',
  ]
    .filter(Boolean)
    .map((n) => `<p class="note">${n}</p>`)
    .join('')
  const chartSlots = charts.panels.map((p) => chartSlot(p.id, p.title, p.note)).join('\n')
  const missing = charts.missing.length ? `<p class="muted">Not recorded in this run: ${esc(charts.missing.join('; '))}.</p>` : ''
  const expectations = j.expectations.length
    ? `<ul class="checks">${j.expectations.map((x) => `<li><b class="${x.met ? 'ok' : 'bad'}">${x.met ? 'met' : 'NOT met'}</b>: <b>${esc(x.name)}</b>: ${esc(x.detail)}</li>`).join('')}</ul>`
    : '<p>None were stated.</p>'
  const fidelity = `<ul class="checks">${j.fidelity.checks.map((c) => `<li><b class="${!c.applicable ? 'muted' : c.met ? 'ok' : 'bad'}">${!c.applicable ? 'n/a' : c.met ? 'met' : 'NOT met'}</b>: ${esc(c.name)}: ${esc(c.detail)}</li>`).join('')}</ul>`
  const probes = j.probes?.length
    ? `<h2>Probes of the method</h2><table id="method-probes"><tr><th>probe</th><th>service</th><th>at</th><th>value</th><th>tolerance</th><th></th></tr>${j.probes.map((p) => `<tr><td>${esc(p.name)}</td><td>${esc(p.service)}</td><td class="num">${sec(p.toMs)}</td><td class="num">${esc(probeValue(p.value))}</td><td>${esc(toleranceText(p.tolerance))}</td><td class="${p.met ? 'ok' : 'bad'}">${p.met ? 'met' : 'NOT met'}</td></tr>`).join('')}</table>`
    : ''
  const body = `<header>
<h1>${esc(j.title)}</h1>
<p class="meta"><code>${esc(j.experiment?.file ?? '')}</code> · backend ${esc(j.backend)} · thread limit enforced by ${esc(j.threadLimitEnforcement)} · seed ${esc(j.seed)} · time scale ${esc(j.experiment?.timeScale ?? '-')} s per incident hour · ${esc(j.startedAt)} · ${esc(sec(j.durationMs))} from boot to teardown</p>
</header>
<section><h2 id="verdict-title">Verdict</h2>${verdictCards(j)}${notes}</section>
${customerCards(j)}
<section><h2>Cascade</h2>
<p class="muted">Services by dependency (left: what the others call). Times are from the start of the method; a number on a red edge is how long the break took to travel it.</p>
${cascadeGraph(j)}</section>
<section id="charts"><h2>The run on one time axis</h2>
<p class="muted">Dashed vertical lines: the method's actions (black) and the rollbacks (purple). Drag across a chart to zoom (double-click resets); the cursor is shared by every chart.</p>
<div class="chart"><h3>Impact per service</h3><p class="note2">From each service's onset to its recovery (orange), or to the end of the run (red: not recovered), as judged on the customers' 1-second windows.</p><div class="plot" data-impact="services"></div></div>
${chartSlots}${missing}</section>
<section><h2>Steady-state hypothesis</h2>${steadyStateTable(j.steadyState.before, j.steadyState.after)}</section>
<section><h2>The 2020 timeline on this run's scale</h2>
<p class="muted">The published timeline (docs/fidelity.md, PST on 2020-11-25) at ${esc(published.timeScale)} s of run per incident hour, with this run's trigger (its first method action, at ${esc(sec(published.triggerMs))}) standing for ${esc(published.anchor)}, the end of the capacity addition, after which every front-end crossed its thread limit as the fleet learned of the new servers (a run adds its members at once). Top: the published moments; bottom: what this run measured for each.</p>
${triggerOf(j) ? `<div class="chart"><div class="plot" data-lane="published"></div></div>\n${publishedTable(published)}` : '<p>The method did not run: there is no trigger to map the 2020 timeline onto.</p>'}</section>
<section><h2>Services (client side)</h2>${servicesTable(j)}</section>
${probes}
<section><h2>Expectations</h2>${expectations}</section>
<section><h2>Fidelity to the 2020 outage</h2><p>Score ${esc(score(j.fidelity.score))} of the applicable mechanisms.</p>${fidelity}</section>
<section><h2>What happened</h2>${eventLog(j)}</section>
<footer>outage-lab report, re-render with <code>outage-lab report RUN_DIR</code> from journal.json and timeline.jsonl.</footer>`
  const rank = new Map(j.cascade.map((c, i) => [c.service, { rank: i + 1, cause: c.cause }]))
  // Rows in cascade order, so the bars step down as the cascade unfolds; the unimpacted last.
  const impact = Object.entries(j.services)
    .sort(([a], [b]) => (rank.get(a)?.rank ?? 99) - (rank.get(b)?.rank ?? 99))
    .map(([service, s]) => ({
      service,
      impacted: s.impacted,
      onsetMs: s.onsetMs,
      recoveredMs: s.recoveredMs,
      calls: s.calls,
      rank: rank.get(service)?.rank ?? null,
      cause: rank.get(service)?.cause ?? null,
    }))
  return page({
    title: `${j.title}: outage-lab report`,
    body,
    data: { x: charts.x, stepMs: charts.stepMs, panels: charts.panels, markers: charts.markers, lane: triggerOf(j) ? published : null, impact },
  })
}
