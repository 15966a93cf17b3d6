// bench/RESULTS.md holds one section per benchmark between markers; `--record` replaces that
// benchmark's section (or appends it), leaving the others' recorded runs as they were.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The source tree's bench/RESULTS.md (this file runs from dist/bench/lib/). */
export const RESULTS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/RESULTS.md')

const HEAD = `# Benchmark results

Recorded by \`node dist/bench/<name>.js --record\` (\`make bench\` runs all three without recording).
Each section is replaced by the next recorded run of its benchmark; figures come from one real run
on the machine named in the section, which may have been shared with other work (see its load
average).
`

export function recordSection(name: string, body: string, file = RESULTS_FILE): void {
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const section = `${start}\n${body.trim()}\n${end}`
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : HEAD
  const i = text.indexOf(start)
  const j = text.indexOf(end)
  if (i >= 0 && j > i) text = text.slice(0, i) + section + text.slice(j + end.length)
  else text = `${text.trimEnd()}\n\n${section}\n`
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

export function wantsRecord(argv = process.argv.slice(2)): boolean {
  return argv.includes('--record')
}
