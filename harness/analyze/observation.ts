// How well the harness kept up with its own observation: the gaps between the observer's samples
// and the delay of the harness's event loop (both in the timeline under service `harness`). The
// customers' clients run on that loop: while it is held, answers are timed late. Windows are
// judged net of the delay (call-windows.ts), but a run whose loop was held past LAG_BOUND_MS after
// the first fault says so in its verdict: its latencies, and the onsets they decide, are less sure.
import type { SeriesIndex } from './series.js'
import { LOOP_DELAY, WINDOW_MS } from './impact.js'

export const SAMPLE_GAP = { service: 'harness', metric: 'harness.sample_gap_ms' }
/** A loop delay or a sample gap past this is a lagged observation: a whole window's answers could be late. */
export const LAG_BOUND_MS = 1_000

export interface Observation {
  /** The harness measured itself (runs recorded before it did not). */
  measured: boolean
  samples: number
  /** The median gap between two samples (the intended one is 250 ms). */
  medianGapMs: number | null
  maxGapMs: number | null
  maxLoopDelayMs: number | null
  /** 1 s windows after the first fault in which the loop was held longer than boundMs, or samples were that far apart. */
  laggedWindows: number
  /** The first of them, ms from the start of the method. */
  firstLaggedMs: number | null
  boundMs: number
  lagged: boolean
}

export function observationOf(index: SeriesIndex, triggerMs: number, endMs: number): Observation {
  const gaps = index.points(SAMPLE_GAP.service, SAMPLE_GAP.metric).filter((p) => p.value !== null)
  const delays = index.points(LOOP_DELAY.service, LOOP_DELAY.metric).filter((p) => p.value !== null)
  const sorted = gaps.map((p) => p.value!).sort((a, b) => a - b)
  const lagged = new Set<number>()
  for (const p of [...gaps, ...delays]) {
    if (p.atMs <= triggerMs || p.atMs > endMs || p.value! <= LAG_BOUND_MS) continue
    lagged.add(Math.floor((p.atMs - triggerMs - 1) / WINDOW_MS))
  }
  const first = lagged.size ? Math.min(...lagged) : null
  return {
    measured: gaps.length > 0 || delays.length > 0,
    samples: gaps.length + (gaps.length > 0 ? 1 : 0),
    medianGapMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    maxGapMs: sorted.length ? sorted[sorted.length - 1] : null,
    maxLoopDelayMs: delays.length ? Math.max(...delays.map((p) => p.value!)) : null,
    laggedWindows: lagged.size,
    firstLaggedMs: first === null ? null : triggerMs + first * WINDOW_MS,
    boundMs: LAG_BOUND_MS,
    lagged: lagged.size > 0,
  }
}

/** One sentence for the verdict of a lagged run, undefined when the observation kept up. */
export function lagSentence(o: Observation | undefined): string | undefined {
  if (!o?.lagged) return undefined
  return `observation lagged: the harness was held past ${o.boundMs} ms in ${o.laggedWindows} window(s) from ${(o.firstLaggedMs! / 1000).toFixed(1)}s (longest loop delay ${o.maxLoopDelayMs ?? '?'} ms, longest sample gap ${o.maxGapMs ?? '?'} ms); latencies there are judged net of it and less sure`
}
