// Synthetic runs: an experiment built from a raw tree, client-side series shaped by a health
// function, scraped series from step lists. A sample at t stands for the trailing second (t-1s, t],
// as the observer writes it.
import { validateExperiment, mergeExperiment, type Experiment } from '../../harness/experiment/index.js'
import type { TimelineRow } from '../../harness/analyze/index.js'
import { callRow } from '../../harness/observe/call-rows.js'

export const RAW = {
  title: 'synthetic outage',
  duration: '90s',
  topology: { fleets: { main: { frontends: 3, threadLimit: 14 } } },
  method: [
    { type: 'action', name: 'add-capacity', at: '10s', provider: 'scale-fleet', args: { fleet: 'main', to: 6 } },
    { type: 'action', name: 'remove-capacity', at: '40s', provider: 'scale-fleet', args: { fleet: 'main', to: 3 } },
    { type: 'action', name: 'paced-restart', at: '50s', provider: 'restart-fleet', args: { fleet: 'main', ratePerSec: 1 } },
  ],
}

export function experiment(over: Record<string, unknown> = {}): Experiment {
  const r = validateExperiment(mergeExperiment(structuredClone(RAW), over))
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: expected ${i.expected}, got ${i.got}`).join('\n'))
  return { file: 'synthetic.yaml', files: ['synthetic.yaml'], ...r.experiment }
}

export type Health = 'ok' | 'bad' | 'slow' | 'idle'

/** Health per trailing second: `bad` inside any (from, to] of `down`, else ok. */
export function down(...spans: [number, number][]): (t: number) => Health {
  return (t) => (spans.some(([a, b]) => t > a && t <= b) ? 'bad' : 'ok')
}

export function client(service: string, health: (t: number) => Health, fromMs = -3_000, toMs = 90_000): TimelineRow[] {
  const rows: TimelineRow[] = []
  for (let t = fromMs; t <= toMs; t += 250) {
    const h = health(t)
    const [ratio, p99, calls] = h === 'ok' ? [1, 40, 10] : h === 'bad' ? [0.3, 200, 10] : h === 'slow' ? [1, 4_000, 10] : [null, null, 0]
    rows.push({ service, metric: 'client.success_ratio', value: ratio, atMs: t })
    rows.push({ service, metric: 'client.p99_ms', value: p99, atMs: t })
    rows.push({ service, metric: 'client.calls', value: calls, atMs: t })
  }
  return rows
}

/** A scraped series: each step [atMs, value] written once (the observer writes on change). */
export function scraped(service: string, metric: string, steps: [number, number][]): TimelineRow[] {
  return steps.map(([atMs, value]) => ({ service, metric, value, atMs }))
}

/** A process that stays alive: scrape.up every second over the run. */
export function alive(service: string, fromMs = -3_000, toMs = 90_000): TimelineRow[] {
  const rows: TimelineRow[] = []
  for (let t = fromMs; t <= toMs; t += 1_000) rows.push({ service, metric: 'scrape.up', value: 1, atMs: t })
  return rows
}

export const actionStart = (atMs: number, name: string, provider: string, phase = 'method') => ({
  atMs,
  kind: 'action-start',
  detail: { name, provider, phase },
})
export const actionEnd = (atMs: number, name: string, provider: string, ok: boolean, phase = 'method') => ({
  atMs,
  kind: 'action-end',
  detail: { name, provider, phase, ok },
})

export type CallHealth = 'ok' | 'bad' | 'slow' | 'hang' | 'idle'

/**
 * One call every `everyMs` from fromMs to toMs, as the run writes them (observe/call-rows.ts): ok
 * calls take 40 ms, bad ones fail after 40 ms, slow ones take 4 s, hung ones last until `hangUntil`
 * (then fail with a timeout), idle seconds have no call.
 */
export function calls(
  service: string,
  health: (t: number) => CallHealth,
  opts: { fromMs?: number; toMs?: number; everyMs?: number; hangUntil?: number } = {},
): TimelineRow[] {
  const { fromMs = -3_000, toMs = 90_000, everyMs = 100, hangUntil = toMs } = opts
  const rows: TimelineRow[] = []
  for (let t = fromMs; t <= toMs; t += everyMs) {
    const h = health(t)
    if (h === 'idle') continue
    const outcome = { service, operation: 'Op', startedAtMs: t }
    if (h === 'ok') rows.push(callRow({ ...outcome, latencyMs: 40, ok: true }))
    else if (h === 'bad') rows.push(callRow({ ...outcome, latencyMs: 40, ok: false, error: 'InternalFailure' }))
    else if (h === 'slow') rows.push(callRow({ ...outcome, latencyMs: 4_000, ok: true }))
    else rows.push(callRow({ ...outcome, latencyMs: Math.max(40, hangUntil - t), ok: false, error: 'TimeoutError' }))
  }
  return rows.sort((a, b) => a.atMs - b.atMs)
}

/** The lab's server-side counters of a front door: `bad` served requests counted in each (from, to]. */
export function served(process: string, badSpans: [number, number][] = [], fromMs = -3_000, toMs = 90_000): TimelineRow[] {
  const rows: TimelineRow[] = []
  let bad = 0
  for (let t = fromMs; t <= toMs; t += 1_000) {
    if (badSpans.some(([a, b]) => t > a && t <= b)) bad += 5
    rows.push({ service: process, metric: 'lab_server_requests_total{outcome="server_error"}', value: bad, atMs: t })
    rows.push({ service: process, metric: 'lab_server_requests_total{outcome="ok"}', value: (t - fromMs) / 100, atMs: t })
    rows.push({ service: process, metric: 'scrape.up', value: 1, atMs: t })
  }
  return rows
}
