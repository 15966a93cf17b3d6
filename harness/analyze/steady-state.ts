// Probes judged on the timeline: the steady-state hypothesis before and after the method, and the
// method's own probes at their offsets. A probe looks back over its window, (end - window, end].
import type { Experiment, Probe } from '../experiment/types.js'
import type { ProbeResult, SteadyStateResult } from './journal.js'
import { pointsInEffect, type SeriesIndex } from './series.js'

export function evaluateProbe(probe: Probe, index: SeriesIndex, endMs: number): ProbeResult {
  const fromMs = endMs - probe.windowMs
  const base = { name: probe.name, service: probe.service, tolerance: probe.tolerance, fromMs, toMs: endMs }
  const value = measure(probe, index, fromMs, endMs)
  if (value === null) return { ...base, met: false, value: null, detail: `no data for ${what(probe)} of ${probe.service} in the window` }
  const { min, max } = probe.tolerance
  const met = (min === undefined || value >= min) && (max === undefined || value <= max)
  const bounds = [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ')
  return { ...base, met, value, detail: `${what(probe)} of ${probe.service} was ${round(value)}, expected ${bounds}` }
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

function measure(p: Probe, index: SeriesIndex, fromMs: number, toMs: number): number | null {
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
  const series = index.matching(p.service, p.metric!)
  const values: number[] = []
  let latest: { atMs: number; value: number } | undefined
  let sum = 0
  let any = false
  for (const s of series) {
    const pts = pointsInEffect(s.points, fromMs, toMs).filter((pt) => pt.value !== null) as { atMs: number; value: number }[]
    if (pts.length === 0) continue
    any = true
    for (const pt of pts) values.push(pt.value)
    const last = pts[pts.length - 1]
    sum += last.value
    if (!latest || last.atMs > latest.atMs) latest = last
  }
  if (!any) return null
  switch (p.aggregate) {
    case 'min':
      return values.reduce((a, b) => Math.min(a, b))
    case 'max':
      return values.reduce((a, b) => Math.max(a, b))
    case 'mean':
      return values.reduce((a, b) => a + b, 0) / values.length
    case 'sum':
      return sum
    case 'last':
      return latest!.value
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3)
}
