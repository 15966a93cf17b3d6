// report.html: one self-contained page (no network at view time). This first version shows the
// verdict, the cascade and services tables and one chart drawn as inline SVG: each service's
// client-side success ratio over the run, with the method's actions as vertical lines.
import type { Journal, TimelineRow } from '../analyze/journal.js'
import { verdictLine, sec } from './summary.js'

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']

function successChart(j: Journal, rows: readonly TimelineRow[]): string {
  const series = new Map<string, { atMs: number; value: number }[]>()
  for (const r of rows) {
    if (r.metric !== 'client.success_ratio' || r.value === null) continue
    if (!series.has(r.service)) series.set(r.service, [])
    series.get(r.service)!.push({ atMs: r.atMs, value: r.value })
  }
  if (series.size === 0) return '<p>No client-side samples were recorded.</p>'
  const all = [...series.values()].flat()
  const x0 = Math.min(...all.map((p) => p.atMs))
  const x1 = Math.max(...all.map((p) => p.atMs), x0 + 1)
  const W = 1100
  const H = 260
  const pad = 40
  const sx = (t: number) => pad + ((t - x0) / (x1 - x0)) * (W - 2 * pad)
  const sy = (v: number) => H - pad - v * (H - 2 * pad)
  const paths = [...series.entries()].map(([service, pts], i) => {
    const d = pts.map((p, k) => `${k ? 'L' : 'M'}${sx(p.atMs).toFixed(1)},${sy(p.value).toFixed(1)}`).join('')
    return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"><title>${esc(service)}</title></path>`
  })
  const marks = j.events
    .filter((e) => e.kind === 'action-start')
    .map((e) => `<line x1="${sx(e.atMs)}" x2="${sx(e.atMs)}" y1="${pad}" y2="${H - pad}" stroke="#555" stroke-dasharray="4 3"/><text x="${sx(e.atMs) + 3}" y="${pad - 4}" font-size="11">${esc((e.detail as any).name)}</text>`)
  const legend = [...series.keys()].map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632; ${esc(s)}</span>`).join(' ')
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="client success ratio per service">
<rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="#fafafa" stroke="#ccc"/>
<text x="4" y="${sy(1) + 4}" font-size="11">100%</text><text x="4" y="${sy(0) + 4}" font-size="11">0%</text>
<text x="${pad}" y="${H - 8}" font-size="11">${sec(x0)}</text><text x="${W - pad - 40}" y="${H - 8}" font-size="11">${sec(x1)}</text>
${marks.join('\n')}
${paths.join('\n')}
</svg><p>${legend}</p>`
}

export function reportHtml(j: Journal, rows: readonly TimelineRow[]): string {
  const services = Object.entries(j.services)
    .map(([n, s]) => `<tr><td>${esc(n)}</td><td>${s.impacted ? '<b>yes</b>' : 'no'}</td><td>${sec(s.onsetMs)}</td><td>${sec(s.recoveredMs)}</td><td>${s.availability === null ? '-' : `${(s.availability * 100).toFixed(1)}%`}</td><td>${s.p99Ms === null ? '-' : `${Math.round(s.p99Ms)} ms`}</td></tr>`)
    .join('')
  const cascade = j.cascade.map((c, i) => `<li>${i + 1}. <b>${esc(c.service)}</b> at ${sec(c.onsetMs)}, caused by ${esc(c.cause)}</li>`).join('')
  const expectations = j.expectations.map((x) => `<li class="${x.met ? 'ok' : 'bad'}">${x.met ? 'met' : 'NOT met'}: <b>${esc(x.name)}</b>: ${esc(x.detail)}</li>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(j.title)}: outage-lab report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}.ok{color:#176117}.bad{color:#a11}
ol,ul{padding-left:20px}</style></head><body>
<h1>${esc(j.title)}</h1>
<p class="verdict">${esc(verdictLine(j).replace(/\*\*/g, ''))}</p>
<p>Backend ${esc(j.backend)}, thread limit enforced by ${esc(j.threadLimitEnforcement)}, seed ${esc(j.seed)}.</p>
<h2>Cascade</h2><ul class="cascade">${cascade || '<li>No service was impacted.</li>'}</ul>
<h2>Client success ratio</h2>${successChart(j, rows)}
<h2>Services</h2><table><tr><th>service</th><th>impacted</th><th>onset</th><th>recovered</th><th>availability</th><th>p99</th></tr>${services}</table>
<h2>Expectations</h2><ul>${expectations || '<li>None were stated.</li>'}</ul>
</body></html>
`
}
