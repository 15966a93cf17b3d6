// Onset and recovery, exactly as docs/experiments.md ("How a run is judged") defines them. Time is
// cut into 1 s windows starting at the first fault. A window's verdict comes from the calls that
// ended in it (call-windows.ts: a binomial test, net of the harness's own delay); a run written
// before calls were recorded falls back to the observer's sample closing the window. Onset: the
// first of two consecutive breached windows. Recovery: the start of the first run of five healthy
// windows after onset. An unknown window (too little evidence) neither extends nor breaks a run,
// unless more than MAX_UNKNOWN_BRIDGE come in a row.
import type { Slo } from '../experiment/types.js'
import { CALL_METRIC, parseCallRow, type CallRecord } from '../observe/call-rows.js'
import { windowsFromCalls, type Verdict, type Window } from './call-windows.js'
import type { SeriesIndex } from './series.js'

export const WINDOW_MS = 1_000
export const ONSET_WINDOWS = 2
export const RECOVERY_WINDOWS = 5
/** Unknown windows a run of breached or healthy windows may span; one more breaks it. */
export const MAX_UNKNOWN_BRIDGE = 2
/**
 * Two onsets this close cannot be ordered: each is the start of a 1 s window, and a dependent
 * that fails on its first call to a broken dependency lands in the same window or the next one.
 */
export const ONSET_TOLERANCE_MS = 2 * 1_000
/** The timeline's series of the harness's own event-loop delay (observe/observer.ts). */
export const LOOP_DELAY = { service: 'harness', metric: 'harness.loop_delay_ms' }

export type { Verdict, Window }

const callCache = new WeakMap<SeriesIndex, Map<string, CallRecord[]>>()

/** Every call of a service the timeline recorded (empty for a run written before calls were). */
export function callsOf(index: SeriesIndex, service: string): CallRecord[] {
  let byService = callCache.get(index)
  if (!byService) callCache.set(index, (byService = new Map()))
  let calls = byService.get(service)
  if (!calls) {
    calls = []
    for (const metric of index.metricsOf(service)) {
      if (!metric.startsWith(CALL_METRIC + '{')) continue
      for (const p of index.points(service, metric)) {
        const c = parseCallRow({ service, metric, value: p.value, atMs: p.atMs })
        if (c) calls.push(c)
      }
    }
    byService.set(service, calls)
  }
  return calls
}

/** The largest event-loop delay the harness recorded in (fromMs, toMs] (0 when none was). */
export function loopDelayIn(index: SeriesIndex, fromMs: number, toMs: number): number {
  let max = 0
  for (const p of index.points(LOOP_DELAY.service, LOOP_DELAY.metric)) if (p.atMs > fromMs && p.atMs <= toMs && (p.value ?? 0) > max) max = p.value ?? 0
  // The delay recorded by the next sample may have held this window's last answers.
  const next = index.points(LOOP_DELAY.service, LOOP_DELAY.metric).find((p) => p.atMs > toMs)
  if (next && next.atMs - toMs <= (next.value ?? 0)) max = Math.max(max, next.value ?? 0)
  return max
}

/** The client-side windows of a service over (fromMs, toMs], aligned on fromMs. */
export function clientWindows(index: SeriesIndex, service: string, slo: Slo, fromMs: number, toMs: number): Window[] {
  const calls = callsOf(index, service)
  if (calls.length > 0) return windowsFromCalls(calls, slo, fromMs, toMs, WINDOW_MS, (a, b) => loopDelayIn(index, a, b))
  return windowsFromSamples(index, service, slo, fromMs, toMs)
}

/** A run written before calls were recorded: each window takes the observer's last sample inside it. */
function windowsFromSamples(index: SeriesIndex, service: string, slo: Slo, fromMs: number, toMs: number): Window[] {
  const ratio = index.points(service, 'client.success_ratio')
  const p99 = index.points(service, 'client.p99_ms')
  const calls = index.points(service, 'client.calls')
  const windows: Window[] = []
  // Walk the three series once: each window takes the last sample inside it.
  let ri = 0
  let pi = 0
  let ci = 0
  for (let start = fromMs; start < toMs; start += WINDOW_MS) {
    const end = start + WINDOW_MS
    const last = (pts: typeof ratio, i: number): [number | null | undefined, number] => {
      let v: number | null | undefined
      while (i < pts.length && pts[i].atMs <= end) {
        if (pts[i].atMs > start) v = pts[i].value
        i++
      }
      return [v, i]
    }
    let r: number | null | undefined, p: number | null | undefined, c: number | null | undefined
    ;[r, ri] = last(ratio, ri)
    ;[p, pi] = last(p99, pi)
    ;[c, ci] = last(calls, ci)
    windows.push(judge(start, end, r ?? null, p ?? null, c ?? 0, slo))
  }
  return windows
}

export function judge(startMs: number, endMs: number, successRatio: number | null, p99Ms: number | null, calls: number, slo: Slo): Window {
  const breached = (successRatio !== null && successRatio < slo.minSuccessRatio) || (p99Ms !== null && p99Ms > slo.maxP99Ms)
  const verdict: Verdict = breached ? 'breached' : successRatio === null && p99Ms === null ? 'unknown' : 'healthy'
  return { startMs, endMs, verdict, successRatio, p99Ms, calls }
}

export interface Impact {
  onsetMs: number | null
  recoveredMs: number | null
  /** Index of the onset window and the recovery window, for callers that look closer. */
  onsetIndex: number | null
  recoveredIndex: number | null
}

/** Onset and recovery on a sequence of windows (already starting at the first fault). */
export function detectImpact(windows: readonly Pick<Window, 'startMs' | 'verdict'>[]): Impact {
  const onsetIndex = firstRun(windows, 'breached', ONSET_WINDOWS, 0)
  if (onsetIndex === null) return { onsetMs: null, recoveredMs: null, onsetIndex: null, recoveredIndex: null }
  const recoveredIndex = firstRun(windows, 'healthy', RECOVERY_WINDOWS, onsetIndex + ONSET_WINDOWS)
  return {
    onsetMs: windows[onsetIndex].startMs,
    recoveredMs: recoveredIndex === null ? null : windows[recoveredIndex].startMs,
    onsetIndex,
    recoveredIndex,
  }
}

/** The first window of the first run of `length` windows of `verdict` from `from` (unknowns bridged, see above). */
export function firstRun(windows: readonly Pick<Window, 'verdict'>[], verdict: Verdict, length: number, from: number): number | null {
  let run = 0
  let first = -1
  let unknown = 0
  for (let i = from; i < windows.length; i++) {
    const v = windows[i].verdict
    if (v === verdict) {
      if (run === 0) first = i
      run++
      unknown = 0
      if (run === length) return first
    } else if (v === 'unknown' && run > 0 && unknown < MAX_UNKNOWN_BRIDGE) {
      unknown++
    } else {
      run = 0
      unknown = 0
    }
  }
  return null
}
