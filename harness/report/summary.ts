// summary.md: the verdict first, then the cascade, the services, the expectations, the steady
// state and the fidelity checks. Plain GitHub-flavoured markdown, so it renders where it lands.
import type { Journal } from '../analyze/journal.js'

export const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`)
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`)
const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const mark = (ok: boolean) => (ok ? 'met' : '**NOT met**')

export function verdictLine(j: Journal): string {
  const met = j.expectations.filter((x) => x.met).length
  const parts = [
    `status **${j.status}**`,
    `expectations ${met}/${j.expectations.length} met`,
    `fidelity ${j.fidelity.score === null ? '-' : `${Math.round(j.fidelity.score * 100)}%`}`,
    `blast radius ${j.blastRadius ? `${j.blastRadius.count}/${j.blastRadius.total}` : '-'}`,
    `time to recover ${sec(j.recovery?.timeToRecoverMs)}`,
  ]
  return parts.join(' · ')
}

export function summaryMarkdown(j: Journal, outDir?: string): string {
  const lines: string[] = []
  lines.push(`# ${j.title}`, '')
  lines.push(verdictLine(j), '')
  lines.push(`Backend ${j.backend}, thread limit enforced by ${j.threadLimitEnforcement}, seed ${j.seed}, ${sec(j.durationMs)} from boot to teardown. Experiment: \`${j.experiment.file}\`.`)
  if ((j as any).error) lines.push('', `> The run aborted: ${(j as any).error}`)
  if (j.status === 'failed') lines.push('', '> The steady state did not hold before the method, so the method did not run.')
  if (j.deviated) lines.push('', '> The steady state did not hold after the method (the run deviated).')
  lines.push('', '## Cascade', '')
  if (j.cascade.length === 0) lines.push('No service was impacted.')
  else {
    lines.push('| # | service | onset | caused by | after its cause |', '|---|---|---|---|---|')
    j.cascade.forEach((c, i) => lines.push(`| ${i + 1} | ${c.service} | ${sec(c.onsetMs)} | ${c.cause} | ${sec(c.lagMs)} |`))
  }
  lines.push('', '## Services (client side)', '')
  lines.push('| service | impacted | onset | recovered | impact | time to recover | availability | p99 | errors |', '|---|---|---|---|---|---|---|---|---|')
  for (const [name, s] of Object.entries(j.services)) {
    lines.push(`| ${name} | ${s.impacted ? '**yes**' : 'no'} | ${sec(s.onsetMs)} | ${sec(s.recoveredMs)} | ${sec(s.impactMs)} | ${sec(s.timeToRecoverMs)} | ${pct(s.availability)} | ${s.p99Ms === null ? '-' : `${Math.round(s.p99Ms)} ms`} | ${s.errors} |`)
  }
  const clientErrors = (j as any).clientErrors as Record<string, Record<string, number>> | undefined
  const errorKinds = Object.entries(clientErrors ?? {}).filter(([, e]) => Object.keys(e).length)
  if (errorKinds.length) {
    lines.push('', 'Errors the customers saw:', '')
    for (const [service, errs] of errorKinds) lines.push(`- ${service}: ${Object.entries(errs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  lines.push('', '## Expectations', '')
  if (j.expectations.length === 0) lines.push('None were stated.')
  for (const x of j.expectations) lines.push(`- ${mark(x.met)}: **${x.name}**: ${esc(x.detail)}`)
  lines.push('', '## Steady-state hypothesis', '')
  for (const [when, ss] of [['before', j.steadyState.before], ['after', j.steadyState.after]] as const) {
    if (ss.probes.length === 0) continue
    lines.push(`${when} the method: ${mark(ss.met)}`, '', '| probe | service | value | tolerance | |', '|---|---|---|---|---|')
    for (const p of ss.probes) {
      const tol = [p.tolerance.min !== undefined ? `>= ${p.tolerance.min}` : '', p.tolerance.max !== undefined ? `<= ${p.tolerance.max}` : ''].filter(Boolean).join(', ')
      lines.push(`| ${p.name} | ${p.service} | ${p.value === null ? 'no data' : Number(p.value.toFixed(3))} | ${tol} | ${p.met ? 'met' : '**NOT met**'} |`)
    }
    lines.push('')
  }
  lines.push('## Fidelity to the 2020 outage', '')
  lines.push(`Score: ${j.fidelity.score === null ? '-' : `${Math.round(j.fidelity.score * 100)}%`} of the applicable mechanisms of FIDELITY.md showed.`, '')
  for (const c of j.fidelity.checks) lines.push(`- ${c.applicable ? mark(c.met) : 'n/a'}: ${c.name}: ${esc(c.detail)}`)
  lines.push('', '## What was done', '')
  for (const e of j.events) {
    const d = e.detail as any
    if (e.kind === 'action-start') lines.push(`- ${sec(e.atMs)}: ${d.phase === 'rollbacks' ? 'rollback' : 'action'} **${d.name}** (${d.provider})`)
    if (e.kind === 'action-end' && !d.ok) lines.push(`- ${sec(e.atMs)}: **${d.name}** failed: ${esc(String(d.error))}`)
    if (e.kind === 'alarm') lines.push(`- ${sec(e.atMs)}: alarm ${d.name} -> ${d.state}`)
  }
  if (outDir) lines.push('', `Files: journal.json, timeline.jsonl, report.html in \`${outDir}\`.`)
  return lines.join('\n') + '\n'
}
