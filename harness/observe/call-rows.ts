// Every customer call as one timeline row, written when it ends: `client.call{...}` with the
// outcome, the operation and the error as labels, the latency as the value and the end as atMs
// (so it started at atMs - value). The analysis builds its windows from these rows, not from the
// observer's samples, so a sample the observer took late cannot move a verdict.
import type { Outcome } from '../workload/recorder.js'
import type { TimelineRow } from './timeline.js'

export const CALL_METRIC = 'client.call'

export interface CallRecord {
  service: string
  operation: string
  startMs: number
  endMs: number
  ok: boolean
  error?: string
}

const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

export function callRow(o: Outcome): TimelineRow {
  const labels = [...(o.ok ? [] : [`error=${quote(o.error ?? 'Error')}`]), `op=${quote(o.operation)}`, `outcome=${quote(o.ok ? 'ok' : 'error')}`]
  const latencyMs = Math.max(0, Math.round(o.latencyMs))
  return { service: o.service, metric: `${CALL_METRIC}{${labels.join(',')}}`, value: latencyMs, atMs: Math.round(o.startedAtMs + o.latencyMs) }
}

const LABEL = /([a-z]+)="((?:[^"\\]|\\.)*)"/g

/** The call a row stands for, or undefined when the row is something else. */
export function parseCallRow(row: TimelineRow): CallRecord | undefined {
  if (!row.metric.startsWith(`${CALL_METRIC}{`) || row.value === null) return undefined
  const labels: Record<string, string> = {}
  for (const m of row.metric.matchAll(LABEL)) labels[m[1]] = m[2].replace(/\\(.)/g, '$1')
  const ok = labels.outcome === 'ok'
  return {
    service: row.service,
    operation: labels.op ?? '',
    startMs: row.atMs - row.value,
    endMs: row.atMs,
    ok,
    ...(ok ? {} : { error: labels.error ?? 'Error' }),
  }
}
