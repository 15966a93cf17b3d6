// The frame both HTML pages share: one self-contained file (styles, uPlot and the data inlined;
// nothing fetched at view time), readable from a laptop screen up.
import { clientScripts, uplotAssets } from './client.js'
import { escHtml as esc, jsonForScript } from './format.js'

const CSS = `
:root{--ok:#2e7d32;--bad:#c62828;--warn:#d97a00;--muted:#666;--line:#ddd}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1d;background:#fff}
main{max-width:1240px;margin:0 auto;padding:18px 20px 40px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:30px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 2px}
.meta{color:var(--muted);margin:0 0 14px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:10px;margin:8px 0}
.card{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:6px;padding:8px 12px;background:#fafafa}
.card .k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.card .v{font-size:22px;font-weight:650;margin:2px 0}
.card .d{font-size:12.5px;color:#333}
.card.ok{border-left-color:var(--ok)}.card.bad{border-left-color:var(--bad)}.card.warn{border-left-color:var(--warn)}
.note{background:#fff4e5;border:1px solid #f0c36d;border-radius:6px;padding:6px 10px;margin:8px 0}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
td,th{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.muted{color:var(--muted)}
ul.checks{padding-left:18px;margin:4px 0}ul.checks li{margin:2px 0}
figure{margin:0}
svg.cascade-graph{width:100%;height:auto;max-height:440px;font:13px system-ui,sans-serif}
svg.cascade-graph .node-name{font-weight:650;font-size:14px}
svg.cascade-graph .rank{fill:#fff;font-weight:700;font-size:12px}
svg.cascade-graph .edge{fill:none;stroke:#9e9e9e;stroke-width:1.5}
svg.cascade-graph .edge.also{stroke:#d97a00;stroke-width:2}
svg.cascade-graph .edge.cause{stroke:#c62828;stroke-width:3.5}
svg.cascade-graph .edge-label{fill:#c62828;font-weight:600;font-size:12px;paint-order:stroke;stroke:#fff;stroke-width:4px}
.legend{font-size:12.5px;color:#333;display:flex;flex-wrap:wrap;gap:6px 16px;margin:6px 0}
.legend i{display:inline-block;width:14px;height:11px;border:2px solid;border-radius:3px;margin-right:5px;vertical-align:-1px}
.legend i.line{border:0;border-top:2px solid #9e9e9e;border-radius:0;height:0;width:22px;vertical-align:3px}
.legend i.line.cause{border-top:4px solid #c62828}
ol.cascade-order{margin:6px 0;padding-left:22px}
.chart{margin:4px 0 18px}.chart h3{margin-bottom:0}.chart p.note2{margin:0 0 4px;color:var(--muted);font-size:12.5px}
.plot{width:100%;min-height:120px}
.uplot{font-family:system-ui,sans-serif}.u-legend{font-size:12px}.u-legend .u-marker{width:12px;height:3px}
.matrix td{min-width:96px}.matrix td.cell-down{background:#f9d4d4}.matrix td.cell-recovered{background:#fde3bf}.matrix td.cell-healthy{background:#d9efd9}.matrix td.cell-idle{background:#eee}
.scroll{overflow-x:auto;max-width:100%}
details{margin:8px 0}summary{cursor:pointer;color:#333}
footer{margin-top:30px;color:var(--muted);font-size:12px}
code{font-size:12.5px;background:#f3f3f3;padding:0 3px;border-radius:3px}
`

export function page(o: { title: string; body: string; data: unknown }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<style>${uplotAssets().css}</style>
<style>${CSS}</style>
</head><body><main>
${o.body}
</main>
<script type="application/json" id="report-data">${jsonForScript(o.data)}</script>
${clientScripts()}
</body></html>
`
}

/** A chart's place on the page: the browser draws into it from the data block. */
export function chartSlot(id: string, title: string, note: string): string {
  return `<div class="chart"><h3>${esc(title)}</h3><p class="note2">${esc(note)}</p><div class="plot" data-panel="${esc(id)}"></div></div>`
}
