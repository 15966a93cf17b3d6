// Onset and recovery, exactly as docs/experiments.md ("How a run is judged") defines them. Time is cut into 1 s windows starting at
// the first fault; a window's verdict comes from the client-side sample that closes it (the
// observer's sample covers the trailing second). Onset: the first of two consecutive breached
// windows. Recovery: the start of the first run of five healthy windows after onset. A window
// without data (no call finished, none in flight) is neither: it breaks both kinds of run.
import type { Slo } from '../experiment/types.js'
import type { SeriesIndex } from './series.js'

export const WINDOW_MS = 1_000
export const ONSET_WINDOWS = 2
export const RECOVERY_WINDOWS = 5
/**
 * Two onsets this close cannot be ordered: each is the start of a 1 s window, and a dependent
 * that fails on its first call to a broken dependency lands in the same window or the next one.
 */
export const ONSET_TOLERANCE_MS = 2 * 1_000

export type Verdict = 'breached' | 'healthy' | 'unknown'

export interface Window {
  startMs: number
  endMs: number
  verdict: Verdict
  successRatio: number | null
  p99Ms: number | null
  calls: number
}

/** The client-side windows of a service over (fromMs, toMs], aligned on fromMs. */
export function clientWindows(index: SeriesIndex, service: string, slo: Slo, fromMs: number, toMs: number): Window[] {
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

function firstRun(windows: readonly Pick<Window, 'verdict'>[], verdict: Verdict, length: number, from: number): number | null {
  let run = 0
  for (let i = from; i < windows.length; i++) {
    run = windows[i].verdict === verdict ? run + 1 : 0
    if (run === length) return i - length + 1
  }
  return null
}
