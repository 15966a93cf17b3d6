// summary.md: the same verdict as report.html, then the cascade, the services, the expectations,
// the steady state, the 2020 timeline on this run's scale and the fidelity checks. Plain
// GitHub-flavoured markdown (tables, no HTML), so it reads the same in a terminal and on GitHub.
import path from 'node:path'
import type { Journal, TimelineRows } from '../analyze/journal.js'
import { readTimeline } from '../observe/timeline.js'
import { sec, pct, ms, score, delta, escCell as esc, toleranceText, probeValue } from './format.js'
import { publishedTimeline, triggerOf } from './published.js'
import { lagSentence } from '../analyze/observation.js'
import { calledText, customerNames } from './customers.js'

export { sec } from './format.js'

const mark = (ok: boolean) => (ok ? '✅ met' : '❌ **NOT met**')

export function verdictLine(j: Journal): string {
  const met = j.expectations.filter((x) => x.met).length
  const parts = [
    `status **${j.status}${j.deviated ? ' (deviated)' : ''}**`,
    `expectations ${met}/${j.expectations.length} met`,
    `fidelity ${score(j.fidelity.score)}`,
    `blast radius ${j.blastRadius ? `${j.blastRadius.count}/${j.blastRadius.total}` : '-'}`,
    `time to recover ${sec(j.recovery?.timeToRecoverMs)}`,
    ...(j.observation?.lagged ? ['**observation lagged**'] : []),
  ]
  return parts.join(' · ')
}

/** The cascade as a table: order, onset, the dependency it came through, recovery. */
export function cascadeTable(j: Journal): string[] {
  if (j.cascade.length === 0) return ['No service was impacted.']
  const lines = ['| # | service | onset | caused by | after its cause | recovered | down for |', '|---:|---|---:|---|---:|---:|---:|']
  j.cascade.forEach((c, i) => {
    const s = j.services[c.service]
    const rec = !s ? '-' : s.recoveredMs === null ? '**never**' : sec(s.recoveredMs)
    const down = !s ? '-' : `${sec(s.impactMs)}${s.recoveredMs === null ? '+' : ''}`
    lines.push(`| ${i + 1} | **${c.service}** | ${sec(c.onsetMs)} | ${c.cause}${c.evidence ? ` (${c.evidence})` : ''} | ${sec(c.lagMs)} | ${rec} | ${down} |`)
  })
  return lines
}

/** `rows`: the run's timeline (read from outDir/timeline.jsonl when not given) for the 2020 timeline's measured moments. */
export function summaryMarkdown(j: Journal, outDir?: string, rows?: TimelineRows): string {
  const lines: string[] = []
  lines.push(`# ${j.title}`, '')
  lines.push(verdictLine(j), '')
  lines.push(
    `Backend ${j.backend}, thread limit enforced by ${j.threadLimitEnforcement}, seed ${j.seed}, ${sec(j.durationMs)} from boot to teardown. Experiment: \`${j.experiment?.file ?? ''}\`.`,
  )
  const error = (j as { error?: string }).error
  if (error) lines.push('', `> The run aborted: ${error}`)
  if (j.status === 'failed') lines.push('', '> The steady state did not hold before the method, so the method did not run.')
  if (j.deviated) lines.push('', '> The steady state did not hold after the method (the run deviated).')
  const lag = lagSentence(j.observation)
  if (lag) lines.push('', `> The ${lag}.`)
  if (j.recovery) {
    const r = j.recovery
    const how = r.unrecovered.length
      ? `Not recovered by the end: ${r.unrecovered.join(', ')}.`
      : r.lastRecoveredMs === null
        ? ''
        : r.recoveryAction
          ? `Recovered ${sec(r.timeToRecoverMs)} after **${r.recoveryAction.name}** (${r.recoveryAction.provider}, at ${sec(r.recoveryAction.atMs)}); the last service came back at ${sec(r.lastRecoveredMs)}.`
          : `The last service came back at ${sec(r.lastRecoveredMs)}, with no recovery action before it.`
    if (how) lines.push('', how)
  }
  lines.push('', '## Cascade', '', ...cascadeTable(j))
  lines.push('', '## Services (client side)', '')
  lines.push(
    '| service | impacted | onset | recovered | impact | time to recover | availability | p99 | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  )
  for (const [name, s] of Object.entries(j.services)) {
    lines.push(
      `| ${name} | ${s.impacted ? '**yes**' : 'no'} | ${sec(s.onsetMs)} | ${sec(s.recoveredMs)} | ${sec(s.impactMs)} | ${sec(s.timeToRecoverMs)} | ${pct(s.availability)} | ${ms(s.p99Ms)} | ${s.errors} |`,
    )
  }
  const clientErrors = (j as { clientErrors?: Record<string, Record<string, number>> }).clientErrors
  const errorKinds = Object.entries(clientErrors ?? {}).filter(([, e]) => Object.keys(e).length)
  if (errorKinds.length) {
    lines.push('', 'Errors the customers saw:', '')
    for (const [service, errs] of errorKinds)
      lines.push(
        `- ${service}: ${Object.entries(errs)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      )
  }
  const evidence = Object.entries(j.services).filter(([, s]) => s.corroboration || s.uncorroborated?.length)
  if (evidence.length) {
    lines.push('', 'What held each onset, beyond the customers (docs/experiments.md, "How a run is judged"):', '')
    for (const [name, s] of evidence) {
      const parts = [s.corroboration ? `onset held by ${esc(s.corroboration)}` : 'not impacted']
      if (s.uncorroborated?.length) parts.push(`client-side breaches nothing else showed, from ${s.uncorroborated.map((u) => sec(u.onsetMs)).join(', ')}`)
      lines.push(`- ${name}: ${parts.join('; ')}`)
    }
  }
  const customers = customerNames(j)
  if (customers.length) {
    lines.push(
      '',
      '## Customer services',
      '',
      "Your own services (topology.customers): what the harness saw of them, and what the lab counted of their calls under each one's key.",
      '',
    )
    lines.push('| customer | impacted | onset | caused by | recovered | availability | called |', '|---|---|---:|---|---:|---:|---|')
    for (const name of customers) {
      const s = j.services[name]
      const c = j.cascade.find((x) => x.service === name)
      lines.push(
        `| **${name}** | ${s?.impacted ? '**yes**' : s ? 'no' : '-'} | ${sec(s?.onsetMs)} | ${c ? c.cause : '-'} | ${sec(s?.recoveredMs)} | ${pct(s?.availability)} | ${esc(calledText(j, name))} |`,
      )
    }
  }
  lines.push('', '## Expectations', '')
  if (j.expectations.length === 0) lines.push('None were stated.')
  for (const x of j.expectations) lines.push(`- ${mark(x.met)}: **${x.name}**: ${esc(x.detail)}`)
  lines.push('', '## Steady-state hypothesis', '')
  const names = [...new Set([...j.steadyState.before.probes, ...j.steadyState.after.probes].map((p) => p.name))]
  if (names.length === 0) lines.push('The experiment states no steady-state hypothesis.')
  else {
    const held = (ss: Journal['steadyState']['before']) => (ss.probes.length === 0 ? 'not checked' : ss.met ? 'held' : '**did NOT hold**')
    lines.push(`Before the method: ${held(j.steadyState.before)}; after the rollbacks: ${held(j.steadyState.after)}.`, '')
    lines.push('| probe | service | tolerance | before | after |', '|---|---|---|---:|---:|')
    for (const n of names) {
      const b = j.steadyState.before.probes.find((p) => p.name === n)
      const a = j.steadyState.after.probes.find((p) => p.name === n)
      const any = (b ?? a)!
      const cell = (p: typeof b) => (p ? `${probeValue(p.value)} ${p.met ? '✅' : '❌'}` : 'not checked')
      lines.push(`| ${n} | ${any.service} | ${toleranceText(any.tolerance)} | ${cell(b)} | ${cell(a)} |`)
    }
  }
  if (triggerOf(j)) {
    const p = publishedTimeline(j, rows ?? (outDir ? readTimeline(path.join(outDir, 'timeline.jsonl')) : []))
    lines.push('', "## The 2020 timeline on this run's scale", '')
    lines.push(
      `${p.timeScale} s of run per incident hour; the trigger (at ${sec(p.triggerMs)}) stands for ${p.anchor} PST, when the capacity addition was done and the fleet, learning of the new servers, crossed its thread limit.`,
      '',
    )
    lines.push('| PST | published | mapped | measured in this run |', '|---|---|---:|---|')
    for (const e of p.entries) {
      const m = e.measured.length
        ? e.measured.map((x) => (x.atMs === null ? x.text : `${x.text} at ${sec(x.atMs)} (${delta(x.atMs - e.mappedMs)})`)).join('; ')
        : '-'
      lines.push(`| ${e.pst} | ${esc(e.text)} | ${sec(e.mappedMs)} | ${esc(m)} |`)
    }
  }
  lines.push('', '## Fidelity to the 2020 outage', '')
  lines.push(`Score: ${score(j.fidelity.score)} of the applicable mechanisms of docs/fidelity.md showed.`, '')
  for (const c of j.fidelity.checks) lines.push(`- ${c.applicable ? mark(c.met) : '➖ n/a'}: ${c.name}: ${esc(c.detail)}`)
  lines.push('', '## What was done', '')
  const done = j.events.filter(
    (e) => Math.abs(e.atMs) < 1e8 && (e.kind === 'action-start' || (e.kind === 'action-end' && e.detail.ok === false) || e.kind === 'alarm'),
  )
  if (done.length === 0) lines.push('Nothing: the method did not run.')
  for (const e of done) {
    const d = e.detail as Record<string, unknown>
    if (e.kind === 'action-start') lines.push(`- ${sec(e.atMs)}: ${d.phase === 'rollbacks' ? 'rollback' : 'action'} **${d.name}** (${d.provider})`)
    if (e.kind === 'action-end') lines.push(`- ${sec(e.atMs)}: **${d.name}** failed: ${esc(String(d.error))}`)
    if (e.kind === 'alarm') lines.push(`- ${sec(e.atMs)}: alarm ${d.name} -> ${d.state}`)
  }
  if (outDir) lines.push('', `Files: journal.json, timeline.jsonl, report.html in \`${outDir}\`.`)
  return lines.join('\n') + '\n'
}
