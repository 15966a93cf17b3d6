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

/**
 * Writes a file only its owner may read, atomically (a temporary file renamed over it). The mode
 * is set on the open descriptor as well: `mode` of an open applies only when it creates the file, so
 * a temporary left behind by a crashed harness with another mode would otherwise keep it.
 */
export function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeFileSync(fd, text)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

/**
 * Each lab service's young generation, one semi-space in MiB, pinned from its start. Left to itself
 * V8 shrinks it whenever the load eases and regrows it over minutes, so a service's resident memory
 * swings with no change in what it holds (bench/RESULTS.md#soak). The services on the data path get
 * the size V8 grows them to under the lab's load (16 MiB, its maximum on 64-bit). The others allocate
 * too slowly to keep both halves: V8 gives back the from-space after each scavenge and the
 * service writes it again page by page over minutes, so its resident memory saw-tooths by a whole
 * semi-space. Theirs is sized to that pace instead, and the swing with it.
 */
export const SEMI_SPACE_MIB: Readonly<Record<string, number>> = {
  'kinesis-metadata': 2,
  autoscaler: 2,
  'status-page': 2,
  cognito: 4,
}
/** What a kind not in SEMI_SPACE_MIB gets, and the image's ENTRYPOINT. */
export const DEFAULT_SEMI_SPACE_MIB = 16

/** The semi-space a lab service of this kind starts with, in MiB. */
export function semiSpaceMiB(kind: string): number {
  return SEMI_SPACE_MIB[kind] ?? DEFAULT_SEMI_SPACE_MIB
}

/**
 * How node starts a lab service of this kind. The Dockerfile's ENTRYPOINT has the default, and
 * docker-compose.yml gives the other kinds their own `entrypoint`. Worker threads would inherit
 * the flags: a service that makes them clears the flags first (kit/memory.ts).
 */
export function serviceNodeFlags(kind: string): string[] {
  const mib = semiSpaceMiB(kind)
  return [`--min-semi-space-size=${mib}`, `--max-semi-space-size=${mib}`]
}

/** Each service's log in a run folder keeps at most two generations of this size, on every platform. */
export const SERVICE_LOG_MAX_BYTES = 8 * 1024 * 1024
