// Who broke, when, and because of whom: per-service results from the client windows, the cascade
// ordered by onset with each service's cause from the static dependency graph (a customer
// service's: the lab services it was calling, customers.ts), the blast radius, and the recovery
// verdict measured from the action that pushed the system back.
import { SERVICES, type Action, type Experiment, type ServiceName } from '../experiment/types.js'
import { DEPENDENCIES } from '../topology/catalogue.js'
import { clientWindows, firstRun, ONSET_TOLERANCE_MS, ONSET_WINDOWS, RECOVERY_WINDOWS, WINDOW_MS, type Impact, type Window } from './impact.js'
import { corroborationSpan, measuredServerSide, serverEvidenceIn } from './corroborate.js'
import type { BlastRadius, CascadeEntry, JournalEvent, RecoveryVerdict, ServiceResult } from './journal.js'
import type { SeriesIndex } from './series.js'

/** What each customer-facing service calls: the catalogue's graph, each service's possible causes. */
export { DEPENDENCIES }

/**
 * The dependencies that may explain a service's onset at t: the catalogue's graph for the lab's
 * services; a customer service's come from what it called (customers.ts, customerDependenciesAt).
 */
export type DependenciesAt = (service: string, t: number) => readonly string[]

export const staticDependencies: DependenciesAt = (service) => DEPENDENCIES[service as ServiceName] ?? []

/** Lab services in the catalogue's order, then any other (customers), in a stable order. */
function rankOf(service: string): number {
  const i = (SERVICES as readonly string[]).indexOf(service)
  return i >= 0 ? i : SERVICES.length
}

/** Actions that push a system back (a rollback is always one). Scaling down is not: that is the point. */
export const RECOVERY_PROVIDERS = new Set(['restart-fleet', 'restart', 'resume', 'heal-partition', 'clear-faults'])

export interface ActionRun {
  name: string
  provider: string
  phase: 'method' | 'rollbacks'
  atMs: number
  action?: Action
}

/**
 * When each action started: from the journal's action-start events, else (an analysis without
 * events) the method's planned offsets.
 */
export function actionRuns(experiment: Pick<Experiment, 'method' | 'rollbacks'>, events: readonly JournalEvent[]): ActionRun[] {
  const byName = new Map<string, Action>()
  for (const a of [...experiment.method, ...experiment.rollbacks]) if (a.type === 'action') byName.set(a.name, a)
  const starts = events.filter((e) => e.kind === 'action-start')
  if (starts.length > 0) {
    return starts
      .map((e) => {
        const name = String(e.detail.name ?? '')
        const phase = e.detail.phase === 'rollbacks' ? 'rollbacks' : 'method'
        return { name, provider: String(e.detail.provider ?? byName.get(name)?.provider ?? ''), phase, atMs: e.atMs, action: byName.get(name) } as ActionRun
      })
      .sort((a, b) => a.atMs - b.atMs)
  }
  return experiment.method
    .filter((a): a is Action => a.type === 'action')
    .map((a) => ({ name: a.name, provider: a.provider, phase: 'method' as const, atMs: a.atMs, action: a }))
    .sort((a, b) => a.atMs - b.atMs)
}

/** The first fault: the first method action's start (0 when the method has no action). */
export function triggerMs(runs: readonly ActionRun[]): number {
  return runs.find((r) => r.phase === 'method')?.atMs ?? 0
}

export function isRecoveryAction(r: ActionRun): boolean {
  return r.phase === 'rollbacks' || RECOVERY_PROVIDERS.has(r.provider)
}

/** The last recovery action that started at or before t. */
export function recoveryActionBefore(runs: readonly ActionRun[], t: number): ActionRun | undefined {
  return runs.filter((r) => isRecoveryAction(r) && r.atMs <= t).at(-1)
}

/** The customer-facing services of a run, in the catalogue's order, then its customer services (the user's own) in file order. */
export function servicesOf(experiment: Pick<Experiment, 'topology'>): string[] {
  const lab: string[] = SERVICES.filter((s) => s === 'kinesis' || (experiment.topology.services as string[]).includes(s))
  return [...lab, ...(experiment.topology.customers ?? []).map((c) => c.name)]
}

export function serviceResults(
  experiment: Pick<Experiment, 'topology' | 'slo'>,
  index: SeriesIndex,
  runs: readonly ActionRun[],
  endMs: number,
  dependenciesAt: DependenciesAt = staticDependencies,
): Record<string, ServiceResult> {
  const trigger = triggerMs(runs)
  const out: Record<string, ServiceResult> = {}
  // The catalogue's order is a dependency order: a service's dependencies are judged before it
  // (customer services, which depend only on the lab's, come last).
  const customers = new Set((experiment.topology.customers ?? []).map((c) => c.name))
  for (const service of servicesOf(experiment)) {
    const slo = experiment.slo[service]
    const windows = clientWindows(index, service, slo, trigger, endMs)
    const found = corroboratedImpact(windows, service, index, out, dependenciesAt, customers.has(service))
    const impact = found.impact
    // Availability and p99 cover the whole method, not only after the trigger.
    const all = trigger > 0 ? clientWindows(index, service, slo, 0, endMs) : windows
    let calls = 0
    let ok = 0
    const p99s: number[] = []
    for (const w of all) {
      if (w.successRatio !== null) {
        calls += w.calls
        ok += w.calls * w.successRatio
      }
      if (w.p99Ms !== null) p99s.push(w.p99Ms)
    }
    p99s.sort((a, b) => a - b)
    const recovery = impact.recoveredMs === null ? undefined : recoveryActionBefore(runs, impact.recoveredMs)
    const serverFirst = windows.find((w) => serverEvidenceIn(index, service, w.startMs, w.endMs) !== undefined)
    out[service] = {
      impacted: impact.onsetMs !== null,
      onsetMs: impact.onsetMs,
      recoveredMs: impact.recoveredMs,
      impactMs: impact.onsetMs === null ? null : (impact.recoveredMs ?? Math.max(endMs, impact.onsetMs)) - impact.onsetMs,
      timeToRecoverMs: impact.recoveredMs !== null && recovery ? impact.recoveredMs - recovery.atMs : null,
      availability: calls > 0 ? ok / calls : null,
      p99Ms: p99s.length ? p99s[Math.min(p99s.length - 1, Math.ceil(0.99 * p99s.length) - 1)] : null,
      calls,
      errors: Math.round(calls - ok),
      ...(found.corroboration ? { corroboration: found.corroboration } : {}),
      ...(found.uncorroborated.length ? { uncorroborated: found.uncorroborated } : {}),
      serverEvidenceMs: serverFirst ? serverFirst.startMs : null,
      unknownWindows: windows.filter((w) => w.verdict === 'unknown').length,
    }
  }
  return out
}

/**
 * The first client-side onset that evidence beyond the client holds (corroborate.ts), and the
 * recovery after it. Onsets that nothing corroborates are returned too, to be recorded.
 */
export function corroboratedImpact(
  windows: readonly Window[],
  service: string,
  index: SeriesIndex,
  judged: Readonly<Record<string, ServiceResult>>,
  dependenciesAt: DependenciesAt = staticDependencies,
  customer = false,
): { impact: Impact; corroboration?: string; uncorroborated: { onsetMs: number }[] } {
  const uncorroborated: { onsetMs: number }[] = []
  const measured = measuredServerSide(index, service)
  let lastSlide: number | undefined
  for (let from = 0; ;) {
    const onsetIndex = firstRun(windows, 'breached', ONSET_WINDOWS, from)
    if (onsetIndex === null) return { impact: { onsetMs: null, recoveredMs: null, onsetIndex: null, recoveredIndex: null }, uncorroborated }
    const t = windows[onsetIndex].startMs
    const why = corroborate(service, t, index, judged, measured, dependenciesAt, customer)
    if (why) {
      const recoveredIndex = firstRun(windows, 'healthy', RECOVERY_WINDOWS, onsetIndex + ONSET_WINDOWS)
      const recoveredMs = recoveredIndex === null ? null : windows[recoveredIndex].startMs
      return { impact: { onsetMs: t, recoveredMs, onsetIndex, recoveredIndex }, corroboration: why, uncorroborated }
    }
    // Slide on by a window: the evidence may come a moment later in the same breach.
    if (lastSlide !== t - WINDOW_MS) uncorroborated.push({ onsetMs: t })
    lastSlide = t
    from = onsetIndex + 1
  }
}

/**
 * A lab service's onset stands on an impacted dependency or its front door's own counters. A
 * customer service's: a lab service it was calling impacted, or its own lab_server_* counters when
 * its /metrics exposes them (services/kit/served-requests.ts shows the shape); a customer without
 * them has only its customers' view, and the journal says so.
 */
function corroborate(
  service: string,
  t: number,
  index: SeriesIndex,
  judged: Readonly<Record<string, ServiceResult>>,
  measured: boolean,
  dependenciesAt: DependenciesAt,
  customer: boolean,
): string | undefined {
  for (const d of dependenciesAt(service, t)) {
    const r = judged[d]
    if (r?.impacted && r.onsetMs! <= t + ONSET_TOLERANCE_MS && (r.recoveredMs === null || r.recoveredMs > t))
      return `${d} impacted since ${(r.onsetMs! / 1000).toFixed(1)}s`
  }
  if (!measured) return customer ? `client-side only (${service} exposes no lab_server_* counters)` : 'client-side only (no server-side counters recorded)'
  const [from, to] = corroborationSpan(t)
  const server = serverEvidenceIn(index, service, from, to)
  return server ? `server-side: ${server}` : undefined
}

/** Services a method action hit directly: their breakage is the trigger's, not a dependency's. */
function targetsOf(runs: readonly ActionRun[]): Set<string> {
  const out = new Set<string>()
  for (const r of runs) {
    if (r.phase !== 'method' || !r.action) continue
    const args = r.action.args as { fleet?: string; service?: string }
    if (args.fleet !== undefined) out.add(args.fleet === 'cloudwatch' ? 'cloudwatch' : 'kinesis')
    if (args.service !== undefined) out.add(args.service.startsWith('kinesis') ? 'kinesis' : args.service)
  }
  return out
}

export function cascade(
  services: Record<string, ServiceResult>,
  runs: readonly ActionRun[] = [],
  dependenciesAt: DependenciesAt = staticDependencies,
): CascadeEntry[] {
  const impacted = Object.entries(services)
    .filter(([, r]) => r.impacted && r.onsetMs !== null)
    .sort(([a, ra], [b, rb]) => ra.onsetMs! - rb.onsetMs! || rankOf(a) - rankOf(b))
  const targets = targetsOf(runs)
  const entries: CascadeEntry[] = impacted.map(([service, r]) => {
    const t = r.onsetMs!
    // A dependency that broke in the same window or just after still caused this (ONSET_TOLERANCE_MS).
    const deps = dependenciesAt(service, t)
    const causes = deps.filter((d) => {
      const dr = services[d]
      return dr?.impacted && dr.onsetMs! <= t + ONSET_TOLERANCE_MS && (dr.recoveredMs === null || dr.recoveredMs > t)
    })
    causes.sort((a, b) => services[a].onsetMs! - services[b].onsetMs!)
    if (causes.length > 0) return { service, onsetMs: t, cause: causes[0], causes, lagMs: Math.max(0, t - services[causes[0]].onsetMs!) }
    if (targets.has(service)) return { service, onsetMs: t, cause: 'trigger', causes, lagMs: null }
    // No dependency was impacted for its customers yet, but one whose own counters already showed
    // trouble (a partial failure the customers' retries hid) still explains it; being first does not.
    const failing = deps.filter((d) => {
      const at = services[d]?.serverEvidenceMs
      return at !== null && at !== undefined && at <= t + ONSET_TOLERANCE_MS
    })
    if (failing.length > 0) return { service, onsetMs: t, cause: failing[0], causes: failing, lagMs: null, evidence: 'server-side' as const }
    return { service, onsetMs: t, cause: 'unexplained', causes, lagMs: null }
  })
  // A service listed after the dependency that caused it, even when its window came first.
  const key = (e: CascadeEntry) => Math.max(e.onsetMs, e.cause in services ? (services[e.cause].onsetMs ?? e.onsetMs) : e.onsetMs)
  const depth = (s: string, seen = new Set<string>()): number => {
    const e = entries.find((x) => x.service === s)
    if (!e || !(e.cause in services) || seen.has(s)) return 0
    seen.add(s)
    return 1 + depth(e.cause, seen)
  }
  return entries.sort((a, b) => key(a) - key(b) || depth(a.service) - depth(b.service) || rankOf(a.service) - rankOf(b.service))
}

export function blastRadius(services: Record<string, ServiceResult>): BlastRadius {
  const all = Object.keys(services)
  const impacted = all.filter((s) => services[s].impacted)
  return { impacted, count: impacted.length, total: all.length, share: all.length ? impacted.length / all.length : 0 }
}

export function recoveryVerdict(services: Record<string, ServiceResult>, runs: readonly ActionRun[]): RecoveryVerdict {
  const impacted = Object.entries(services).filter(([, r]) => r.impacted)
  const unrecovered = impacted.filter(([, r]) => r.recoveredMs === null).map(([s]) => s)
  const recoveredAt = impacted.flatMap(([, r]) => (r.recoveredMs === null ? [] : [r.recoveredMs]))
  const lastRecoveredMs = unrecovered.length === 0 && recoveredAt.length ? Math.max(...recoveredAt) : null
  const action = lastRecoveredMs === null ? runs.filter(isRecoveryAction).at(-1) : recoveryActionBefore(runs, lastRecoveredMs)
  return {
    recovered: unrecovered.length === 0,
    unrecovered,
    lastRecoveredMs,
    recoveryAction: action ? { name: action.name, provider: action.provider, atMs: action.atMs } : null,
    timeToRecoverMs: lastRecoveredMs !== null && action ? lastRecoveredMs - action.atMs : null,
  }
}

export { WINDOW_MS }
