// `outage-lab repeat FILE --runs N [--seeds LIST]`: the same experiment N times with distinct seeds,
// one after another (a run measures a cascade: two at once would measure each other). Every run
// is an ordinary run folder under the repeat's folder; repeat.json, repeat.md and repeat.html are
// re-written after each run, so an interrupted repeat still has its figures. A folder given again
// with --out resumes: runs whose journal is already there (and not interrupted) are not run again.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runExperiment } from './runner.js'
import { terminalProgress } from './progress.js'
import { readJournal } from './cli-run.js'
import { writeFileDurably, defaultOutDir, linkLatest } from './outputs.js'
import { runOf, summarizeRepeat, type RepeatRun } from '../analyze/repeat.js'
import { repeatHtml, repeatMarkdown, ratio } from '../report/repeat.js'
import { EXIT, say } from '../control/cli-support.js'
import type { Journal } from '../analyze/journal.js'
import type { RunFlags } from './commands.js'

export interface RepeatFlags extends RunFlags {
  runs: number
  seeds?: number[]
}

/** Seeds of the repeat: the list given, else the experiment's seed and the N - 1 after it. */
export function repeatSeeds(base: number, runs: number, list?: number[]): number[] {
  if (list && list.length > 0) return list
  return Array.from({ length: runs }, (_, i) => base + i)
}

export function machineLine(): string {
  const cpus = os.cpus()
  const load = os.loadavg().map((l) => l.toFixed(1))
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, load ${load.join(' ')} at the start`
}

export async function repeatCommand(file: string, o: RepeatFlags): Promise<number> {
  const { loadExperiment, InvalidExperiment } = await import('../experiment/index.js')
  let exp
  try {
    exp = await loadExperiment(file, { sets: o.set, seed: o.seed })
  } catch (err) {
    if (err instanceof InvalidExperiment) {
      say(err.message)
      return EXIT.badInput
    }
    throw err
  }
  if (o.seeds && o.seeds.length !== o.runs) {
    say(`outage-lab: --seeds names ${o.seeds.length} seed(s) but --runs is ${o.runs}: give one seed per run`)
    return EXIT.badInput
  }
  const seeds = repeatSeeds(exp.seed, o.runs, o.seeds)
  if (new Set(seeds).size !== seeds.length) {
    say(`outage-lab: --seeds: every seed must be distinct (got ${seeds.join(',')})`)
    return EXIT.badInput
  }
  const out = path.resolve(o.out ?? defaultOutDir(exp, process.cwd()).replace(/(\d{8}-\d{6})-/, '$1-repeat-'))
  fs.mkdirSync(out, { recursive: true })
  if (!o.out) linkLatest(out)
  const platform = o.backend ?? o.platform
  const meta = { title: exp.title, experiment: file, platform }
  const stamp = { machine: machineLine(), date: new Date().toISOString().slice(0, 10) }

  const abort = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      say(`${signal} again: exiting without waiting for teardown`)
      process.exit(EXIT.interrupted)
    }
    say(`\n${signal}: stopping the repeat after tearing down the current run`)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const done: { journal: Journal; run: RepeatRun }[] = []
  const write = () => {
    const summary = summarizeRepeat(meta, done)
    writeFileDurably(path.join(out, 'repeat.json'), JSON.stringify({ ...summary, ...stamp, planned: seeds.length }, null, 2) + '\n')
    writeFileDurably(path.join(out, 'repeat.md'), repeatMarkdown(summary, stamp))
    writeFileDurably(path.join(out, 'repeat.html'), repeatHtml(summary, stamp))
    return summary
  }
  const started = Date.now()
  let ran = 0
  try {
    for (const [i, seed] of seeds.entries()) {
      if (abort.signal.aborted) break
      const dir = `run-${String(i + 1).padStart(2, '0')}-seed-${seed}`
      const runDir = path.join(out, dir)
      const before = previous(runDir)
      if (before) {
        done.push({ journal: before, run: runOf(before, dir, exitOf(before)) })
        say(`=== run ${i + 1}/${seeds.length}, seed ${seed}: already in ${dir} (${done.at(-1)!.run.held ? 'held' : 'failed'})`)
        continue
      }
      say(`\n=== run ${i + 1}/${seeds.length}, seed ${seed} -> ${runDir}`)
      // What an interrupted run left there would mix into this run's timeline.
      fs.rmSync(runDir, { recursive: true, force: true })
      const r = await runExperiment({
        file,
        platform,
        out: runDir,
        seed,
        sets: o.set,
        osThreadLimit: o.cgroups,
        progress: terminalProgress(),
        signal: abort.signal,
      })
      ran++
      if (r.journal) done.push({ journal: r.journal, run: runOf(r.journal, dir, r.exitCode) })
      const s = write()
      const eta = ran > 0 ? ((Date.now() - started) / ran) * (seeds.length - i - 1) : 0
      const last = done.at(-1)?.run
      say(
        `=== run ${i + 1}/${seeds.length}, seed ${seed}: ${last ? (last.held ? 'held' : `FAILED (${failedOf(last)})`) : `exit ${r.exitCode}`} · every expectation met in ${ratio(s.held)} · ETA ${Math.round(eta / 60_000)} min`,
      )
    }
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
  const summary = write()
  process.stdout.write('\n' + repeatMarkdown(summary, stamp))
  process.stdout.write(`\nrepeat: ${path.join(out, 'repeat.html')}\n`)
  if (abort.signal.aborted) return EXIT.interrupted
  return summary.held.runs > 0 && summary.held.passed === summary.held.runs ? EXIT.ok : EXIT.failed
}

function previous(runDir: string): Journal | undefined {
  if (!fs.existsSync(path.join(runDir, 'journal.json'))) return undefined
  try {
    const j = readJournal(runDir)
    return j.status === 'interrupted' ? undefined : j
  } catch {
    return undefined
  }
}

const exitOf = (j: Journal) => (j.status === 'completed' && j.expectations.every((x) => x.met) ? EXIT.ok : EXIT.failed)
const failedOf = (r: RepeatRun) =>
  Object.entries(r.expectations)
    .filter(([, met]) => !met)
    .map(([n]) => n)
    .join(', ') || r.status
