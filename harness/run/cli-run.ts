// `outage-lab run` and `outage-lab report`.
import fs from 'node:fs'
import path from 'node:path'
import { runExperiment } from './runner.js'
import { terminalProgress } from './progress.js'
import { summaryMarkdown, verdictLine } from '../report/summary.js'
import { reportHtml } from '../report/html.js'
import { readTimeline } from '../observe/timeline.js'
import { writeFileDurably } from './outputs.js'
import { EXIT, say } from '../control/cli-support.js'
import type { Journal } from '../analyze/journal.js'
import type { RunFlags } from './commands.js'

export async function runCommand(file: string, o: RunFlags): Promise<number> {
  const abort = new AbortController()
  let signals = 0
  let first: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    first ??= signal
    if (signals > 1) {
      say(`${signal} again: exiting without waiting for teardown`)
      process.exit(EXIT.interrupted)
    }
    say(`\n${signal}: interrupting the run; tearing down (Ctrl-C again to exit at once)`)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const r = await runExperiment({
      file,
      platform: o.backend ?? o.platform,
      out: o.out,
      seed: o.seed,
      sets: o.set,
      osThreadLimit: o.cgroups,
      progress: terminalProgress(),
      signal: abort.signal,
    })
    if (r.journal && r.outDir) {
      process.stdout.write(fs.readFileSync(path.join(r.outDir, 'summary.md'), 'utf8'))
      process.stdout.write(`\nreport: ${path.join(r.outDir, 'report.html')}\n`)
    }
    // 128 + the signal's number, as a shell reports it: a supervisor's SIGTERM is not a Ctrl-C.
    return r.exitCode === EXIT.interrupted && first === 'SIGTERM' ? EXIT.terminated : r.exitCode
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

export function readJournal(dir: string): Journal {
  const file = dir.endsWith('.json') ? dir : path.join(dir, 'journal.json')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw Object.assign(new Error(`${file}: cannot read the journal (${(err as NodeJS.ErrnoException).code}): is this a run folder?`), { badInput: true })
  }
  try {
    return JSON.parse(text) as Journal
  } catch (err) {
    throw Object.assign(new Error(`${file}: not valid JSON (${(err as Error).message})`), { badInput: true })
  }
}

export async function reportCommand(dir: string): Promise<number> {
  let j: Journal
  try {
    j = readJournal(dir)
  } catch (err) {
    say(`outage-lab: ${(err as Error).message}`)
    return EXIT.badInput
  }
  const runDir = dir.endsWith('.json') ? path.dirname(dir) : dir
  const rows = readTimeline(path.join(runDir, 'timeline.jsonl'))
  writeFileDurably(path.join(runDir, 'summary.md'), summaryMarkdown(j, runDir, rows))
  writeFileDurably(path.join(runDir, 'report.html'), reportHtml(j, rows))
  process.stdout.write(`${verdictLine(j).replace(/\*\*/g, '')}\nreport: ${path.join(runDir, 'report.html')}\n`)
  return EXIT.ok
}
