// The published timeline of the 2020 outage (docs/fidelity.md, PST on 2020-11-25) mapped onto a run's
// time scale, each entry beside what the run measured for it.
//
// The anchor: the run's trigger (its first method action) stands for 03:47, not 02:44. A run's
// scale-fleet adds every member at once, so the action corresponds to the end of the 02:44-03:47
// addition; what follows in the run (members learning of the new peers within `learnDelay`, then
// every front-end crossing the limit) is what followed 03:47 in 2020 ("as the fleet learned of the
// new servers"). 02:44 therefore maps before the trigger.
import type { Journal, TimelineRows } from '../analyze/journal.js'
import { SeriesIndex, parseSeries } from '../analyze/series.js'

export const ANCHOR_PST = '03:47'

export interface Measured {
  atMs: number | null
  text: string
  /** A few words for the chart's lane (the table has the full text). */
  short?: string
}

export interface PublishedEntry {
  pst: string
  text: string
  /** The services whose onset or recovery this entry is about (for the graph and the lane). */
  kind: 'trigger' | 'onset' | 'recovery' | 'diagnosis'
}

export const PUBLISHED: PublishedEntry[] = [
  { pst: '02:44', text: 'capacity addition to the front-end fleet starts', kind: 'trigger' },
  { pst: '03:47', text: 'addition done; as the fleet learns of the new servers, every server crosses the OS thread limit', kind: 'trigger' },
  { pst: '05:15', text: 'first alarms: Kinesis PutRecord(s)/GetRecords errors; CloudWatch and EventBridge impacted', kind: 'onset' },
  { pst: '06:15', text: 'Lambda invocation errors (agent buffers exhaust host memory)', kind: 'onset' },
  { pst: '07:01', text: 'Cognito sign-in and credential APIs fail (handlers block on the buffer)', kind: 'onset' },
  { pst: '09:39', text: 'root cause confirmed; the added capacity is removed', kind: 'diagnosis' },
  { pst: '10:07', text: 'first front-ends serve traffic again (paced restart)', kind: 'recovery' },
  { pst: '10:15', text: 'Cognito fix deployed', kind: 'recovery' },
  { pst: '10:36', text: 'Lambda recovered', kind: 'recovery' },
  { pst: '14:18', text: 'Cognito back to normal', kind: 'recovery' },
  { pst: '16:15', text: 'ECS / EKS provisioning recovered', kind: 'recovery' },
  { pst: '17:47', text: 'CloudWatch recovering early; reactive AutoScaling works again', kind: 'recovery' },
  { pst: '22:23', text: 'Kinesis fully recovered', kind: 'recovery' },
  { pst: '22:31', text: 'CloudWatch fully recovered (backfill after)', kind: 'recovery' },
]

export interface MappedEntry extends PublishedEntry {
  /** Hours after the anchor (negative before it). */
  hoursFromAnchor: number
  /** Where this moment falls in the run, ms from the start of the method. */
  mappedMs: number
  /** What the run measured for it, when it has a counterpart. */
  measured: Measured[]
}

export interface PublishedTimeline {
  anchor: string
  timeScale: number
  triggerMs: number
  entries: MappedEntry[]
}

const hours = (pst: string) => {
  const [h, m] = pst.split(':').map(Number)
  return h + m / 60
}

const SANE_MS = 1e8

/** The first method action's start: the trigger (none when the method did not run). */
export function triggerOf(j: Journal): { atMs: number; name: string } | null {
  const e = (j.events ?? []).find((x) => x.kind === 'action-start' && x.detail.phase !== 'rollbacks' && Math.abs(x.atMs) < SANE_MS)
  return e ? { atMs: e.atMs, name: String(e.detail.name) } : null
}

interface FrontendFacts {
  firstBrokeMs: number | null
  allBrokeMs: number | null
  brokeCount: number
  members: number
  firstServingMs: number | null
}

/** When front-ends broke and when the first came back to a ready shard-map, from the timeline. */
export function frontendFacts(index: SeriesIndex, afterMs: number): FrontendFacts {
  const frontends = index.services().filter((s) => /^kinesis-frontend-/.test(s))
  const brokeAt: number[] = []
  const readyAgain: { process: string; atMs: number }[] = []
  for (const f of frontends) {
    const key = (state: string) =>
      index.metricsOf(f).find((k) => parseSeries(k).name === 'kinesis_frontend_shard_map_state' && parseSeries(k).labels.state === state)
    const broken = key('broken')
    const first = broken ? index.points(f, broken).find((p) => p.atMs >= afterMs && p.value === 1) : undefined
    if (first) brokeAt.push(first.atMs)
    const ready = key('ready')
    if (ready) {
      let prev: number | null = null
      for (const p of index.points(f, ready)) {
        if (p.atMs >= afterMs && prev !== 1 && p.value === 1) readyAgain.push({ process: f, atMs: p.atMs })
        prev = p.value
      }
    }
  }
  const firstBrokeMs = brokeAt.length ? Math.min(...brokeAt) : null
  const firstServing = firstBrokeMs === null ? undefined : readyAgain.filter((r) => r.atMs > firstBrokeMs).sort((a, b) => a.atMs - b.atMs)[0]
  return {
    firstBrokeMs,
    allBrokeMs: brokeAt.length && brokeAt.length === frontends.length ? Math.max(...brokeAt) : null,
    brokeCount: brokeAt.length,
    members: frontends.length,
    firstServingMs: firstServing?.atMs ?? null,
  }
}

/** The last time a CloudWatch alarm left INSUFFICIENT_DATA after having entered it (metrics flowed again). */
function alarmsBackMs(index: SeriesIndex, afterMs: number): number | null {
  let last: number | null = null
  for (const k of index.metricsOf('cloudwatch')) {
    const s = parseSeries(k)
    if (s.name !== 'cloudwatch_alarm_state' || s.labels.state !== 'INSUFFICIENT_DATA') continue
    let entered = false
    let prev: number | null = null
    for (const p of index.points('cloudwatch', k)) {
      if (p.atMs < afterMs) {
        prev = p.value
        continue
      }
      if (p.value === 1 && prev !== 1) entered = true
      if (entered && prev === 1 && p.value === 0) last = last === null ? p.atMs : Math.max(last, p.atMs)
      prev = p.value
    }
  }
  return last
}

export function publishedTimeline(j: Journal, rows: TimelineRows, anchor = ANCHOR_PST): PublishedTimeline {
  const timeScale = j.experiment?.timeScale ?? 10
  const trigger = triggerOf(j)
  const triggerMs = trigger?.atMs ?? 0
  const index = new SeriesIndex(rows, (r) => Math.abs(r.atMs) < SANE_MS)
  const fe = frontendFacts(index, triggerMs)
  const svc = (name: string) => j.services?.[name]
  const onset = (name: string): Measured[] => {
    const s = svc(name)
    if (!s) return []
    return [{ atMs: s.onsetMs, text: s.onsetMs === null ? `${name} not impacted` : `${name} impacted`, short: name }]
  }
  const recovered = (name: string, what = 'recovered'): Measured[] => {
    const s = svc(name)
    if (!s || !s.impacted) return []
    return [{ atMs: s.recoveredMs, text: s.recoveredMs === null ? `${name} never recovered` : `${name} ${what}`, short: name }]
  }
  const actions = (j.events ?? []).filter((e) => e.kind === 'action-start' && Math.abs(e.atMs) < SANE_MS)
  const removal = actions.find((e) => e.atMs > triggerMs && e.detail.provider === 'scale-fleet')
  const threadAlarm = (j.events ?? []).find((e) => e.kind === 'alarm' && e.detail.state === 'ALARM' && Math.abs(e.atMs) < SANE_MS)
  const back = alarmsBackMs(index, triggerMs)

  const measuredFor = (pst: string): Measured[] => {
    switch (pst) {
      case '02:44':
        return []
      case '03:47': {
        const out: Measured[] = []
        if (trigger) out.push({ atMs: trigger.atMs, text: `trigger: ${trigger.name}`, short: 'trigger' })
        if (fe.firstBrokeMs !== null) out.push({ atMs: fe.firstBrokeMs, text: 'first front-end shard-map broken', short: '1st broken' })
        if (fe.allBrokeMs !== null) out.push({ atMs: fe.allBrokeMs, text: `all ${fe.members} front-ends broken`, short: 'all broken' })
        else if (fe.brokeCount) out.push({ atMs: null, text: `${fe.brokeCount} of ${fe.members} front-ends broke` })
        return out
      }
      case '05:15':
        return [...onset('kinesis'), ...onset('cloudwatch'), ...onset('eventbridge'), ...onset('autoscaler').filter((m) => m.atMs !== null)]
      case '06:15':
        return onset('lambda')
      case '07:01':
        return onset('cognito')
      case '09:39': {
        const out: Measured[] = []
        if (threadAlarm) out.push({ atMs: threadAlarm.atMs, text: `${threadAlarm.detail.name} fired`, short: 'thread alarm' })
        if (removal) out.push({ atMs: removal.atMs, text: `capacity removed: ${removal.detail.name}`, short: 'removed' })
        return out
      }
      case '10:07':
        return fe.firstServingMs === null ? [] : [{ atMs: fe.firstServingMs, text: 'first front-end ready again', short: '1st ready' }]
      case '10:36':
        return recovered('lambda')
      case '14:18':
        return recovered('cognito')
      case '16:15':
        return recovered('autoscaler')
      case '17:47':
        return recovered('cloudwatch', 'recovered (client side)')
      case '22:23':
        return recovered('kinesis')
      case '22:31':
        return back === null ? [] : [{ atMs: back, text: 'alarms evaluated on data again', short: 'alarms back' }]
      default:
        return []
    }
  }
  const a = hours(anchor)
  return {
    anchor,
    timeScale,
    triggerMs,
    entries: PUBLISHED.map((p) => {
      const h = hours(p.pst) - a
      return { ...p, hoursFromAnchor: h, mappedMs: Math.round(triggerMs + h * timeScale * 1000), measured: measuredFor(p.pst) }
    }),
  }
}
