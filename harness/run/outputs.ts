// Where a run's outputs go and how they are written: journal.json (fsynced: it is the record),
// summary.md and report.html, in the run's folder; runs/latest points at the newest run.
import fs from 'node:fs'
import path from 'node:path'
import type { Experiment } from '../experiment/types.js'
import type { Journal, TimelineRows } from '../analyze/journal.js'
import { summaryMarkdown } from '../report/summary.js'
import { reportHtml } from '../report/html.js'
import { readTimeline } from '../observe/timeline.js'

export function defaultOutDir(exp: Experiment, root: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  const name = path
    .basename(exp.file)
    .replace(/\.ya?ml$/, '')
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
  return path.join(root, 'runs', `${stamp}-${name}`)
}

/** runs/latest -> the run's folder (relative, so the tree can move). */
export function linkLatest(outDir: string): void {
  const link = path.join(path.dirname(outDir), 'latest')
  try {
    fs.rmSync(link, { force: true })
    fs.symlinkSync(path.basename(outDir), link)
  } catch {
    // A filesystem without symlinks still has the run; `latest` is a convenience.
  }
}

export function writeFileDurably(file: string, content: string): void {
  const tmp = `${file}.tmp`
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

/** rows: the run's timeline when the caller holds it (the runner), else read once from outDir. */
export function writeOutputs(outDir: string, journal: Journal, rows?: TimelineRows): void {
  writeFileDurably(path.join(outDir, 'journal.json'), JSON.stringify(journal, null, 2) + '\n')
  const timeline = rows ?? readTimeline(path.join(outDir, 'timeline.jsonl'))
  writeFileDurably(path.join(outDir, 'summary.md'), summaryMarkdown(journal, outDir, timeline))
  writeFileDurably(path.join(outDir, 'report.html'), reportHtml(journal, timeline))
}
