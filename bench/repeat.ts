// How often an experiment holds: `outage-lab repeat FILE --runs N` as a user runs it, then its
// repeat.md recorded in bench/RESULTS.md (section repeat-<experiment>[-<platform>]) with the
// machine and the load before and after. --from records a repeat folder that already ran (a long
// repeat is run once, from its own checkout, and recorded afterwards).
//   npx tsc -p . && node dist/bench/repeat.js --file experiments/kinesis-2020-11-25.yaml --runs 20 [--platform compose] [--record]
//   node dist/bench/repeat.js --from runs/<repeat folder> [--note 'what else ran'] --record
import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { recordSection, wantsRecord } from './lib/results.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    file: { type: 'string' },
    runs: { type: 'string', default: '10' },
    platform: { type: 'string', default: 'local' },
    from: { type: 'string' },
    note: { type: 'string' },
  },
})
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')

interface RepeatFile {
  title: string
  experiment: string
  platform: string
  machine: string
  date: string
  planned: number
  runs: { durationMs: number }[]
  held: { passed: number; runs: number }
}

async function main(): Promise<void> {
  let dir = args.from ? path.resolve(args.from) : undefined
  const m = machine()
  let how: string
  if (!dir) {
    if (!args.file) throw new Error('--file FILE (an experiment) or --from DIR (a repeat folder) is needed')
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-repeat-'))
    console.log(`repeat: ${describeMachine(m)}; runs in ${dir}`)
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'dist/harness/cli.js'), 'repeat', path.join(ROOT, args.file!), '--runs', args.runs!, '--platform', args.platform!, '--out', dir!],
        {
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { PATH: process.env.PATH, CI: 'true', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) },
        },
      )
      child.on('exit', resolve)
    })
    how = `\`node dist/bench/repeat.js --file ${args.file} --runs ${args.runs} --platform ${args.platform}\` (exit ${code}); ${describeMachine(m)}; load average at the end ${loadNow()}.`
  } else {
    how = `Run with \`outage-lab repeat\` into a folder of its own, recorded with \`node dist/bench/repeat.js --from\`.`
  }
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'repeat.json'), 'utf8')) as RepeatFile
  const md = fs.readFileSync(path.join(dir, 'repeat.md'), 'utf8').replace(/^# .*\n/, '')
  const wall = summary.runs.reduce((s, r) => s + r.durationMs, 0) / 1000
  const name = path.basename(summary.experiment).replace(/\.ya?ml$/, '')
  const section = `repeat-${name}${summary.platform === 'local' ? '' : `-${summary.platform}`}`
  const body = [
    `## ${section}`,
    '',
    `${summary.title}: ${summary.runs.length} of ${summary.planned} planned runs, ${summary.platform} platform, ${Math.round(wall / 60)} min of runs. Machine at the start: ${summary.machine}; ${summary.date}. ${how}${args.note ? ` ${args.note}` : ''}`,
    '',
    md.trim(),
  ].join('\n')
  console.log(body)
  if (wantsRecord() || args.record) recordSection(section, body)
}

await main()
