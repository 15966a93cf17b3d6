// The comparison of runs as markdown: a suite's matrix (one row per experiment, one column per
// service: impact duration or "ok") and two runs side by side (`outage-lab compare`). compare.html
// (compare-html.ts) draws the same with the runs' charts overlaid.
import { servicesOfRuns } from '../analyze/customers.js'
import { compareRuns, summarizeRun } from '../analyze/compare.js'
import type { Journal } from '../analyze/journal.js'
import { sec, score, delta } from './format.js'

export interface SuiteEntry {
  file: string
  outDir: string
  exitCode: number
  journal?: Journal
}

function cell(j: Journal, service: string): string {
  const s = j.services[service]
  if (!s) return 'n/a'
  if (!s.impacted) return '✅ ok'
  return s.recoveredMs === null ? `🟥 **down ${sec(s.impactMs)}+**` : `🟧 down ${sec(s.impactMs)}`
}

export function suiteMarkdown(entries: SuiteEntry[]): string {
  const services = servicesOfRuns(entries.map((e) => e.journal))
  const lines = [
    '# outage-lab suite',
    '',
    'Impact per service (client side): `ok`, or how long it was down (`+`: not recovered by the end). Charts of the runs overlaid: compare.html.',
    '',
  ]
  lines.push(`| experiment | status | ${services.join(' | ')} | blast radius | time to recover | expectations | fidelity |`)
  lines.push(`|---|---|${services.map(() => '---|').join('')}---:|---:|---|---|`)
  for (const e of entries) {
    const j = e.journal
    if (!j) {
      lines.push(`| ${e.file} | did not run (exit ${e.exitCode}) |${services.map(() => ' |').join('')} | | | |`)
      continue
    }
    const s = summarizeRun(j)
    const radius = j.blastRadius ? `${j.blastRadius.count}/${j.blastRadius.total}` : '-'
    lines.push(
      `| ${j.title} (\`${e.file}\`) | ${j.status} | ${services.map((x) => cell(j, x)).join(' | ')} | ${radius} | ${sec(s.timeToRecoverMs)} | ${s.expectationsMet}/${s.expectationsTotal} | ${score(s.fidelityScore)} |`,
    )
  }
  return lines.join('\n') + '\n'
}

export function compareMarkdown(a: Journal, b: Journal): string {
  const c = compareRuns(a, b)
  const lines = [`# ${c.a.title}  vs  ${c.b.title}`, '', `A: \`${c.a.experiment}\` (${c.a.status}), B: \`${c.b.experiment}\` (${c.b.status})`, '']
  lines.push('| service | A impacted | A impact | A recover | B impacted | B impact | B recover | impact B-A |', '|---|---|---:|---:|---|---:|---:|---:|')
  for (const s of c.services) {
    const f = (x: typeof s.a) =>
      x ? [x.impacted ? (x.recovered ? '🟧 yes' : '🟥 **yes, never recovered**') : '✅ no', sec(x.impactMs), sec(x.timeToRecoverMs)] : ['n/a', '', '']
    lines.push(
      `| ${s.service} | ${f(s.a).join(' | ')} | ${f(s.b).join(' | ')} | ${s.impactMsDelta === null ? (s.impactChanged ? 'changed' : '-') : delta(s.impactMsDelta)} |`,
    )
  }
  lines.push(
    '',
    `Expectations met: A ${c.a.expectationsMet}/${c.a.expectationsTotal}, B ${c.b.expectationsMet}/${c.b.expectationsTotal}. Time to recover: A ${sec(c.a.timeToRecoverMs)}, B ${sec(c.b.timeToRecoverMs)}.`,
  )
  const differing = c.expectations.filter((x) => x.a !== x.b)
  if (differing.length) {
    lines.push('', 'Expectations that differ:', '')
    for (const x of differing)
      lines.push(`- ${x.name}: A ${x.a === undefined ? 'n/a' : x.a ? 'met' : 'NOT met'}, B ${x.b === undefined ? 'n/a' : x.b ? 'met' : 'NOT met'}`)
  }
  return lines.join('\n') + '\n'
}
