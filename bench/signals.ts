// Nothing outlives a run, on every phase and signal of a platform: `outage-lab run` of a short
// experiment stopped by SIGINT, SIGTERM and SIGKILL as each of its 9 phases begins (27 runs,
// bench/lib/stop-in-phase.ts says what is checked). The suite sends all 27 on local and three on
// compose, where each run costs about a minute; this sends all 27 on the platform asked for.
// The figure: per phase and signal, what was left (processes, pids cgroups, containers, networks,
// volumes), the journal's status, the exit code, and how long from the signal to the CLI's exit
// and to nothing left.
//   npx tsc -p . && node dist/bench/signals.js [--platform compose|local] [--phases boot,method] [--record]
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { PHASES, SIGNALS, checksOf, composeLeftoversOf, leftoversOf, stopRunIn, type Phase, type StopOutcome } from './lib/stop-in-phase.js'
import { PACKAGE_ROOT } from '../harness/platform/paths.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'

const { values: args } = parseArgs({
  options: {
    platform: { type: 'string', default: 'compose' },
    phases: { type: 'string', default: PHASES.join(',') },
    record: { type: 'boolean', default: false },
  },
})
const platform = args.platform!
if (platform !== 'compose' && platform !== 'local') throw new Error(`--platform: expected compose or local, got ${platform}`)
const phases = args.phases!.split(',').map((p) => p.trim()) as Phase[]
for (const p of phases) if (!PHASES.includes(p)) throw new Error(`--phases: ${p} is not a phase (expected some of ${PHASES.join(', ')})`)

const m = machine()
console.log(`signals: ${describeMachine(m)}; ${platform}, ${phases.length} phases x ${SIGNALS.length} signals`)
const parent = path.join(PACKAGE_ROOT, '.outage-lab', 'bench-runs')
fs.mkdirSync(parent, { recursive: true })
const dir = fs.mkdtempSync(path.join(parent, 'signals-'))
const outcomes: StopOutcome[] = []
const failures: string[] = []
const t0 = performance.now()
try {
  for (const phase of phases)
    for (const signal of SIGNALS) {
      const o = await stopRunIn(dir, platform, phase, signal)
      outcomes.push(o)
      const failed = checksOf(o).filter((c) => !c.ok)
      for (const c of failed) failures.push(`${c.what} (seen: ${JSON.stringify(c.seen)})`)
      console.log(
        `  ${signal} in ${phase}: ${failed.length === 0 ? 'ok' : `${failed.length} check(s) failed`}; exit ${o.code ?? o.exitSignal} after ${sec(o.exitMs)}, clean after ${sec(o.cleanMs)}`,
      )
    }
} finally {
  if (failures.length === 0) fs.rmSync(dir, { recursive: true, force: true })
  else console.log(`run folders kept in ${dir}`)
}
const minutes = (performance.now() - t0) / 60_000
// What a run's cleanup missed can show up late (a compose call still creating containers after a
// SIGKILL): every run is looked at again once the last one's reaper is done.
await new Promise((r) => setTimeout(r, 15_000))
const lateLeft = outcomes.flatMap((o) => [...leftoversOf(o.harnessPid), ...(platform === 'compose' ? composeLeftoversOf(o.harnessPid) : [])])
if (lateLeft.length > 0) failures.push(`left at the end of the benchmark: ${lateLeft.join(', ')}`)

function sec(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-'
}

function cell(o: StopOutcome | undefined): string {
  if (!o) return '-'
  const left = [...o.leftovers, ...o.composeLeftovers]
  const failed = checksOf(o).filter((c) => !c.ok)
  const parts = [
    left.length === 0 ? 'nothing left' : `**left: ${left.join(', ')}**`,
    o.signal === 'SIGKILL' ? 'killed' : `${o.journalStatus ?? '**no journal**'}, exit ${o.code}`,
    `${sec(o.exitMs)} / ${sec(o.cleanMs)}`,
  ]
  if (failed.length > 0) parts.push(`**failed: ${failed.map((c) => c.what).join('; ')}**`)
  return parts.join('; ')
}

const rows = phases.map((phase) => [phase, ...SIGNALS.map((s) => cell(outcomes.find((o) => o.phase === phase && o.signal === s)))])
const clean = outcomes.filter((o) => o.leftovers.length + o.composeLeftovers.length === 0).length
const graceful = outcomes.filter((o) => o.signal !== 'SIGKILL')
const journals = graceful.filter((o) => o.journalStatus !== undefined).length
const allChecks = outcomes.filter((o) => checksOf(o).every((c) => c.ok)).length
const cleanTimes = outcomes.map((o) => o.cleanMs).filter(Number.isFinite)
const body = [
  `## signals-${platform}`,
  '',
  `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}.`,
  '',
  `\`node dist/bench/signals.js --platform ${platform}${phases.length < PHASES.length ? ` --phases ${phases.join(',')}` : ''}\`: ` +
    `\`outage-lab run\` of a short experiment (bench/lib/stop-in-phase.ts) on ${platform}, sent each signal as the phase begins ` +
    `(2 s into the boot), one run each: ${outcomes.length} runs in ${minutes.toFixed(1)} min. ` +
    `A cell: what of the run was left (processes carrying its run id and pids cgroups after up to 15 s` +
    `${platform === 'compose' ? '; containers, networks and volumes of its compose project after up to 60 s' : ''}); ` +
    "the journal's status and the exit code (a SIGKILLed CLI writes none); seconds from the signal to the CLI's exit / to nothing left.",
  '',
  table(['phase', ...SIGNALS], rows, ['l', 'l', 'l', 'l']),
  '',
  `**Nothing left after ${clean} of ${outcomes.length} runs; the journal written by ${journals} of ${graceful.length} INT and TERM runs; ` +
    `every check met in ${allChecks} of ${outcomes.length}; nothing left at most ${sec(Math.max(...cleanTimes))} after the signal; ` +
    `looked at again 15 s after the last run, ${lateLeft.length === 0 ? 'still nothing of any run' : `**left: ${lateLeft.join(', ')}**`}.**`,
].join('\n')
console.log(`\n${body}\n`)
for (const f of failures) console.log(`FAIL ${f}`)
if (args.record) {
  recordSection(`signals-${platform}`, body)
  console.log('recorded in bench/RESULTS.md')
}
if (failures.length > 0) process.exitCode = 1
