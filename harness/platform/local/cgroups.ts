// pids cgroups: the real OS thread limit of a front-end. pids.max counts tasks, i.e. threads, so a
// front-end placed in a cgroup with pids.max = L fails `new Worker()` with EAGAIN at its L-th
// thread, exactly as the 2020 servers hit their OS limit. Every run gets
// <root>/outage-lab/<runId>/<service>; a run's cgroups are removed once their processes are gone.
import fs from 'node:fs'
import path from 'node:path'

export type PidsCgroups = { kind: 'v1' | 'v2'; /** the `outage-lab` parent directory */ root: string } | { kind: 'none'; reason: string }

const PARENT = 'outage-lab'

/**
 * Finds where this process may create pids cgroups. cgroup v1 as root: the pids hierarchy's root.
 * cgroup v2: a subtree we can write to with the pids controller delegated. OUTAGE_LAB_CGROUPS=off
 * disables cgroups; OUTAGE_LAB_CGROUP_ROOT names a prepared (delegated) directory to use.
 */
export function detectPidsCgroups(env: NodeJS.ProcessEnv = process.env): PidsCgroups {
  if (/^(0|off|false|no)$/i.test(env.OUTAGE_LAB_CGROUPS ?? '')) return { kind: 'none', reason: 'OUTAGE_LAB_CGROUPS=off' }
  try {
    if (env.OUTAGE_LAB_CGROUP_ROOT) {
      const dir = env.OUTAGE_LAB_CGROUP_ROOT
      const kind = fs.existsSync(path.join(dir, 'cgroup.controllers')) ? 'v2' : 'v1'
      return prepare(kind, dir)
    }
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8')
    if (fs.existsSync('/sys/fs/cgroup/pids/cgroup.procs')) return prepare('v1', '/sys/fs/cgroup/pids')
    const controllers = readOr('/sys/fs/cgroup/cgroup.controllers')
    if (controllers !== undefined) {
      if (!controllers.split(/\s+/).includes('pids')) return { kind: 'none', reason: 'cgroup v2 without the pids controller' }
      const unified = /^0::(.*)$/m.exec(own)?.[1] ?? '/'
      return prepare('v2', path.join('/sys/fs/cgroup', unified))
    }
    return { kind: 'none', reason: 'no pids cgroup hierarchy mounted at /sys/fs/cgroup' }
  } catch (err) {
    return { kind: 'none', reason: `cgroups not writable: ${(err as Error).message}` }
  }
}

function prepare(kind: 'v1' | 'v2', base: string): PidsCgroups {
  const root = path.join(base, PARENT)
  try {
    fs.mkdirSync(root, { recursive: true })
    if (kind === 'v2') {
      // A v2 cgroup hands a controller to its children only when its parent enabled it and it has
      // no processes of its own ("no internal processes"): enable pids down to outage-lab.
      enablePids(base)
      enablePids(root)
    }
    return { kind, root }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const hint = e.code === 'EBUSY' ? ` (${base} has processes of its own: give outage-lab a delegated subtree with OUTAGE_LAB_CGROUP_ROOT)` : ''
    return { kind: 'none', reason: `cannot create pids cgroups under ${base}: ${e.code ?? e.message}${hint}` }
  }
}

function enablePids(dir: string): void {
  const current = readOr(path.join(dir, 'cgroup.subtree_control')) ?? ''
  if (!current.split(/\s+/).includes('pids')) fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+pids')
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Pids of the processes in a cgroup directory and all its children. */
export function cgroupPids(dir: string): number[] {
  const pids: number[] = []
  const walk = (d: string) => {
    for (const line of (readOr(path.join(d, 'cgroup.procs')) ?? '').split('\n')) if (line.trim()) pids.push(Number(line))
    for (const e of safeReaddir(d)) if (e.isDirectory()) walk(path.join(d, e.name))
  }
  walk(dir)
  return pids
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Removes a cgroup directory tree, deepest first. A cgroup that still has tasks cannot be removed:
 * its processes are SIGKILLed, and rmdir retried while the kernel releases them.
 */
export async function removeCgroupTree(dir: string, opts: { killTasks?: boolean; timeoutMs?: number } = {}): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5_000)
  for (;;) {
    if (!fs.existsSync(dir)) return true
    if (opts.killTasks !== false) {
      for (const pid of cgroupPids(dir)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
      }
    }
    if (rmdirTree(dir)) return true
    if (Date.now() > deadline) return false
    await sleep(50)
  }
}

function rmdirTree(dir: string): boolean {
  for (const e of safeReaddir(dir)) if (e.isDirectory()) rmdirTree(path.join(dir, e.name))
  try {
    fs.rmdirSync(dir)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

/**
 * Removes the `outage-lab` parent of a run's cgroup directory once no run is left in it (rmdir of
 * a non-empty cgroup fails, so a run beside it keeps it). A run starting at that moment recreates
 * it (RunCgroups.create).
 */
export function removeParentIfEmpty(runDir: string): boolean {
  const parent = path.dirname(runDir)
  if (path.basename(parent) !== PARENT) return false
  try {
    fs.rmdirSync(parent)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

/** The cgroups of one run: <root>/<runId>/<service>. */
export class RunCgroups {
  readonly kind: 'v1' | 'v2'
  readonly dir: string
  constructor(support: { kind: 'v1' | 'v2'; root: string }, runId: string) {
    this.kind = support.kind
    this.dir = path.join(support.root, runId)
  }

  /** Creates (or keeps) a service's cgroup with its pids.max; returns the directory. */
  create(name: string, pidsMax: number | 'max'): string {
    if (!fs.existsSync(this.dir)) {
      const root = path.dirname(this.dir)
      // The parent goes when the last run ends (removeParentIfEmpty): a run may find it gone.
      if (!fs.existsSync(root)) {
        fs.mkdirSync(root, { recursive: true })
        if (this.kind === 'v2') enablePids(root)
      }
      fs.mkdirSync(this.dir)
      if (this.kind === 'v2') enablePids(this.dir)
    }
    const dir = path.join(this.dir, name)
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'pids.max'), String(pidsMax))
    return dir
  }

  procsFile(name: string): string {
    return path.join(this.dir, name, 'cgroup.procs')
  }

  pidsMax(name: string): string | undefined {
    return readOr(path.join(this.dir, name, 'pids.max'))?.trim()
  }

  remove(name: string): Promise<boolean> {
    return removeCgroupTree(path.join(this.dir, name))
  }

  /** Removes the run's cgroups, and their `outage-lab` parent when no other run is in it. */
  async removeAll(): Promise<boolean> {
    const removed = await removeCgroupTree(this.dir)
    if (removed) removeParentIfEmpty(this.dir)
    return removed
  }
}

/** The harness pid encoded in a run id made by newRunId(): "<time>-p<pid>-<hex>". */
export function runIdPid(runId: string): number | undefined {
  const m = /(?:^|-)p(\d+)(?:-|$)/.exec(runId)
  return m ? Number(m[1]) : undefined
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A SIGKILLed harness stays a zombie until its parent reaps it: that is not alive.
  return !/^\d+ \(.*\) Z/.test(readOr(`/proc/${pid}/stat`) ?? '')
}

/**
 * Removes runs left behind by harnesses that died where no reaper could help (a reboot, a kill of
 * the whole session). Only runs with no tasks whose harness is gone (or, for run ids without a
 * pid, older than a minute) are touched, so runs of harnesses running side by side are safe.
 */
export function cleanStaleCgroups(root: string): string[] {
  const removed: string[] = []
  for (const e of safeReaddir(root)) {
    if (!e.isDirectory()) continue
    const dir = path.join(root, e.name)
    const pid = runIdPid(e.name)
    if (pid !== undefined ? alive(pid) : Date.now() - fs.statSync(dir).mtimeMs < 60_000) continue
    if (cgroupPids(dir).length > 0) continue
    if (rmdirTree(dir)) removed.push(e.name)
  }
  return removed
}
