// How faithfully a run reproduced the 2020 outage: one named check per mechanism of docs/fidelity.md,
// each judged on the timeline and the events. A check does not apply when the run could not show
// the mechanism (its service is absent, or a remediation switch turns the 2020 behaviour off);
// the score is met / applicable.
import type { Experiment, ServiceName } from '../experiment/types.js'
import { type ActionRun, isRecoveryAction } from './cascade.js'
import { checkOnsetOrder, sec } from './expect.js'
import type { FidelityCheck, FidelityResult, JournalEvent, ServiceResult } from './journal.js'
import { matchesSelector, parseSeries, valueAt, type Point, type SeriesIndex } from './series.js'

export const FIDELITY_ORDER: ServiceName[][] = [['kinesis'], ['cloudwatch', 'eventbridge'], ['lambda'], ['cognito']]

export interface FidelityInput {
  experiment: Pick<Experiment, 'topology' | 'method' | 'rollbacks' | 'workload'>
  index: SeriesIndex
  events: readonly JournalEvent[]
  services: Record<string, ServiceResult>
  runs: readonly ActionRun[]
  triggerMs: number
}

type Check = (input: FidelityInput) => FidelityCheck

const n_a = (name: string, detail: string): FidelityCheck => ({ name, applicable: false, met: false, detail })
const judged = (name: string, met: boolean, detail: string): FidelityCheck => ({ name, applicable: true, met, detail })

/** The members of a fleet that wrote anything to the timeline. */
function members(index: SeriesIndex, fleet = 'main'): string[] {
  const re = new RegExp(`^kinesis-frontend-${fleet}-\\d+$`)
  return index.services().filter((s) => re.test(s))
}

/** The points of the first series of `service` matching name and labels. */
function series(index: SeriesIndex, service: string, name: string, labels: Record<string, string> = {}): Point[] {
  const key = index.metricsOf(service).find((m) => matchesSelector(m, { name, labels }))
  return key ? index.points(service, key) : []
}

/** The highest value a series reached after t, minus its value at t: how much a counter/gauge grew. */
function growthAfter(points: readonly Point[], t: number): number {
  const base = valueAt(points, t)?.value ?? 0
  let max = Number.NEGATIVE_INFINITY
  for (const p of points) if (p.atMs > t && p.value !== null && p.value > max) max = p.value
  return Number.isFinite(max) ? max - base : 0
}

const threadLimitReached: Check = ({ index }) => {
  const name = 'thread-limit-reached'
  const fes = members(index)
  if (fes.length === 0) return n_a(name, 'no front-end metrics in the timeline')
  let reached = 0
  let refused = 0
  for (const fe of fes) {
    const failures = series(index, fe, 'kinesis_frontend_thread_create_failures_total')
    const grew = failures.length > 0 ? failures.reduce((m, p) => Math.max(m, p.value ?? 0), 0) - (failures[0].value ?? 0) : 0
    const limit = series(index, fe, 'kinesis_frontend_thread_limit')
    const atLimit = series(index, fe, 'kinesis_frontend_threads').some((p) => {
      const l = valueAt(limit, p.atMs)?.value
      return p.value !== null && l !== null && l !== undefined && l > 0 && p.value >= l
    })
    if (grew > 0 || atLimit || (failures[0]?.value ?? 0) > 0) reached++
    refused += Math.max(grew, failures.at(-1)?.value ?? 0)
  }
  return judged(name, reached > 0, `${reached} of ${fes.length} front-ends reached their OS thread limit (${refused} peer threads refused)`)
}

const everyFrontendBroke: Check = ({ index, triggerMs }) => {
  const name = 'every-frontend-broke'
  const fes = members(index)
  if (fes.length === 0) return n_a(name, 'no front-end metrics in the timeline')
  const broken = new Map(fes.map((fe) => [fe, series(index, fe, 'kinesis_frontend_shard_map_state', { state: 'broken' })]))
  const times = [...new Set([...broken.values()].flatMap((pts) => pts.filter((p) => p.value === 1 && p.atMs >= triggerMs).map((p) => p.atMs)))].sort(
    (a, b) => a - b,
  )
  let best = { count: 0, of: 0, atMs: 0 }
  let whole: { count: number; atMs: number } | undefined
  for (const t of times) {
    // A member counts while it is alive: it wrote something in the last two seconds.
    const alive = fes.filter((fe) => {
      const seen = index.lastSeenAt(fe, t)
      return seen !== undefined && t - seen <= 2_000
    })
    const count = alive.filter((fe) => valueAt(broken.get(fe)!, t)?.value === 1).length
    // The largest moment at which every live member was broken (the fleet keeps growing as it breaks).
    if (alive.length > 0 && count === alive.length && count > (whole?.count ?? 0)) whole = { count, atMs: t }
    if (count > best.count) best = { count, of: alive.length, atMs: t }
  }
  if (whole) return judged(name, true, `all ${whole.count} front-ends had a broken shard-map at ${sec(whole.atMs)}`)
  return judged(
    name,
    false,
    best.count === 0 ? 'no front-end shard-map broke' : `at most ${best.count} of ${best.of} front-ends were broken at once (${sec(best.atMs)})`,
  )
}

const removalDidNotHeal: Check = ({ experiment, runs, services }) => {
  const name = 'removal-did-not-heal'
  const k = services.kinesis
  let count = experiment.topology.fleets.main?.frontends ?? 0
  let removal: ActionRun | undefined
  for (const r of runs) {
    const args = r.action?.args
    if (args?.provider !== 'scale-fleet' || args.fleet !== 'main') continue
    if (args.to < count && k?.onsetMs !== null && k?.onsetMs !== undefined && r.atMs >= k.onsetMs && !removal) removal = r
    count = args.to
  }
  if (!removal || !k?.impacted) return n_a(name, 'no capacity was removed from the main fleet while Kinesis was impacted')
  const next = runs.find((r) => r.atMs > removal!.atMs && isRecoveryAction(r))
  const healedBefore = k.recoveredMs !== null && k.recoveredMs >= removal.atMs && (next === undefined || k.recoveredMs < next.atMs)
  return judged(
    name,
    !healedBefore,
    healedBefore
      ? `Kinesis recovered at ${sec(k.recoveredMs!)}, after ${removal.name} and before any restart`
      : `Kinesis stayed impacted after ${removal.name} at ${sec(removal.atMs)}${next ? ` until ${next.name} at ${sec(next.atMs)}` : ''}`,
  )
}

const restartHealed: Check = ({ runs, services }) => {
  const name = 'restart-healed'
  const k = services.kinesis
  const restart = runs.find((r) => r.provider === 'restart-fleet' && k?.onsetMs !== null && k?.onsetMs !== undefined && r.atMs >= k.onsetMs)
  if (!restart || !k?.impacted) return n_a(name, 'no fleet restart while Kinesis was impacted')
  const met = k.recoveredMs !== null && k.recoveredMs >= restart.atMs
  return judged(
    name,
    met,
    met
      ? `Kinesis recovered at ${sec(k.recoveredMs!)}, ${k.recoveredMs! - restart.atMs} ms after ${restart.name}`
      : `Kinesis did not recover after ${restart.name} at ${sec(restart.atMs)}`,
  )
}

/** The services whose 2020 breakage this run could show: present, and not remediated. */
function expectedToBreak(e: FidelityInput['experiment']): Set<ServiceName> {
  const sw = e.topology.switches
  const out = new Set<ServiceName>(['kinesis', ...e.topology.services])
  if (sw.cognito.sustainKinesisErrors) out.delete('cognito')
  if (sw.cloudwatch.localStore || sw.cloudwatch.partitionedFleet) {
    out.delete('cloudwatch')
    out.delete('lambda')
  }
  if (sw.lambda.boundedAgentBuffer) out.delete('lambda')
  return out
}

const onsetOrder: Check = ({ experiment, services }) => {
  const name = 'onset-order'
  const keep = expectedToBreak(experiment)
  const groups = FIDELITY_ORDER.map((g) => g.filter((s) => keep.has(s))).filter((g) => g.length > 0)
  if (groups.length < 2) return n_a(name, 'fewer than two stages of the 2020 cascade can show in this run')
  const r = checkOnsetOrder(groups, services)
  return judged(name, r.met, `${groups.map((g) => g.join('|')).join(' -> ')}: ${r.detail}`)
}

const bufferDelays: Check = ({ experiment, services }) => {
  const name = 'buffer-delays'
  const keep = expectedToBreak(experiment)
  const pairs = (
    [
      ['cognito', 'kinesis'],
      ['lambda', 'cloudwatch'],
    ] as const
  ).filter(([a, b]) => keep.has(a) && keep.has(b))
  if (pairs.length === 0) return n_a(name, 'neither Cognito nor Lambda can show a buffer filling in this run')
  const parts: string[] = []
  let met = true
  for (const [late, early] of pairs) {
    const a = services[late]
    const b = services[early]
    if (!a?.impacted || !b?.impacted) {
      met = false
      parts.push(`${late} after ${early}: ${!b?.impacted ? early : late} not impacted`)
      continue
    }
    const lag = a.onsetMs! - b.onsetMs!
    if (lag < 1_000) met = false
    parts.push(`${late} broke ${lag} ms after ${early}`)
  }
  return judged(name, met, parts.join('; '))
}

const lambdaErrorsAfterCloudWatch: Check = ({ experiment, services }) => {
  const name = 'lambda-errors-after-cloudwatch'
  if (!expectedToBreak(experiment).has('lambda') || !expectedToBreak(experiment).has('cloudwatch'))
    return n_a(name, 'Lambda or CloudWatch absent or remediated')
  const l = services.lambda
  const c = services.cloudwatch
  const met = !!l?.impacted && !!c?.impacted && l.onsetMs! > c.onsetMs! && l.errors > 0
  return judged(
    name,
    met,
    l?.impacted
      ? `Lambda broke at ${sec(l.onsetMs!)} with ${l.errors} failed invocations; CloudWatch ${c?.impacted ? `at ${sec(c.onsetMs!)}` : 'was not impacted'}`
      : 'Lambda was not impacted',
  )
}

const lambdaBufferGrew: Check = ({ experiment, index, triggerMs }) => {
  const name = 'lambda-agent-buffer-grew'
  if (!expectedToBreak(experiment).has('lambda')) return n_a(name, 'Lambda absent or remediated')
  const pts = series(index, 'lambda', 'lambda_agent_buffer_bytes')
  if (pts.length === 0) return n_a(name, 'no lambda_agent_buffer_bytes in the timeline')
  const grew = growthAfter(pts, triggerMs)
  return judged(name, grew > 0, `the host agent's buffer grew by ${Math.round(grew)} bytes after the trigger`)
}

const alarmsInsufficientData: Check = ({ experiment, index, triggerMs }) => {
  const name = 'alarms-insufficient-data'
  if (!expectedToBreak(experiment).has('cloudwatch')) return n_a(name, 'CloudWatch absent or remediated')
  // Per alarm: when it first had a known state (OK or ALARM), and the times it was INSUFFICIENT_DATA.
  const known = new Map<string, number>()
  const insufficient = new Map<string, number[]>()
  for (const m of index.metricsOf('cloudwatch')) {
    const sel = parseSeries(m)
    if (sel.name !== 'cloudwatch_alarm_state' || sel.labels.alarm === undefined) continue
    const alarm = sel.labels.alarm
    const on = index
      .points('cloudwatch', m)
      .filter((p) => p.value === 1)
      .map((p) => p.atMs)
    if (sel.labels.state === 'INSUFFICIENT_DATA') insufficient.set(alarm, on)
    else if (on.length) known.set(alarm, Math.min(on[0], known.get(alarm) ?? Number.POSITIVE_INFINITY))
    if (!insufficient.has(alarm)) insufficient.set(alarm, insufficient.get(alarm) ?? [])
  }
  const alarms = new Map<string, number | undefined>()
  for (const [alarm, times] of insufficient) {
    const k = known.get(alarm)
    alarms.set(alarm, k === undefined ? undefined : times.find((t) => t >= triggerMs && t > k))
  }
  if (alarms.size === 0) return n_a(name, 'no CloudWatch alarms in the timeline')
  const went = [...alarms].filter(([, t]) => t !== undefined).map(([n, t]) => `${n} at ${sec(t!)}`)
  return judged(
    name,
    went.length > 0,
    went.length ? `alarms went to INSUFFICIENT_DATA: ${went.join(', ')}` : `none of ${alarms.size} alarms went from a known state to INSUFFICIENT_DATA`,
  )
}

const cognitoBlocked: Check = ({ experiment, index, services, triggerMs }) => {
  const name = 'cognito-blocked'
  if (!expectedToBreak(experiment).has('cognito')) return n_a(name, 'Cognito absent or remediated (sustainKinesisErrors)')
  const blocked = series(index, 'cognito', 'cognito_requests_blocked').filter((p) => p.atMs >= triggerMs && (p.value ?? 0) > 0)
  if (blocked.length > 0) {
    const peak = blocked.reduce((m, p) => Math.max(m, p.value ?? 0), 0)
    return judged(name, true, `Cognito request handlers blocked on the access-pattern buffer from ${sec(blocked[0].atMs)} (up to ${peak} at once)`)
  }
  return judged(
    name,
    false,
    services.cognito?.impacted ? 'Cognito was impacted but no request handler blocked on its buffer' : 'no Cognito request handler blocked',
  )
}

function postResult(input: FidelityInput, path: 'primary' | 'backup'): { run: ActionRun; ok: boolean | undefined } | undefined {
  const run = input.runs.find((r) => r.action?.args.provider === 'post-status' && r.action.args.path === path && r.phase === 'method')
  if (!run) return undefined
  const end = input.events.find((e) => e.kind === 'action-end' && e.detail.name === run.name)
  let ok = end ? end.detail.ok === true : undefined
  if (ok === undefined) {
    const failures = input.index.metricsOf('status-page').filter((m) => matchesSelector(m, { name: 'status_page_post_failures_total', labels: { path } }))
    const updates = series(input.index, 'status-page', 'status_page_updates_total', { path })
    if (failures.some((m) => growthAfter(input.index.points('status-page', m), run.atMs) > 0)) ok = false
    else if (growthAfter(updates, run.atMs) > 0) ok = true
  }
  return { run, ok }
}

const dashboardPrimaryFailed: Check = (input) => {
  const name = 'dashboard-primary-failed'
  if (!expectedToBreak(input.experiment).has('cognito') || !input.experiment.topology.services.includes('status-page'))
    return n_a(name, 'no status page, or Cognito remediated')
  const r = postResult(input, 'primary')
  if (!r) return n_a(name, 'the method posts no status update on the primary path')
  return judged(
    name,
    r.ok === false,
    r.ok === false
      ? `${r.run.name} (primary path, signs in through Cognito) failed`
      : r.ok
        ? `${r.run.name} succeeded on the primary path`
        : `no outcome recorded for ${r.run.name}`,
  )
}

const dashboardBackupWorked: Check = (input) => {
  const name = 'dashboard-backup-worked'
  if (!input.experiment.topology.services.includes('status-page')) return n_a(name, 'no status page in this run')
  const r = postResult(input, 'backup')
  if (!r) return n_a(name, 'the method posts no status update on the backup path')
  return judged(
    name,
    r.ok === true,
    r.ok
      ? `${r.run.name} posted through the backup path`
      : r.ok === false
        ? `${r.run.name} failed on the backup path`
        : `no outcome recorded for ${r.run.name}`,
  )
}

export const FIDELITY_CHECKS: Check[] = [
  threadLimitReached,
  everyFrontendBroke,
  removalDidNotHeal,
  restartHealed,
  onsetOrder,
  bufferDelays,
  alarmsInsufficientData,
  lambdaBufferGrew,
  lambdaErrorsAfterCloudWatch,
  cognitoBlocked,
  dashboardPrimaryFailed,
  dashboardBackupWorked,
]

export function fidelity(input: FidelityInput): FidelityResult {
  const checks = FIDELITY_CHECKS.map((c) => c(input))
  const applicable = checks.filter((c) => c.applicable)
  return { score: applicable.length ? applicable.filter((c) => c.met).length / applicable.length : null, checks }
}
