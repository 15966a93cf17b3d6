// Many runs of one experiment, read back from their journals: how often each expectation held
// (with a Wilson 95% interval, so 19 of 20 reads as "between 76% and 99%", not as 95%), the spread
// of each service's onset, recovery and time down, and the cascade orders seen. A pure function
// of the journals: `repeat` writes it after every run, and it can be re-made from the run folders.
import type { Journal } from './journal.js'

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054

export interface Proportion {
  passed: number
  runs: number
  /** passed / runs (null without runs). */
  rate: number | null
  /** Wilson score interval at 95%, [low, high] (null without runs). */
  wilson95: [number, number] | null
}

export interface Distribution {
  n: number
  min: number | null
  q1: number | null
  median: number | null
  q3: number | null
  max: number | null
}

export interface RepeatRun {
  seed: number
  /** The run's folder, relative to the repeat's folder. */
  dir: string
  exitCode: number
  status: string
  /** Every expectation met and the run completed. */
  held: boolean
  expectations: Record<string, boolean>
  durationMs: number
  observationLagged: boolean
  /** The cascade as groups of services whose onsets cannot be ordered (within ONSET_TOLERANCE_MS). */
  cascadeOrder: string
}

export interface RepeatSummary {
  title: string
  experiment: string
  platform: string
  runs: RepeatRun[]
  /** Every expectation met, per run. */
  held: Proportion
  expectations: ({ name: string } & Proportion)[]
  services: Record<string, { impacted: Proportion; onsetMs: Distribution; recoveredMs: Distribution; impactMs: Distribution }>
  cascadeOrders: { order: string; count: number }[]
  observationLagged: number
}

export function wilson(passed: number, runs: number, z = Z95): [number, number] | null {
  if (runs <= 0) return null
  const p = passed / runs
  const z2 = z * z
  const centre = (p + z2 / (2 * runs)) / (1 + z2 / runs)
  const half = (z * Math.sqrt((p * (1 - p)) / runs + z2 / (4 * runs * runs))) / (1 + z2 / runs)
  // At 0 or all passes the bound is exact; floating point would make it 0.9999999999999999.
  return [passed === 0 ? 0 : Math.max(0, centre - half), passed === runs ? 1 : Math.min(1, centre + half)]
}

export function proportion(passed: number, runs: number): Proportion {
  return { passed, runs, rate: runs > 0 ? passed / runs : null, wilson95: wilson(passed, runs) }
}

/** Quartiles by linear interpolation between order statistics (type 7, as R and numpy default). */
export function distribution(values: readonly number[]): Distribution {
  const v = [...values].sort((a, b) => a - b)
  const n = v.length
  if (n === 0) return { n, min: null, q1: null, median: null, q3: null, max: null }
  const q = (p: number) => {
    const h = (n - 1) * p
    const lo = Math.floor(h)
    return v[lo] + (h - lo) * ((v[Math.min(n - 1, lo + 1)] ?? v[lo]) - v[lo])
  }
  return { n, min: v[0], q1: q(0.25), median: q(0.5), q3: q(0.75), max: v[n - 1] }
}

/**
 * `kinesis -> {cloudwatch, eventbridge} -> lambda`: services by onset, those whose onset fell in the
 * same window grouped. Whether an order met `expect.onsetOrder` (which allows ONSET_TOLERANCE_MS)
 * is the expectation's own count; this is what was seen.
 */
export function cascadeOrder(j: Pick<Journal, 'services'>): string {
  const hit = Object.entries(j.services)
    .filter(([, r]) => r.impacted && r.onsetMs !== null)
    .sort(([a, ra], [b, rb]) => ra.onsetMs! - rb.onsetMs! || a.localeCompare(b))
  if (hit.length === 0) return '(nothing impacted)'
  const groups: { startMs: number; names: string[] }[] = []
  for (const [s, r] of hit) {
    const g = groups.at(-1)
    if (g && r.onsetMs! === g.startMs) g.names.push(s)
    else groups.push({ startMs: r.onsetMs!, names: [s] })
  }
  return groups.map((g) => (g.names.length > 1 ? `{${g.names.sort().join(', ')}}` : g.names[0])).join(' -> ')
}

export function runOf(j: Journal, dir: string, exitCode: number): RepeatRun {
  return {
    seed: j.seed,
    dir,
    exitCode,
    status: j.status,
    held: j.status === 'completed' && j.expectations.length > 0 && j.expectations.every((x) => x.met),
    expectations: Object.fromEntries(j.expectations.map((x) => [x.name, x.met])),
    durationMs: j.durationMs,
    observationLagged: j.observation?.lagged ?? false,
    cascadeOrder: cascadeOrder(j),
  }
}

export function summarizeRepeat(meta: { title: string; experiment: string; platform: string }, runs: { journal: Journal; run: RepeatRun }[]): RepeatSummary {
  // An interrupted run says nothing about the experiment: it is listed, not counted.
  const counted = runs.filter((r) => r.run.status !== 'interrupted')
  const names = [...new Set(counted.flatMap((r) => r.journal.expectations.map((x) => x.name)))]
  const services: RepeatSummary['services'] = {}
  for (const s of [...new Set(counted.flatMap((r) => Object.keys(r.journal.services)))]) {
    const results = counted.map((r) => r.journal.services[s]).filter((x) => x !== undefined)
    const hit = results.filter((x) => x.impacted)
    services[s] = {
      impacted: proportion(hit.length, results.length),
      onsetMs: distribution(hit.map((x) => x.onsetMs!)),
      recoveredMs: distribution(hit.flatMap((x) => (x.recoveredMs === null ? [] : [x.recoveredMs]))),
      impactMs: distribution(hit.flatMap((x) => (x.impactMs === null ? [] : [x.impactMs]))),
    }
  }
  const orders = new Map<string, number>()
  for (const r of counted) orders.set(r.run.cascadeOrder, (orders.get(r.run.cascadeOrder) ?? 0) + 1)
  return {
    ...meta,
    runs: runs.map((r) => r.run),
    held: proportion(counted.filter((r) => r.run.held).length, counted.length),
    expectations: names.map((name) => {
      // A run that aborted before judging an expectation did not meet it.
      const met = counted.filter((r) => r.journal.expectations.find((x) => x.name === name)?.met === true).length
      return { name, ...proportion(met, counted.length) }
    }),
    services,
    cascadeOrders: [...orders].map(([order, count]) => ({ order, count })).sort((a, b) => b.count - a.count || a.order.localeCompare(b.order)),
    observationLagged: counted.filter((r) => r.run.observationLagged).length,
  }
}
