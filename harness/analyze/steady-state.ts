// Probes judged on the timeline: the steady-state hypothesis before and after the method, and the
// method's own probes at their offsets. A probe looks back over its window, (end - window, end].
import type { Experiment, Probe } from '../experiment/types.js'
import type { ProbeResult, SteadyStateResult } from './journal.js'
import { pointsInEffect, type SeriesIndex } from './series.js'

export function evaluateProbe(probe: Probe, index: SeriesIndex, endMs: number): ProbeResult {
  const fromMs = endMs - probe.windowMs
  const base = { name: probe.name, service: probe.service, tolerance: probe.tolerance, fromMs, toMs: endMs }
  const { value, from } = measure(probe, index, fromMs, endMs)
  if (value === null) return { ...base, met: false, value: null, detail: `no data for ${what(probe)} of ${probe.service} in the window` }
  const { min, max } = probe.tolerance
  const met = (min === undefined || value >= min) && (max === undefined || value <= max)
  const bounds = [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ')
  // A missed min or max over a fleet names the members that missed it.
  const whose = met ? '' : whoMissed(probe, from)
  return { ...base, met, value, detail: `${what(probe)} of ${probe.service} was ${round(value)}${whose}, expected ${bounds}` }
}

export function evaluateHypothesis(hypothesis: Experiment['steadyStateHypothesis'], index: SeriesIndex, endMs: number): SteadyStateResult {
  const probes = (hypothesis?.probes ?? []).map((p) => evaluateProbe(p, index, endMs))
  return { met: probes.every((p) => p.met), probes }
}

/** The method's probes, each at its offset. */
export function evaluateMethodProbes(experiment: Pick<Experiment, 'method'>, index: SeriesIndex): ProbeResult[] {
  return experiment.method.filter((a): a is Probe => a.type === 'probe').map((p) => evaluateProbe(p, index, p.atMs ?? 0))
}

function what(p: Probe): string {
  if (p.measure !== 'metric') return p.measure
  const labels = Object.entries(p.metric!.labels).map(([k, v]) => `${k}="${v}"`)
  return `${p.aggregate} of ${p.metric!.name}${labels.length ? `{${labels.join(',')}}` : ''}`
}

interface Measured {
  value: number | null
  /** For min and max: the series that reached the extreme, each with when it left it (undefined: it held it to the window's end). */
  from?: { service: string; untilMs?: number }[]
}

function measure(p: Probe, index: SeriesIndex, fromMs: number, toMs: number): Measured {
  return p.measure === 'metric' ? measureMetric(p, index, fromMs, toMs) : { value: measureClient(p, index, fromMs, toMs) }
}

function measureClient(p: Probe, index: SeriesIndex, fromMs: number, toMs: number): number | null {
  const inWindow = (metric: string) => index.points(p.service, metric).filter((pt) => pt.atMs > fromMs && pt.atMs <= toMs)
  if (p.measure === 'successRatio') {
    // Weighted by the calls each sample saw: a quiet second does not count as much as a busy one.
    const ratios = inWindow('client.success_ratio')
    const calls = new Map(inWindow('client.calls').map((c) => [c.atMs, c.value ?? 0]))
    let ok = 0
    let n = 0
    for (const r of ratios) {
      if (r.value === null) continue
      const w = calls.get(r.atMs) ?? 1
      ok += r.value * w
      n += w
    }
    return n > 0 ? ok / n : null
  }
  if (p.measure === 'p99Ms') {
    const values = inWindow('client.p99_ms').flatMap((pt) => (pt.value === null ? [] : [pt.value]))
    return values.length ? values.reduce((a, b) => Math.max(a, b)) : null
  }
  return null
}

function measureMetric(p: Probe, index: SeriesIndex, fromMs: number, toMs: number): Measured {
  const inWindow: { service: string; pts: { atMs: number; value: number }[] }[] = []
  for (const s of index.matching(p.service, p.metric!)) {
    const pts = pointsInEffect(s.points, fromMs, toMs).filter((pt) => pt.value !== null) as { atMs: number; value: number }[]
    if (pts.length) inWindow.push({ service: s.service, pts })
  }
  if (inWindow.length === 0) return { value: null }
  const values = inWindow.flatMap((s) => s.pts.map((pt) => pt.value))
  const extreme = (v: number): Measured => ({ value: v, from: inWindow.flatMap((s) => reached(s, v)) })
  switch (p.aggregate) {
    case 'min':
      return extreme(values.reduce((a, b) => Math.min(a, b)))
    case 'max':
      return extreme(values.reduce((a, b) => Math.max(a, b)))
    case 'mean':
      return { value: values.reduce((a, b) => a + b, 0) / values.length }
    case 'sum':
      return { value: inWindow.reduce((sum, s) => sum + s.pts[s.pts.length - 1].value, 0) }
    case 'last': {
      const lasts = inWindow.map((s) => s.pts[s.pts.length - 1])
      return { value: lasts.reduce((a, b) => (b.atMs > a.atMs ? b : a)).value }
    }
  }
}

/** Whether a series reached v in the window, and when it last left it. */
function reached(s: { service: string; pts: { atMs: number; value: number }[] }, v: number): { service: string; untilMs?: number }[] {
  let last = -1
  s.pts.forEach((pt, i) => pt.value === v && (last = i))
  if (last < 0) return []
  return [{ service: s.service, untilMs: s.pts[last + 1]?.atMs }]
}

/** " (kinesis-frontend-main-2 to the window's end, kinesis-frontend-main-1 until 21.0 s)": who missed a min or max. */
function whoMissed(probe: Probe, from: Measured['from']): string {
  const members = (from ?? []).filter((f) => f.service !== probe.service)
  if (members.length === 0) return ''
  // Those that held the value to the window's end first: they are why the probe missed at its end.
  members.sort((a, b) => (b.untilMs ?? Infinity) - (a.untilMs ?? Infinity))
  const shown = members.slice(0, 3).map((f) => `${f.service} ${f.untilMs === undefined ? "to the window's end" : `until ${(f.untilMs / 1000).toFixed(1)} s`}`)
  if (members.length > 3) shown.push(`${members.length - 3} more`)
  return ` (${shown.join(', ')})`
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3)
}
