// Two runs side by side (`outage-lab compare`, the suite's table): per service, was it impacted,
// for how long, how fast it came back after the corrective action; and how many expectations and
// fidelity checks each run met. Pure: reads two journals, returns data; the report renders it.
import { servicesOfRuns } from './customers.js'
import type { Journal, ServiceResult } from './journal.js'

export interface RunSide {
  impacted: boolean
  onsetMs: number | null
  impactMs: number | null
  timeToRecoverMs: number | null
  recovered: boolean
  availability: number | null
}

export interface ServiceComparison {
  service: string
  a: RunSide | null
  b: RunSide | null
  /** b minus a; null when either side lacks the number. */
  impactMsDelta: number | null
  timeToRecoverMsDelta: number | null
  /** Impacted in one run and not in the other. */
  impactChanged: boolean
}

export interface RunSummary {
  title: string
  experiment: string
  status: string
  seed: number
  impacted: string[]
  expectationsMet: number
  expectationsTotal: number
  fidelityScore: number | null
  timeToRecoverMs: number | null
}

export interface Comparison {
  a: RunSummary
  b: RunSummary
  services: ServiceComparison[]
  /** Expectations by name, met in a and in b (undefined: the run did not check it). */
  expectations: { name: string; a?: boolean; b?: boolean }[]
}

function side(r: ServiceResult | undefined): RunSide | null {
  if (!r) return null
  return {
    impacted: r.impacted,
    onsetMs: r.onsetMs,
    impactMs: r.impactMs,
    timeToRecoverMs: r.timeToRecoverMs,
    recovered: r.impacted ? r.recoveredMs !== null : true,
    availability: r.availability,
  }
}

export function summarizeRun(j: Journal): RunSummary {
  return {
    title: j.title,
    experiment: j.experiment?.file ?? '',
    status: j.status,
    seed: j.seed,
    impacted: Object.entries(j.services)
      .filter(([, r]) => r.impacted)
      .map(([s]) => s),
    expectationsMet: j.expectations.filter((e) => e.met).length,
    expectationsTotal: j.expectations.length,
    fidelityScore: j.fidelity?.score ?? null,
    timeToRecoverMs: j.recovery?.timeToRecoverMs ?? null,
  }
}

const delta = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : b - a)

export function compareRuns(a: Journal, b: Journal): Comparison {
  const names = servicesOfRuns([a, b])
  const services = names.map((service) => {
    const sa = side(a.services[service])
    const sb = side(b.services[service])
    return {
      service,
      a: sa,
      b: sb,
      impactMsDelta: delta(sa?.impactMs, sb?.impactMs),
      timeToRecoverMsDelta: delta(sa?.timeToRecoverMs, sb?.timeToRecoverMs),
      impactChanged: sa !== null && sb !== null && sa.impacted !== sb.impacted,
    }
  })
  const expNames = [...new Set([...a.expectations.map((e) => e.name), ...b.expectations.map((e) => e.name)])]
  const expectations = expNames.map((name) => ({
    name,
    a: a.expectations.find((e) => e.name === name)?.met,
    b: b.expectations.find((e) => e.name === name)?.met,
  }))
  return { a: summarizeRun(a), b: summarizeRun(b), services, expectations }
}
