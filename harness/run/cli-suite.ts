// `outage-lab suite` (run many experiments, one after another, and compare them) and
// `outage-lab compare RUN_A RUN_B`.
import fs from 'node:fs'
import path from 'node:path'
import { runExperiment } from './runner.js'
import { terminalProgress } from './progress.js'
import { readJournal } from './cli-run.js'
import { writeFileDurably } from './outputs.js'
import { suiteMarkdown, compareMarkdown, type SuiteEntry } from '../report/compare.js'
import { compareHtml } from '../report/compare-html.js'
import { readTimeline } from '../observe/timeline.js'
import { EXIT, say } from '../control/cli-support.js'
import type { RunFlags } from './commands.js'

function experimentFiles(paths: string[]): string[] {
  const files: string[] = []
  for (const p of paths) {
    let st: fs.Stats
    try {
      st = fs.statSync(p)
    } catch {
      throw Object.assign(new Error(`${p}: no such file or folder`), { badInput: true })
    }
    if (st.isDirectory())
      files.push(
        ...fs
          .readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => path.join(p, f)),
      )
    else files.push(p)
  }
  return files
}

export async function suiteCommand(paths: string[], o: RunFlags & { out: string }): Promise<number> {
  let files: string[]
  try {
    files = experimentFiles(paths)
  } catch (err) {
    say(`outage-lab: ${(err as Error).message}`)
    return EXIT.badInput
  }
  if (files.length === 0) {
    say(`outage-lab: no experiment files (*.yaml) in ${paths.join(', ')}`)
    return EXIT.badInput
  }
  // Validate every file first: a typo in the tenth must not cost nine runs.
  const { loadExperiment, InvalidExperiment } = await import('../experiment/index.js')
  for (const f of files) {
    try {
      await loadExperiment(f, { sets: o.set, seed: o.seed })
    } catch (err) {
      if (err instanceof InvalidExperiment) {
        say(err.message)
        return EXIT.badInput
      }
      throw err
    }
  }
  fs.mkdirSync(o.out, { recursive: true })
  const abort = new AbortController()
  const onSignal = () => {
    say('\ninterrupting the suite after tearing down the current run')
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const entries: SuiteEntry[] = []
  try {
    for (const file of files) {
      if (abort.signal.aborted) break
      const outDir = path.join(o.out, path.basename(file).replace(/\.ya?ml$/, ''))
      say(`\n=== ${file} -> ${outDir}`)
      const r = await runExperiment({
        file,
        platform: o.backend ?? o.platform,
        out: outDir,
        seed: o.seed,
        sets: o.set,
        osThreadLimit: o.cgroups,
        progress: terminalProgress(),
        signal: abort.signal,
      })
      entries.push({ file, outDir, exitCode: r.exitCode, journal: r.journal })
      say(`=== ${file}: exit ${r.exitCode}`)
    }
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
  const md = suiteMarkdown(entries)
  writeFileDurably(path.join(o.out, 'compare.md'), md)
  const runs = entries.map((e) => ({
    source: e.file,
    journal: e.journal,
    exitCode: e.exitCode,
    rows: e.journal ? readTimeline(path.join(e.outDir, 'timeline.jsonl')) : [],
  }))
  writeFileDurably(path.join(o.out, 'compare.html'), compareHtml(runs, `outage-lab suite: ${entries.length} experiments`))
  writeFileDurably(
    path.join(o.out, 'suite.json'),
    JSON.stringify(
      entries.map((e) => ({ file: e.file, outDir: e.outDir, exitCode: e.exitCode, status: e.journal?.status })),
      null,
      2,
    ) + '\n',
  )
  process.stdout.write(md)
  process.stdout.write(`\ncomparison: ${path.join(o.out, 'compare.md')}, ${path.join(o.out, 'compare.html')}\n`)
  if (abort.signal.aborted) return EXIT.interrupted
  return entries.every((e) => e.exitCode === 0) ? EXIT.ok : EXIT.failed
}

export async function compareCommand(a: string, b: string, o: { out?: string }): Promise<number> {
  let ja, jb
  try {
    ja = readJournal(a)
    jb = readJournal(b)
  } catch (err) {
    say(`outage-lab: ${(err as Error).message}`)
    return EXIT.badInput
  }
  const md = compareMarkdown(ja, jb)
  process.stdout.write(md)
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true })
    writeFileDurably(path.join(o.out, 'compare.md'), md)
    const runDir = (p: string) => (p.endsWith('.json') ? path.dirname(p) : p)
    const runs = [a, b].map((p, i) => ({ source: p, journal: [ja, jb][i], rows: readTimeline(path.join(runDir(p), 'timeline.jsonl')) }))
    writeFileDurably(path.join(o.out, 'compare.html'), compareHtml(runs, ja.title === jb.title ? `${ja.title}: ${a} vs ${b}` : `${ja.title}  vs  ${jb.title}`))
    process.stdout.write(`\ncomparison: ${path.join(o.out, 'compare.md')}, ${path.join(o.out, 'compare.html')}\n`)
  }
  return EXIT.ok
}
