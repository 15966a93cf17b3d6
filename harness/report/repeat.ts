// repeat.md and repeat.html: what many seeded runs of one experiment showed. The pass counts come
// first, each with its Wilson 95% interval; then each service's onset, recovery and time down as
// quartiles (and a box plot in the HTML); the cascade orders seen; and every run with its verdict
// and a link to its own report. Functions of repeat.json's summary only.
import type { Distribution, Proportion, RepeatSummary } from '../analyze/repeat.js'
import { escHtml as esc, escCell, sec } from './format.js'
import { page } from './page.js'

export const ratio = (p: Proportion) =>
  p.runs === 0 ? '-' : `${p.passed}/${p.runs}${p.wilson95 ? ` (95% CI ${Math.round(p.wilson95[0] * 100)}-${Math.round(p.wilson95[1] * 100)}%)` : ''}`
const dist = (d: Distribution) => (d.n === 0 ? '-' : `${sec(d.median)} [${sec(d.q1)} - ${sec(d.q3)}], ${sec(d.min)} - ${sec(d.max)}`)

export function repeatMarkdown(s: RepeatSummary, meta: { machine?: string; date?: string } = {}): string {
  const lines = [
    `# ${s.title}: ${s.runs.length} runs`,
    '',
    `\`${s.experiment}\` on ${s.platform}${meta.machine ? `, ${meta.machine}` : ''}${meta.date ? `, ${meta.date}` : ''}. Seeds ${s.runs.map((r) => r.seed).join(', ') || '-'}.`,
    '',
    `**Every expectation met: ${ratio(s.held)}**${s.observationLagged ? ` · observation lagged in ${s.observationLagged} run(s)` : ''}`,
    '',
    '| expectation | met in | 95% interval |',
    '|---|---:|---:|',
    ...s.expectations.map(
      (e) => `| ${escCell(e.name)} | ${e.passed}/${e.runs} | ${e.wilson95 ? `${pctInt(e.wilson95[0])} - ${pctInt(e.wilson95[1])}` : '-'} |`,
    ),
    '',
    'Per service (median [quartiles], min - max, over the runs that impacted it):',
    '',
    '| service | impacted in | onset | recovered | down for |',
    '|---|---:|---|---|---|',
    ...Object.entries(s.services).map(
      ([name, x]) => `| ${name} | ${x.impacted.passed}/${x.impacted.runs} | ${dist(x.onsetMs)} | ${dist(x.recoveredMs)} | ${dist(x.impactMs)} |`,
    ),
    '',
    '| cascade order seen | runs |',
    '|---|---:|',
    ...s.cascadeOrders.map((o) => `| ${escCell(o.order)} | ${o.count} |`),
    '',
  ]
  return lines.join('\n')
}

const pctInt = (v: number) => `${Math.round(v * 100)}%`

/** A horizontal box plot of one distribution on a shared time axis [0, maxMs]. */
function boxPlot(d: Distribution, maxMs: number, colour: string): string {
  if (d.n === 0 || maxMs <= 0) return '<span class="muted">-</span>'
  const W = 320
  const x = (v: number | null) => ((v ?? 0) / maxMs) * W
  return `<svg class="box" width="${W + 8}" height="18" viewBox="-4 0 ${W + 8} 18" role="img" aria-label="median ${esc(sec(d.median))}">
<line x1="${x(d.min)}" x2="${x(d.max)}" y1="9" y2="9" stroke="#888"/>
<rect x="${x(d.q1)}" y="3" width="${Math.max(1, x(d.q3) - x(d.q1))}" height="12" fill="${colour}" fill-opacity=".35" stroke="${colour}"/>
<line x1="${x(d.median)}" x2="${x(d.median)}" y1="2" y2="16" stroke="${colour}" stroke-width="2.5"/></svg>`
}

export function repeatHtml(s: RepeatSummary, meta: { machine?: string; date?: string } = {}): string {
  const maxMs = Math.max(1, ...Object.values(s.services).flatMap((x) => [x.onsetMs.max ?? 0, x.recoveredMs.max ?? 0]))
  const cls = (p: Proportion) => (p.runs === 0 ? 'muted' : p.passed === p.runs ? 'ok' : p.rate! >= 0.9 ? 'warn' : 'bad')
  const body = `<header><h1>${esc(s.title)}</h1>
<p class="meta"><code>${esc(s.experiment)}</code> · ${esc(s.platform)} · ${s.runs.length} runs${meta.machine ? ` · ${esc(meta.machine)}` : ''}${meta.date ? ` · ${esc(meta.date)}` : ''}</p></header>
<section><h2>Verdict</h2><div class="cards">
<div class="card ${cls(s.held)}"><div class="k">every expectation met</div><div class="v">${s.held.passed}/${s.held.runs}</div><div class="d">${s.held.wilson95 ? `95% interval ${pctInt(s.held.wilson95[0])} - ${pctInt(s.held.wilson95[1])} (Wilson)` : 'no run counted yet'}</div></div>
<div class="card ${s.observationLagged ? 'warn' : 'ok'}"><div class="k">observation lagged</div><div class="v">${s.observationLagged}</div><div class="d">runs whose harness was held past its bound</div></div>
</div></section>
<section><h2>Expectations</h2><table id="expectations"><tr><th>expectation</th><th>met in</th><th>95% interval</th></tr>
${s.expectations.map((e) => `<tr><td>${esc(e.name)}</td><td class="num ${cls(e)}">${e.passed}/${e.runs}</td><td class="num">${e.wilson95 ? `${pctInt(e.wilson95[0])} - ${pctInt(e.wilson95[1])}` : '-'}</td></tr>`).join('\n')}
</table></section>
<section><h2>Per service</h2><p class="muted">Box: quartiles; bar: median; whiskers: min to max; one axis from 0 to ${esc(sec(maxMs))} after the start of the method.</p>
<table id="services"><tr><th>service</th><th>impacted in</th><th>onset</th><th></th><th>recovered</th><th></th><th>down for (median [quartiles])</th></tr>
${Object.entries(s.services)
  .map(
    ([name, x]) =>
      `<tr><td>${esc(name)}</td><td class="num">${x.impacted.passed}/${x.impacted.runs}</td><td class="num">${esc(sec(x.onsetMs.median))}</td><td>${boxPlot(x.onsetMs, maxMs, '#c62828')}</td><td class="num">${esc(sec(x.recoveredMs.median))}</td><td>${boxPlot(x.recoveredMs, maxMs, '#2e7d32')}</td><td class="num">${esc(x.impactMs.n ? `${sec(x.impactMs.median)} [${sec(x.impactMs.q1)} - ${sec(x.impactMs.q3)}]` : '-')}</td></tr>`,
  )
  .join('\n')}
</table></section>
<section><h2>Cascade orders seen</h2><table id="orders"><tr><th>order (services by onset; onsets in the same window grouped)</th><th>runs</th></tr>
${s.cascadeOrders.map((o) => `<tr><td>${esc(o.order)}</td><td class="num">${o.count}</td></tr>`).join('\n')}
</table></section>
<section><h2>Runs</h2><table id="runs"><tr><th>#</th><th>seed</th><th>verdict</th><th>expectations not met</th><th>cascade</th><th>wall time</th><th>report</th></tr>
${s.runs
  .map((r, i) => {
    const failed = Object.entries(r.expectations)
      .filter(([, met]) => !met)
      .map(([n]) => n)
    const verdict = r.status !== 'completed' ? r.status : r.held ? 'held' : 'failed'
    return `<tr><td class="num">${i + 1}</td><td class="num">${r.seed}</td><td class="${r.held ? 'ok' : 'bad'}">${esc(verdict)}${r.observationLagged ? ' <span class="warn">(lagged)</span>' : ''}</td><td>${esc(failed.join(', ') || '-')}</td><td>${esc(r.cascadeOrder)}</td><td class="num">${esc(sec(r.durationMs))}</td><td><a href="${esc(encodeURI(r.dir))}/report.html">report</a></td></tr>`
  })
  .join('\n')}
</table></section>
<footer>outage-lab repeat · pass counts are Wilson score intervals at 95%; interrupted runs are listed but not counted.</footer>`
  return page({ title: `${s.title}: ${s.runs.length} runs`, body, data: { repeat: s } })
}
