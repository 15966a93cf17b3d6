// The few lines of script the pages run in the browser: draw the charts from the JSON embedded in
// the page with the inlined uPlot, on one shared time axis (same plot width and axis sizes, synced
// cursors), every action a labelled vertical line. The function is embedded by its source text
// (`clientScript()`), so it must not use anything from outside its own body.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/* eslint-disable @typescript-eslint/no-explicit-any */
export function clientMain(data: any, uPlot: any, doc: any, win: any): void {
  const AXIS = 76
  const state: any = { plots: [], errors: [] as string[] }
  win.__outageLab = state
  const pr = win.devicePixelRatio || 1
  const num = (v: number) => {
    const a = Math.abs(v)
    if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
    if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`
    return `${+v.toFixed(a < 10 && a !== Math.round(a) ? 2 : 0)}`
  }
  const bytes = (v: number) => {
    const a = Math.abs(v)
    if (a >= 1024 * 1024) return `${+(v / 1024 / 1024).toFixed(1)} MiB`
    if (a >= 1024) return `${+(v / 1024).toFixed(0)} KiB`
    return `${v} B`
  }
  const formatter = (kind: string, states?: string[]) => (_u: any, splits: number[]) =>
    splits.map((v) => {
      if (v === null || v === undefined) return ''
      if (kind === 'ratio') return `${Math.round(v * 100)}%`
      if (kind === 'bytes') return bytes(v)
      if (kind === 'states') return states && Number.isInteger(v) && states[v] !== undefined ? states[v].replace('INSUFFICIENT_DATA', 'INSUFF._DATA') : ''
      if (kind === 'log' || kind === 'ms') return v >= 1000 ? `${+(v / 1000).toFixed(1)} s` : `${+v.toFixed(0)} ms`
      return num(v)
    })
  const zeroBased = (_u: any, _min: number, max: number) => [0, max > 0 ? max * 1.08 : 1]
  const scaleFor = (kind: string, states?: string[]) => {
    if (kind === 'ratio') return { range: [0, 1.04] }
    if (kind === 'log') return { distr: 3, log: 10 }
    if (kind === 'states') return { range: [-0.3, (states?.length ?? 3) - 0.5] }
    return { range: zeroBased }
  }

  const widthOf = (el: any) => Math.max(480, el.clientWidth - 4)
  const x0 = data.x[0]
  const x1 = data.x[data.x.length - 1]
  const markerText = (m: any) => (m.phase === 'rollbacks' ? `${m.label} (rollback)` : m.label)

  // Action labels sit in a band above each plot, in rows so neighbours never overwrite each other;
  // the rows are laid out once (on an estimate of the plot's width) so every chart shows them alike.
  const ROW_PX = 14
  const layoutRows = (markers: any[], plotWidth: number) => {
    const probe = doc.createElement('canvas').getContext('2d')
    probe.font = '11px system-ui, sans-serif'
    const ends: number[] = []
    return markers.map((m: any) => {
      const x = ((m.atMs / 1000 - x0) / Math.max(1e-9, x1 - x0)) * plotWidth
      const w = probe.measureText(markerText(m)).width + 12
      let row = 0
      while (ends[row] !== undefined && ends[row] > x) row++
      ends[row] = x + w
      return row
    })
  }
  const markers: any[] = (data.markers || []).filter((m: any) => m.atMs / 1000 >= x0 && m.atMs / 1000 <= x1)
  const firstPlot = doc.querySelector('[data-panel], [data-lane]')
  const rows = layoutRows(markers, (firstPlot ? widthOf(firstPlot) : 1000) - 2 * (AXIS + 30))
  const bandPx = markers.length ? (Math.max(...rows) + 1) * ROW_PX + 4 : 8

  const markersPlugin = () => ({
    hooks: {
      draw: [
        (u: any) => {
          const ctx = u.ctx
          const { left, top, width, height } = u.bbox
          ctx.save()
          ctx.font = `${11 * pr}px system-ui, sans-serif`
          ctx.textBaseline = 'middle'
          markers.forEach((m: any, i: number) => {
            const x = Math.round(u.valToPos(m.atMs / 1000, 'x', true))
            if (x < left - 1 || x > left + width + 1) return
            const color = m.color || (m.phase === 'rollbacks' ? '#6a1b9a' : '#333333')
            const ly = top - bandPx * pr + (2 + rows[i] * ROW_PX) * pr
            ctx.strokeStyle = color
            ctx.lineWidth = pr
            ctx.setLineDash([5 * pr, 4 * pr])
            ctx.beginPath()
            ctx.moveTo(x, ly)
            ctx.lineTo(x, top + height)
            ctx.stroke()
            ctx.setLineDash([])
            const label = markerText(m)
            const w = ctx.measureText(label).width + 8 * pr
            const lx = Math.min(x + 1 * pr, left + width - w)
            ctx.fillStyle = 'rgba(255,255,255,0.9)'
            ctx.fillRect(lx, ly, w, 13 * pr)
            ctx.fillStyle = color
            ctx.fillText(label, lx + 4 * pr, ly + 6.5 * pr)
          })
          ctx.restore()
        },
      ],
    },
  })
  const xAxis = (label?: string) => ({ label, values: (_u: any, s: number[]) => s.map((v) => `${v} s`), size: 30, labelSize: 20 })

  const makePlot = (panel: any, el: any) => {
    const hasY2 = panel.series.some((s: any) => s.axis === 2)
    const series: any[] = [{ label: 't', value: (_u: any, v: number) => (v === null ? '-' : `${v.toFixed(2)} s`) }]
    for (const s of panel.series) {
      const kind = s.axis === 2 ? panel.kind2 || 'linear' : panel.kind
      const fmt = formatter(kind, panel.states)
      series.push({
        label: s.label,
        stroke: s.color,
        width: s.width ?? 1.5,
        dash: s.dash,
        scale: s.axis === 2 ? 'y2' : 'y',
        spanGaps: false,
        points: { show: false },
        paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        value: (u: any, v: number) =>
          v === null || v === undefined ? '-' : panel.kind === 'states' && s.axis !== 2 ? panel.states[Math.round(v)] : fmt(u, [v])[0],
      })
    }
    const scales: any = { x: { time: false }, y: scaleFor(panel.kind, panel.states) }
    if (hasY2) scales.y2 = scaleFor(panel.kind2 || 'linear')
    const axes: any[] = [
      xAxis(),
      {
        scale: 'y',
        label: panel.unit,
        size: AXIS,
        values: formatter(panel.kind, panel.states),
        splits: panel.kind === 'states' ? () => panel.states.map((_: string, i: number) => i) : undefined,
      },
      hasY2
        ? { scale: 'y2', side: 1, label: panel.unit2 || '', size: AXIS, grid: { show: false }, values: formatter(panel.kind2 || 'linear') }
        : { scale: 'y', side: 1, label: '', size: AXIS, grid: { show: false }, ticks: { show: false }, values: (_u: any, s: number[]) => s.map(() => '') },
    ]
    const opts = {
      width: widthOf(el),
      height: (panel.kind === 'states' ? 150 : panel.id.startsWith('buffer') ? 190 : 230) + bandPx,
      padding: [bandPx, null, null, null],
      scales,
      axes,
      series,
      cursor: { sync: { key: 'outage-lab' }, drag: { x: true, y: false } },
      legend: { live: true },
      plugins: [markersPlugin()],
    }
    const cols = [data.x, ...panel.series.map((s: any) => s.values)]
    const plot = new uPlot(opts, cols, el)
    state.plots.push({ id: panel.id, plot, el })
    return plot
  }

  // The published timeline of 2020 (top lane) against what this run measured (bottom lane).
  const makeLane = (lane: any, el: any) => {
    const inside = (t: number | null) => t !== null && t / 1000 >= x0 && t / 1000 <= x1
    const draw = (u: any) => {
      const ctx = u.ctx
      const { left, top, width, height } = u.bbox
      const yPub = top + height * 0.22
      const yMeas = top + height * 0.56
      ctx.save()
      ctx.font = `${11 * pr}px system-ui, sans-serif`
      ctx.textBaseline = 'middle'
      ctx.fillStyle = '#555'
      ctx.fillText('published (2020, PST)', left + 4 * pr, top + 8 * pr)
      ctx.fillText('measured in this run', left + 4 * pr, yMeas - 24 * pr)
      ctx.strokeStyle = '#bbb'
      ctx.lineWidth = pr
      for (const y of [yPub, yMeas]) {
        ctx.beginPath()
        ctx.moveTo(left, y)
        ctx.lineTo(left + width, y)
        ctx.stroke()
      }
      const pos = (t: number) => u.valToPos(t / 1000, 'x', true)
      const pubEnds: number[] = []
      const measEnds: number[] = []
      const label = (text: string, x: number, y: number, ends: number[], color: string, below: boolean) => {
        const w = ctx.measureText(text).width + 6 * pr
        let row = 0
        while (ends[row] !== undefined && ends[row] > x - w / 2) row++
        ends[row] = x + w / 2
        const ly = below ? y + (12 + row * 13) * pr : y - (12 + row * 13) * pr
        const lx = Math.max(left, Math.min(x - w / 2, left + width - w))
        ctx.fillStyle = 'rgba(255,255,255,0.9)'
        ctx.fillRect(lx, ly - 6 * pr, w, 12 * pr)
        ctx.fillStyle = color
        ctx.fillText(text, lx + 3 * pr, ly)
      }
      let after = 0
      for (const e of lane.entries) {
        const color = e.kind === 'recovery' ? '#2e7d32' : e.kind === 'onset' ? '#c62828' : '#333'
        if (!inside(e.mappedMs)) {
          if (e.mappedMs / 1000 > x1) after++
          continue
        }
        const x = pos(e.mappedMs)
        ctx.fillStyle = color
        ctx.beginPath()
        ctx.moveTo(x, yPub - 6 * pr)
        ctx.lineTo(x + 5 * pr, yPub)
        ctx.lineTo(x, yPub + 6 * pr)
        ctx.lineTo(x - 5 * pr, yPub)
        ctx.fill()
        label(e.pst, x, yPub, pubEnds, color, true)
        for (const m of e.measured) {
          if (!inside(m.atMs)) continue
          const mx = pos(m.atMs)
          ctx.strokeStyle = color
          ctx.globalAlpha = 0.45
          ctx.setLineDash([3 * pr, 3 * pr])
          ctx.beginPath()
          ctx.moveTo(x, yPub + 6 * pr)
          ctx.lineTo(mx, yMeas - 5 * pr)
          ctx.stroke()
          ctx.setLineDash([])
          ctx.globalAlpha = 1
        }
      }
      for (const e of lane.entries) {
        const color = e.kind === 'recovery' ? '#2e7d32' : e.kind === 'onset' ? '#c62828' : '#333'
        for (const m of e.measured) {
          if (!inside(m.atMs)) continue
          const mx = pos(m.atMs)
          ctx.fillStyle = color
          ctx.beginPath()
          ctx.arc(mx, yMeas, 5 * pr, 0, Math.PI * 2)
          ctx.fill()
          label(m.short || m.text, mx, yMeas, measEnds, color, true)
        }
      }
      if (after) {
        ctx.fillStyle = '#555'
        const t = `${after} published moment${after > 1 ? 's' : ''} after the end of the run →`
        ctx.fillText(t, left + width - ctx.measureText(t).width - 4 * pr, top + 8 * pr)
      }
      ctx.restore()
    }
    const opts = {
      width: widthOf(el),
      height: 300 + bandPx,
      padding: [bandPx, null, null, null],
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [
        xAxis('seconds from the start of the method'),
        { scale: 'y', label: '', size: AXIS, values: (_u: any, s: number[]) => s.map(() => ''), grid: { show: false }, ticks: { show: false } },
        { scale: 'y', side: 1, label: '', size: AXIS, values: (_u: any, s: number[]) => s.map(() => ''), grid: { show: false }, ticks: { show: false } },
      ],
      series: [{}, { label: 'published', stroke: 'transparent', points: { show: false } }],
      legend: { show: false },
      cursor: { sync: { key: 'outage-lab' }, drag: { x: false, y: false } },
      hooks: { draw: [draw] },
      plugins: [markersPlugin()],
    }
    const plot = new uPlot(opts, [data.x, data.x.map(() => null)], el)
    state.plots.push({ id: 'published', plot, el })
  }

  // The cascade unfolding: one row per service, a bar from its onset to its recovery.
  const makeImpact = (rowsData: any[], el: any) => {
    const n = rowsData.length
    const yOf = (i: number) => n - i - 0.5
    const draw = (u: any) => {
      const ctx = u.ctx
      const { left, width } = u.bbox
      ctx.save()
      ctx.font = `${11 * pr}px system-ui, sans-serif`
      ctx.textBaseline = 'middle'
      rowsData.forEach((r: any, i: number) => {
        const yc = u.valToPos(yOf(i), 'y', true)
        const h = Math.abs(u.valToPos(0, 'y', true) - u.valToPos(1, 'y', true)) * 0.62
        ctx.fillStyle = '#f1f1f1'
        ctx.fillRect(left, yc - h / 2, width, h)
        if (!r.impacted || r.onsetMs === null) {
          ctx.fillStyle = r.calls ? '#2e7d32' : '#9e9e9e'
          ctx.fillText(r.calls ? 'no impact' : 'no calls measured', left + 6 * pr, yc)
          return
        }
        const end = r.recoveredMs === null ? x1 * 1000 : r.recoveredMs
        const a = Math.max(left, u.valToPos(r.onsetMs / 1000, 'x', true))
        const b = Math.min(left + width, u.valToPos(end / 1000, 'x', true))
        ctx.fillStyle = r.recoveredMs === null ? '#c62828' : '#e08a00'
        ctx.fillRect(a, yc - h / 2, Math.max(2 * pr, b - a), h)
        const text = `${r.rank}. ${r.service} ${((end - r.onsetMs) / 1000).toFixed(1)} s${r.recoveredMs === null ? '+ (not recovered)' : ''}${r.cause && r.cause !== 'trigger' ? `, via ${r.cause}` : ''}`
        const w = ctx.measureText(text).width
        ctx.fillStyle = w + 10 * pr < b - a ? '#fff' : '#333'
        ctx.fillText(text, w + 10 * pr < b - a ? a + 5 * pr : Math.min(b + 5 * pr, left + width - w), yc)
      })
      ctx.restore()
    }
    const opts = {
      width: widthOf(el),
      height: n * 28 + 40 + bandPx,
      padding: [bandPx, null, null, null],
      scales: { x: { time: false }, y: { range: [0, n] } },
      axes: [
        xAxis(),
        {
          scale: 'y',
          label: '',
          size: AXIS,
          splits: () => rowsData.map((_: any, i: number) => yOf(i)),
          values: () => rowsData.map((r: any) => r.service),
          grid: { show: false },
          ticks: { show: false },
        },
        { scale: 'y', side: 1, label: '', size: AXIS, values: (_u: any, sp: number[]) => sp.map(() => ''), grid: { show: false }, ticks: { show: false } },
      ],
      series: [{}, { label: 'impact', stroke: 'transparent', points: { show: false } }],
      legend: { show: false },
      cursor: { sync: { key: 'outage-lab' }, drag: { x: false, y: false } },
      hooks: { draw: [draw] },
      plugins: [markersPlugin()],
    }
    const plot = new uPlot(opts, [data.x, data.x.map(() => null)], el)
    state.plots.push({ id: 'impact', plot, el })
  }

  try {
    for (const el of doc.querySelectorAll('[data-panel]')) {
      const panel = data.panels.find((p: any) => p.id === el.getAttribute('data-panel'))
      if (panel) makePlot(panel, el)
    }
    const impactEl = doc.querySelector('[data-impact]')
    if (impactEl && data.impact) makeImpact(data.impact, impactEl)
    const laneEl = doc.querySelector('[data-lane]')
    if (laneEl && data.lane) makeLane(data.lane, laneEl)
  } catch (err: any) {
    state.errors.push(String(err && err.stack ? err.stack : err))
    throw err
  }
  let pending: any = null
  win.addEventListener('resize', () => {
    if (pending) win.clearTimeout(pending)
    pending = win.setTimeout(() => {
      for (const p of state.plots) p.plot.setSize({ width: widthOf(p.el), height: p.plot.height })
    }, 100)
  })
  state.drawn = state.plots.length
  doc.documentElement.setAttribute('data-charts-drawn', String(state.plots.length))
}

const requireHere = createRequire(import.meta.url)
let assets: { js: string; css: string } | undefined

/** uPlot's script and stylesheet, read once from the installed package, for inlining. */
export function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const dist = path.dirname(requireHere.resolve('uplot'))
    assets = { js: fs.readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'), css: fs.readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8') }
  }
  return assets
}

/** The page's scripts: uPlot, then the drawing code run on the data block `#report-data`. */
export function clientScripts(): string {
  const { js } = uplotAssets()
  const main = `(${clientMain.toString()})(JSON.parse(document.getElementById('report-data').textContent), uPlot, document, window);`
  return `<script>${js.replace(/<\/script/gi, '<\\/script')}</script>\n<script>${main}</script>`
}
