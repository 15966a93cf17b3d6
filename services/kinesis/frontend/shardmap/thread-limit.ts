// The thread limit a front-end lives under, and the one place that creates its threads.
//
// Where the OS enforces a limit (a pids cgroup made by the local launcher, or docker's
// pids_limit, which is the same controller), this module only *reads* it: pids.max counts every
// task of the process (main, libuv pool, V8 platform workers, every worker_thread), so the
// limit bites inside `new Worker()` as ERR_WORKER_INIT_FAILED / EAGAIN, for real. Only under
// enforcement 'process' (no OS limit available) does it refuse a thread itself, with an error
// whose code says so (ERR_THREAD_LIMIT_PROCESS_CAP), counting the process's real tasks.
//
// In a pids cgroup a failed Worker creation throws synchronously and leaves no task behind
// (/proc/self/task is unchanged; the shard-map tests assert it), and it costs little memory (the
// figure is in bench/RESULTS.md, "Figures moved from code comments"), so a broken map that retries
// once a second is safe to leave running, as the 2020 servers kept retrying.
import { readFileSync, readdirSync } from 'node:fs'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { ThreadLimitEnforcement } from './types.js'

export const PROCESS_CAP_CODE = 'ERR_THREAD_LIMIT_PROCESS_CAP'

/** Why a thread could not be made; `code` is what logic matches on. */
export class ThreadCreateError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ThreadCreateError'
    this.code = code
  }
  /** "ERR_WORKER_INIT_FAILED EAGAIN": the form operators grep for. */
  get summary(): string {
    return `${this.code} ${this.message}`
  }
}

/** Real OS threads (tasks) of this process. */
export function countThreads(): number {
  try {
    return readdirSync('/proc/self/task').length
  } catch {
    // Not Linux: no way to count; report 1 rather than pretend.
    return 1
  }
}

/**
 * Where this process's pids.max lives. /proc/self/cgroup lines are "id:controllers:path"; v1 names
 * the pids controller, v2 has one "0::path" line. Inside a docker container (no cgroup namespace,
 * cgroup v1) the path names the host's hierarchy while the container sees its own cgroup mounted at
 * the root, hence the fallbacks.
 */
export function pidsMaxCandidates(procSelfCgroup: string, root = '/sys/fs/cgroup'): string[] {
  const out: string[] = []
  let v2: string | undefined
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim())
    if (!m) continue
    const [, controllers, path] = m
    if (controllers.split(',').includes('pids')) out.push(`${root}/pids${path === '/' ? '' : path}/pids.max`)
    else if (controllers === '') v2 = path
  }
  out.push(`${root}/pids/pids.max`)
  if (v2 !== undefined) out.push(`${root}${v2 === '/' ? '' : v2}/pids.max`)
  out.push(`${root}/pids.max`)
  return [...new Set(out)]
}

/** "max" -> Infinity; a number; undefined when the file is absent or unreadable. */
export function parsePidsMax(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const t = text.trim()
  if (t === 'max') return Number.POSITIVE_INFINITY
  return /^\d+$/.test(t) ? Number(t) : undefined
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

export interface ThreadLimitOptions {
  enforcement: ThreadLimitEnforcement
  /** THREAD_LIMIT: reported when no OS limit is found, enforced under 'process'. */
  threadLimit: number
}

export class ThreadLimit {
  readonly enforcement: ThreadLimitEnforcement
  readonly configured: number
  /** The pids.max file in use (cgroup/docker), once found. */
  readonly pidsMaxPath: string | undefined
  /** Set when the launcher said cgroup/docker but no finite pids.max was found. */
  readonly warning: string | undefined

  constructor(opts: ThreadLimitOptions, procSelfCgroup = readOptional('/proc/self/cgroup') ?? '') {
    this.enforcement = opts.enforcement
    this.configured = opts.threadLimit
    if (opts.enforcement === 'process') return
    for (const path of pidsMaxCandidates(procSelfCgroup)) {
      const v = parsePidsMax(readOptional(path))
      if (v !== undefined && Number.isFinite(v)) {
        this.pidsMaxPath = path
        return
      }
    }
    this.warning = `THREAD_LIMIT_ENFORCEMENT=${opts.enforcement} but no finite pids.max found for this process (looked in ${pidsMaxCandidates(procSelfCgroup).join(', ')}); the OS will not refuse threads, reporting THREAD_LIMIT ${opts.threadLimit}`
  }

  /**
   * The limit in force now. pids.max is re-read every time: an operator raising it (remediation 3)
   * must show at once, and it is what lets a broken map's retries succeed again.
   */
  current(): number {
    if (this.pidsMaxPath) {
      const v = parsePidsMax(readOptional(this.pidsMaxPath))
      if (v !== undefined) return Number.isFinite(v) ? v : this.configured
    }
    return this.configured
  }

  threads(): number {
    return countThreads()
  }

  /**
   * Creates a worker thread or throws ThreadCreateError. Under cgroup/docker the OS decides
   * (new Worker throws ERR_WORKER_INIT_FAILED with the errno as message); under 'process' this
   * refuses first when the real task count + 1 would exceed THREAD_LIMIT.
   */
  spawn(entry: URL, options: WorkerOptions): Worker {
    if (this.enforcement === 'process') {
      const threads = countThreads()
      if (threads + 1 > this.configured) {
        throw new ThreadCreateError(PROCESS_CAP_CODE, `in-process thread cap: ${threads} threads + 1 would exceed THREAD_LIMIT ${this.configured}`)
      }
    }
    try {
      return new Worker(entry, options)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      throw new ThreadCreateError(e.code ?? 'ERR_WORKER_INIT_FAILED', e.message, { cause: err })
    }
  }
}
