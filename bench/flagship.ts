// Wall time of the flagship experiment as a user runs it: `outage-lab run
// experiments/kinesis-2020-11-25.yaml [--backend compose]`, from the command's start to its exit,
// boot and teardown included. Target (local backend): under 120 s on a 2-core machine; the compose
// figure is recorded next to it (section flagship-compose). The phases come from the run's journal.
//   npx tsc -p . && node dist/bench/flagship.js [--record] [--reps 2] [--backend compose]
import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { median } from './lib/procfs.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    reps: { type: 'string', default: '2' },
    file: { type: 'string', default: 'experiments/kinesis-2020-11-25.yaml' },
    backend: { type: 'string', default: 'local' },
  },
})
if (args.backend !== 'local' && args.backend !== 'compose') throw new Error(`--backend: expected local or compose, got ${args.backend}`)
const compose = args.backend === 'compose'
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
const TARGET_S = 120
const m = machine()
console.log(`flagship: ${describeMachine(m)}`)

/** The parts of journal.json this benchmark reads. */
interface JournalView {
  events: { kind: string; atMs: number; detail: { phase?: string } }[]
  expectations: { met: boolean }[]
  experiment: { durationMs: number }
}

function runOnce(outDir: string): Promise<{ wallS: number; code: number | null; journal: JournalView | undefined }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/harness/cli.js'), 'run', path.join(ROOT, args.file!), '--backend', args.backend!, '--out', outDir],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH, CI: 'true', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) },
      },
    )
    child.on('exit', (code) => {
      const wallS = (performance.now() - started) / 1000
      const file = path.join(outDir, 'journal.json')
      resolve({ wallS, code, journal: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as JournalView) : undefined })
    })
  })
}

const rows: (string | number)[][] = []
const walls: number[] = []
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-flagship-'))
try {
  for (let i = 1; i <= Number(args.reps); i++) {
    const r = await runOnce(path.join(dir, `run-${i}`))
    walls.push(r.wallS)
    const phase = (name: string) => r.journal?.events.find((e) => e.kind === 'phase' && e.detail.phase === name)?.atMs
    // Phase events are timed from the method's start, so the boot phase's time is negative.
    const bootToMethodS = -(phase('boot') ?? Number.NaN) / 1000
    const met = r.journal ? `${r.journal.expectations.filter((x) => x.met).length}/${r.journal.expectations.length}` : '-'
    rows.push([
      i,
      r.wallS.toFixed(1),
      bootToMethodS.toFixed(1),
      r.journal ? (r.journal.experiment.durationMs / 1000).toFixed(0) : '-',
      r.code ?? '-',
      met,
      loadNow(),
    ])
    console.log(`run ${i}: ${r.wallS.toFixed(1)} s, exit ${r.code}, expectations ${met}`)
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
const med = median(walls)
const body = [
  `## ${compose ? 'flagship-compose' : 'flagship'}`,
  '',
  compose
    ? `Command: \`outage-lab run ${args.file} --backend compose\` (image outage-lab:latest, thread limit = pids_limit), wall time from spawn to exit. Median ${med.toFixed(1)} s (the local backend's target is ${TARGET_S} s; section flagship).`
    : `Command: \`outage-lab run ${args.file}\` (local backend, pids cgroups), wall time from spawn to exit. Target: under ${TARGET_S} s. Median ${med.toFixed(1)} s: **${med < TARGET_S ? 'MET' : 'NOT MET'}**.`,
  '',
  table(['run', 'wall s', 'boot + seed + warm-up before the method s', 'method s (duration)', 'exit', 'expectations met', 'load average after'], rows),
  '',
  `Machine: ${describeMachine(m)}.`,
].join('\n')
console.log(body)
if (args.record) recordSection(compose ? 'flagship-compose' : 'flagship', body)
