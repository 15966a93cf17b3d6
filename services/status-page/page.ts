// The public page, rendered on the server: readable with JavaScript off, in a text browser, or by
// curl. Everything that came from a poster is escaped.
import type { ComponentState } from './components.js'
import type { Update } from './updates.js'

/** The page shows this many of the newest updates; /api/status has them all. */
export const PAGE_UPDATES = 100

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c])
}

const LABELS = { operational: 'Operating normally', degraded: 'Degraded', outage: 'Service disruption' } as const

const STYLE = `body{font:16px/1.45 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#16191f}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d5dbdb}
.operational{color:#1d8102}.degraded{color:#b7740f}.outage{color:#d13212}
ol{list-style:none;padding:0}li{border-left:4px solid #d5dbdb;padding:.3rem .8rem;margin:.8rem 0}
li.degraded{border-color:#b7740f}li.outage{border-color:#d13212}time,.meta{color:#545b64;font-size:.9em}
p.message{white-space:pre-wrap;margin:.2rem 0}`

export function renderPage(input: { title: string; components: ComponentState[]; updates: readonly Update[]; nowMs: number; refreshSeconds: number }): string {
  const newest = input.updates.slice(-PAGE_UPDATES).reverse()
  const rows = input.components
    .map(
      (c) => `<tr><th scope="row">${escapeHtml(c.title)}</th><td class="${c.status}">${LABELS[c.status]}</td><td>${c.since ? timeTag(c.since) : ''}</td></tr>`,
    )
    .join('\n')
  const items = newest
    .map((u) => {
      const about = u.component ? `${escapeHtml(u.component)}${u.status ? `: ${LABELS[u.status]}` : ''}` : 'general'
      return `<li class="${u.status ?? ''}" id="update-${u.id}">${timeTag(u.postedAt)} <span class="meta">${about}</span><p class="message">${escapeHtml(u.message)}</p></li>`
    })
    .join('\n')
  const omitted = input.updates.length - newest.length
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${input.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${input.refreshSeconds}">\n` : ''}<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">Page generated at ${timeTag(new Date(input.nowMs).toISOString())}. JSON: <a href="/api/status">/api/status</a></p>
<h2>Current status</h2>
<table>
<thead><tr><th scope="col">Service</th><th scope="col">Status</th><th scope="col">Since</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Updates</h2>
${newest.length === 0 ? '<p>No updates posted.</p>' : `<ol>\n${items}\n</ol>`}
${omitted > 0 ? `<p class="meta">${omitted} older updates in <a href="/api/status">/api/status</a>.</p>` : ''}
</body>
</html>
`
}

function timeTag(iso: string): string {
  const text = iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
    .replace(/Z$/, ' UTC')
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`
}
