// The cascade as a dependency graph, drawn as inline SVG (no script needed to see it): one node per
// customer-facing service, columns by depth in the dependency graph (Kinesis, what calls Kinesis,
// what calls those), the customer services (the user's own) in a column of their own on the right
// with an edge from each lab service they called, coloured by impact, labelled with onset and
// recovery; the edge a break came through is drawn bold with how long the break took to travel it.
import { DEPENDENCIES } from '../analyze/cascade.js'
import type { CascadeEntry, Journal, ServiceResult } from '../analyze/journal.js'
import { escHtml as esc, sec, delta, pct } from './format.js'
import { triggerOf } from './published.js'

/** Top-to-bottom order inside a column, chosen so no two edges cross. */
const LAYOUT_ORDER = ['kinesis', 'cloudwatch', 'eventbridge', 'cognito', 'lambda', 'autoscaler', 'status-page']
const NODE_W = 250
const NODE_H = 90
const ROW_GAP = 20
const COL_X = [200, 520, 840, 1160]
/** The lab's services take the first three columns; customer services the fourth. */
const LAB_COLUMNS = 3
const TOP = 16

export type Impact = 'down' | 'recovered' | 'healthy' | 'idle'

export const IMPACT_STYLE: Record<Impact, { fill: string; stroke: string; text: string }> = {
  down: { fill: '#f9d4d4', stroke: '#c62828', text: 'impacted, not recovered' },
  recovered: { fill: '#fde3bf', stroke: '#d97a00', text: 'impacted, recovered' },
  healthy: { fill: '#d9efd9', stroke: '#2e7d32', text: 'not impacted' },
  idle: { fill: '#eeeeee', stroke: '#9e9e9e', text: 'no customer traffic measured' },
}

export function impactOf(s: ServiceResult | undefined): Impact {
  if (!s) return 'idle'
  if (s.impacted) return s.recoveredMs === null ? 'down' : 'recovered'
  return s.availability === null && s.calls === 0 ? 'idle' : 'healthy'
}

/** What a node depends on: the catalogue's graph, or what a customer service called (journal.customers). */
function dependenciesOf(j: Journal, service: string): string[] {
  return j.customers?.[service]?.dependsOn ?? (DEPENDENCIES as Record<string, string[]>)[service] ?? []
}

function depth(service: string, seen = new Set<string>()): number {
  const deps = (DEPENDENCIES as Record<string, string[]>)[service] ?? []
  if (deps.length === 0 || seen.has(service)) return 0
  seen.add(service)
  return 1 + Math.max(...deps.map((d) => depth(d, seen)))
}

interface Placed {
  service: string
  x: number
  y: number
}

function layout(services: string[], customers: ReadonlySet<string>): { placed: Map<string, Placed>; height: number; width: number } {
  const ordered = [...services].sort((a, b) => (LAYOUT_ORDER.indexOf(a) + 1 || 99) - (LAYOUT_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b))
  const cols = new Map<number, string[]>()
  for (const s of ordered) {
    const d = customers.has(s) ? LAB_COLUMNS : Math.min(depth(s), LAB_COLUMNS - 1)
    if (!cols.has(d)) cols.set(d, [])
    cols.get(d)!.push(s)
  }
  const rows = Math.max(1, ...[...cols.values()].map((c) => c.length))
  const height = TOP * 2 + rows * NODE_H + (rows - 1) * ROW_GAP
  const placed = new Map<string, Placed>()
  for (const [d, col] of cols) {
    const colHeight = col.length * NODE_H + (col.length - 1) * ROW_GAP
    const y0 = (height - colHeight) / 2
    col.forEach((s, i) => placed.set(s, { service: s, x: COL_X[d], y: y0 + i * (NODE_H + ROW_GAP) }))
  }
  const width = COL_X[cols.has(LAB_COLUMNS) ? LAB_COLUMNS : LAB_COLUMNS - 1] + NODE_W + 10
  return { placed, height, width }
}

function edgePath(x1: number, y1: number, x2: number, y2: number): string {
  const mx = (x1 + x2) / 2
  return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}`
}

function nodeLines(name: string, s: ServiceResult | undefined, c: CascadeEntry | undefined): string[] {
  if (!s) return [name, 'not measured']
  const lines = [name]
  if (s.impacted) {
    lines.push(
      `onset ${sec(s.onsetMs)}${c ? (c.cause === 'trigger' ? ', by the trigger' : c.cause === 'unexplained' ? ', cause unclear' : `, via ${c.cause}`) : ''}`,
    )
    lines.push(s.recoveredMs === null ? 'NOT recovered by the end' : `recovered ${sec(s.recoveredMs)}`)
    lines.push(s.recoveredMs === null ? `down ${sec(s.impactMs)}+` : `down ${sec(s.impactMs)}`)
  } else {
    lines.push('no impact')
    lines.push(s.availability === null ? 'no calls measured' : `${pct(s.availability)} available`)
  }
  return lines
}

/** The graph as SVG, plus the ordered list of the cascade (what a screen reader and a test read). */
export function cascadeGraph(j: Journal): string {
  const services = Object.keys(j.services ?? {})
  if (services.length === 0) return '<p>No services were measured.</p>'
  const customers = new Set(Object.keys(j.customers ?? {}))
  for (const c of j.experiment?.topology?.customers ?? []) customers.add(c.name)
  const { placed, height, width } = layout(services, customers)
  const cascadeBy = new Map(j.cascade.map((c, i) => [c.service, { ...c, rank: i + 1 }]))
  const edges: string[] = []
  const labels: string[] = []
  for (const s of services) {
    const to = placed.get(s)!
    const entry = cascadeBy.get(s)
    for (const d of dependenciesOf(j, s)) {
      const from = placed.get(d)
      if (!from) continue
      const cause = entry?.cause === d
      const also = !cause && (entry?.causes ?? []).includes(d)
      const cls = cause ? 'edge cause' : also ? 'edge also' : 'edge'
      const x1 = from.x + NODE_W
      const y1 = from.y + NODE_H / 2
      const x2 = to.x
      const y2 = to.y + NODE_H / 2
      const calls = j.customers?.[s]?.calls[d]
      const how = calls ? ` (it called ${esc(d)} ${calls.calls} times, ${calls.serverErrors} server errors)` : ''
      edges.push(
        `<path class="${cls}" data-from="${esc(d)}" data-to="${esc(s)}" d="${edgePath(x1, y1, x2, y2)}" marker-end="url(#arrow-${cause ? 'cause' : also ? 'also' : 'dep'})"><title>${esc(s)} depends on ${esc(d)}${how}${cause ? `; it broke ${delta(entry!.lagMs)} after ${esc(d)}` : ''}</title></path>`,
      )
      if (cause) labels.push(`<text class="edge-label" x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle">${esc(delta(entry!.lagMs))}</text>`)
    }
  }
  // The trigger, left of whatever it hit first.
  const trigger = triggerOf(j)
  let triggerBox = ''
  const hit = j.cascade.filter((c) => c.cause === 'trigger')
  if (trigger) {
    const ty = height / 2 - 45
    const first = hit[0] ? `<text x="18" y="${ty + 76}" class="edge-label">${esc(hit[0].service)} ${esc(delta(hit[0].onsetMs - trigger.atMs))}</text>` : ''
    triggerBox = `<g class="trigger"><rect x="8" y="${ty}" width="160" height="90" rx="8" fill="#fff" stroke="#333" stroke-dasharray="5 3"/><text x="18" y="${ty + 22}" font-weight="600">trigger</text><text x="18" y="${ty + 41}">${esc(trigger.name)}</text><text x="18" y="${ty + 58}">at ${esc(sec(trigger.atMs))}</text>${first}</g>`
    for (const c of hit) {
      const to = placed.get(c.service)
      if (to)
        edges.push(
          `<path class="edge cause" data-from="trigger" data-to="${esc(c.service)}" d="${edgePath(168, ty + 45, to.x, to.y + NODE_H / 2)}" marker-end="url(#arrow-cause)"/>`,
        )
    }
  }
  // Impacted nodes first, in cascade order: the DOM order is the order of the cascade.
  const nodeOrder = [...services].sort((a, b) => (cascadeBy.get(a)?.rank ?? 99) - (cascadeBy.get(b)?.rank ?? 99))
  const nodes = nodeOrder.map((s) => {
    const p = placed.get(s)!
    const r = j.services[s]
    const c = cascadeBy.get(s)
    const impact = impactOf(r)
    const st = IMPACT_STYLE[impact]
    const lines = nodeLines(s, r, c)
    const text = lines
      .map((l, i) => `<text x="${p.x + (c ? 40 : 14)}" y="${p.y + 23 + i * 19}"${i === 0 ? ' class="node-name"' : ''}>${esc(l)}</text>`)
      .join('')
    const badge = c
      ? `<circle cx="${p.x + 20}" cy="${p.y + 18}" r="12" fill="${st.stroke}"/><text class="rank" x="${p.x + 20}" y="${p.y + 22.5}" text-anchor="middle">${c.rank}</text>`
      : ''
    const attrs = `class="node ${impact}${customers.has(s) ? ' customer' : ''}" data-service="${esc(s)}" data-impacted="${r?.impacted ? 'true' : 'false'}"${customers.has(s) ? ' data-customer="true"' : ''}${c ? ` data-rank="${c.rank}" data-onset-ms="${c.onsetMs}"` : ''}`
    return `<g ${attrs}><title>${esc(lines.join('\n'))}</title><rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="8" fill="${st.fill}" stroke="${st.stroke}" stroke-width="2"/>${badge}${text}</g>`
  })
  const arrow = (id: string, color: string) =>
    `<marker id="arrow-${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`
  const svg = `<svg class="cascade-graph" viewBox="0 0 ${width} ${height}" role="img" aria-label="cascade of impact across the services' dependencies">
<defs>${arrow('cause', '#c62828')}${arrow('also', '#d97a00')}${arrow('dep', '#9e9e9e')}</defs>
${edges.join('\n')}
${labels.join('\n')}
${triggerBox}
${nodes.join('\n')}
</svg>`
  const order = j.cascade.length
    ? `<ol id="cascade-order" class="cascade-order">${j.cascade
        .map((c) => {
          const s = j.services[c.service]
          const rec = !s ? '' : s.recoveredMs === null ? ', never recovered' : `, recovered at ${sec(s.recoveredMs)}`
          const why =
            c.cause === 'trigger'
              ? 'hit by the trigger'
              : c.cause === 'unexplained'
                ? 'no impacted dependency at that moment'
                : `through ${c.cause}, ${delta(c.lagMs)} after it`
          return `<li data-service="${esc(c.service)}"><b>${esc(c.service)}</b> at ${esc(sec(c.onsetMs))} (${esc(why)})${esc(rec)}</li>`
        })
        .join('')}</ol>`
    : '<p id="cascade-order" class="cascade-order">No service was impacted.</p>'
  const legend = `<p class="legend">${(Object.keys(IMPACT_STYLE) as Impact[])
    .map((k) => `<span><i style="background:${IMPACT_STYLE[k].fill};border-color:${IMPACT_STYLE[k].stroke}"></i>${IMPACT_STYLE[k].text}</span>`)
    .join(' ')} <span><i class="line cause"></i>the dependency the break came through (time it took)</span> <span><i class="line"></i>dependency</span></p>`
  return `<figure class="cascade">${svg}<figcaption>${legend}${order}</figcaption></figure>`
}
