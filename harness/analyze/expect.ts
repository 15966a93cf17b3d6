// The experiment's `expect:` judged against what the run showed: one named check per key
// (maxRecoveryMs one per service), each with a sentence saying why it held or not.
import type { Expectations } from '../experiment/types.js'
import type { CascadeEntry, ExpectationResult, JournalEvent, ServiceResult, SteadyStateResult } from './journal.js'
import { matchesSelector, type SeriesIndex } from './series.js'
import { ONSET_TOLERANCE_MS } from './impact.js'

export const THREAD_ALARM = 'thread-alarm'
const BROKEN = { name: 'kinesis_frontend_shard_map_state', labels: { state: 'broken' } }

export interface ExpectInput {
  services: Record<string, ServiceResult>
  /** The run's cascade (for `cause`); absent, every `cause` is judged unmet. */
  cascade?: readonly CascadeEntry[]
  steadyStateAfter?: SteadyStateResult
  events: readonly JournalEvent[]
  index: SeriesIndex
  triggerMs: number
}

export function checkExpectations(expect: Expectations, input: ExpectInput): ExpectationResult[] {
  const { services } = input
  const out: ExpectationResult[] = []
  const r = (s: string) => services[s]
  const onset = (s: string) => (r(s)?.onsetMs === null || r(s)?.onsetMs === undefined ? 'not impacted' : `onset ${sec(r(s).onsetMs!)}`)

  if (expect.impacted) {
    const missing = expect.impacted.filter((s) => !r(s)?.impacted)
    out.push({
      name: 'impacted',
      met: missing.length === 0,
      detail: missing.length === 0 ? `all impacted: ${expect.impacted.map((s) => `${s} (${onset(s)})`).join(', ')}` : `not impacted: ${missing.join(', ')}`,
    })
  }
  if (expect.healthy) {
    const hit = expect.healthy.filter((s) => r(s)?.impacted)
    out.push({
      name: 'healthy',
      met: hit.length === 0,
      detail:
        hit.length === 0
          ? `never impacted: ${expect.healthy.join(', ') || '(none listed)'}`
          : `impacted after all: ${hit.map((s) => `${s} (${onset(s)})`).join(', ')}`,
    })
  }
  if (expect.onsetOrder) out.push(checkOnsetOrder(expect.onsetOrder, services))
  for (const [s, want] of Object.entries(expect.cause ?? {})) out.push(checkCause(s, want!, input.cascade ?? []))
  if (expect.recovered !== undefined) {
    const unrecovered = Object.entries(services)
      .filter(([, x]) => x.impacted && x.recoveredMs === null)
      .map(([s]) => s)
    const all = unrecovered.length === 0
    out.push({
      name: 'recovered',
      met: all === expect.recovered,
      detail: all ? 'every impacted service recovered before the end' : `still impacted at the end: ${unrecovered.join(', ')}`,
    })
  }
  if (expect.steadyStateAfter !== undefined) {
    const after = input.steadyStateAfter
    const failed = after?.probes.filter((p) => !p.met).map((p) => `${p.name} (${p.detail})`) ?? []
    out.push({
      name: 'steadyStateAfter',
      met: after !== undefined && after.met === expect.steadyStateAfter,
      detail:
        after === undefined
          ? 'the steady state after the method was not checked'
          : after.met
            ? 'the steady state held after the method'
            : `the steady state did not hold after the method: ${failed.join('; ')}`,
    })
  }
  for (const [s, max] of Object.entries(expect.maxRecoveryMs ?? {})) {
    const x = r(s)
    const name = `maxRecoveryMs.${s}`
    if (!x?.impacted) out.push({ name, met: true, detail: `${s} was not impacted` })
    else if (x.recoveredMs === null) out.push({ name, met: false, detail: `${s} did not recover (impacted from ${sec(x.onsetMs!)})` })
    else out.push({ name, met: x.impactMs! <= max!, detail: `${s} recovered ${x.impactMs} ms after its onset (at most ${max} ms expected)` })
  }
  if (expect.alarmLeadMs) {
    const alarm = threadAlarmAt(input)
    const brk = firstBreakAt(input)
    let met = false
    let detail: string
    if (alarm === undefined) detail = 'the thread alarm never fired'
    else if (brk === undefined) detail = `the thread alarm fired at ${sec(alarm)} but nothing broke`
    else {
      met = brk - alarm >= expect.alarmLeadMs.min
      detail = `the thread alarm fired at ${sec(alarm)}, ${brk - alarm} ms before the first break at ${sec(brk)} (at least ${expect.alarmLeadMs.min} ms expected)`
    }
    out.push({ name: 'alarmLeadMs', met, detail })
  }
  for (const d of expect.delivered ?? []) out.push(checkDelivered(d, input.events))
  return out
}

/** `expect.delivered`: the run's `delivery` event for this customer and stream (harness/run/delivery.ts) found nothing lost. */
export function checkDelivered(d: { customer: string; stream: string }, events: readonly JournalEvent[]): ExpectationResult {
  const name = `delivered.${d.customer}`
  const ev = events.find((e) => e.kind === 'delivery' && e.detail.customer === d.customer && e.detail.stream === d.stream)
  if (!ev) return { name, met: false, detail: `the delivery of ${d.customer}'s events to ${d.stream} was not checked (the method did not complete)` }
  const r = ev.detail as {
    acknowledged: number
    delivered: number
    lost: number
    lostIds: string[]
    records: number
    duplicates: number
    tookMs: number
    error?: string
  }
  if (r.error) return { name, met: false, detail: r.error }
  if (r.acknowledged === 0) return { name, met: false, detail: `${d.customer} acknowledged no event: nothing to check` }
  if (r.lost > 0) {
    const shown = r.lostIds.join(', ') + (r.lost > r.lostIds.length ? `, ... (${r.lost - r.lostIds.length} more)` : '')
    return { name, met: false, detail: `${r.lost} of ${r.acknowledged} acknowledged events not in ${d.stream} after ${sec(r.tookMs)}: ${shown}` }
  }
  const dups = r.duplicates > 0 ? `; ${r.duplicates} written more than once` : ''
  return { name, met: true, detail: `all ${r.acknowledged} acknowledged events in ${d.stream} (${r.records} records read${dups})` }
}

/**
 * `expect.cause`: the service broke, and the cascade names `want` as what broke it (the dependency
 * impacted when it broke; for a customer service, what it was calling then; 'trigger' for a
 * service a method action hit).
 */
export function checkCause(service: string, want: string, cascade: readonly CascadeEntry[]): ExpectationResult {
  const name = `cause.${service}`
  const entry = cascade.find((c) => c.service === service)
  if (!entry) return { name, met: false, detail: `${service} was not impacted: no cause to judge (${want} expected)` }
  const also = entry.causes.length > 1 ? ` (impacted then: ${entry.causes.join(', ')})` : ''
  if (entry.cause === want) return { name, met: true, detail: `${service} broke at ${sec(entry.onsetMs)} with cause ${want}${also}` }
  return { name, met: false, detail: `${service} broke at ${sec(entry.onsetMs)} with cause ${entry.cause}, not ${want}${also}` }
}

/** Groups in order: no member of a group may break after a member of a later group. */

export function checkOnsetOrder(groups: readonly (readonly string[])[], services: Record<string, ServiceResult>): ExpectationResult {
  const missing = groups.flat().filter((s) => !services[s]?.impacted)
  const seen = groups
    .flat()
    .filter((s) => services[s]?.impacted)
    .sort((a, b) => services[a].onsetMs! - services[b].onsetMs!)
    .map((s) => `${s} ${sec(services[s].onsetMs!)}`)
    .join(', ')
  if (missing.length > 0) return { name: 'onsetOrder', met: false, detail: `never impacted: ${missing.join(', ')} (seen: ${seen || 'none'})` }
  for (let i = 0; i + 1 < groups.length; i++) {
    const latest = groups[i].reduce((m, s) => (services[s].onsetMs! > services[m].onsetMs! ? s : m), groups[i][0])
    const earliest = groups[i + 1].reduce((m, s) => (services[s].onsetMs! < services[m].onsetMs! ? s : m), groups[i + 1][0])
    if (services[latest].onsetMs! > services[earliest].onsetMs! + ONSET_TOLERANCE_MS) {
      return { name: 'onsetOrder', met: false, detail: `${earliest} broke before ${latest} (seen: ${seen})` }
    }
  }
  return { name: 'onsetOrder', met: true, detail: `onsets in order: ${seen}` }
}

/** When the thread alarm first went to ALARM: an `alarm` event, or a CloudWatch alarm of that name. */
export function threadAlarmAt(input: Pick<ExpectInput, 'events' | 'index'>): number | undefined {
  const ev = input.events.find((e) => e.kind === 'alarm' && e.detail.name === THREAD_ALARM && (e.detail.state ?? 'ALARM') === 'ALARM')
  if (ev) return ev.atMs
  const sel = { name: 'cloudwatch_alarm_state', labels: { alarm: THREAD_ALARM, state: 'ALARM' } }
  let first: number | undefined
  for (const service of input.index.services()) {
    for (const metric of input.index.metricsOf(service)) {
      if (!matchesSelector(metric, sel)) continue
      const p = input.index.points(service, metric).find((pt) => pt.value === 1)
      if (p && (first === undefined || p.atMs < first)) first = p.atMs
    }
  }
  return first
}

/** The first moment a front-end's shard-map was broken after the trigger, else Kinesis's onset. */
export function firstBreakAt(input: Pick<ExpectInput, 'index' | 'services' | 'triggerMs'>): number | undefined {
  let first: number | undefined
  for (const service of input.index.services()) {
    if (!service.startsWith('kinesis-frontend-')) continue
    for (const metric of input.index.metricsOf(service)) {
      if (!matchesSelector(metric, BROKEN)) continue
      const p = input.index.points(service, metric).find((pt) => pt.value === 1 && pt.atMs >= input.triggerMs)
      if (p && (first === undefined || p.atMs < first)) first = p.atMs
    }
  }
  return first ?? input.services.kinesis?.onsetMs ?? undefined
}

export function sec(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}
