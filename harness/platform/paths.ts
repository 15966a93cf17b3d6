// Names and places every platform gives a run the same way.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)))

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d
    if (path.dirname(d) === d) return process.cwd()
  }
}

/** "<time>-p<pid>-<hex>": sortable, and names its harness so stale cgroups can be told apart. */
export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  return `${t}-p${process.pid}-${randomBytes(2).toString('hex')}`.toLowerCase()
}

export function defaultRunDir(runId: string): string {
  return path.join('.outage-lab', 'runs', runId)
}
