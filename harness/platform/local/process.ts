// One service process of the local backend. Each child leads its own process group, so a stop
// reaches anything it started and a Ctrl-C in the terminal reaches only the harness, which then
// stops the topology in order. stdout goes straight to the log file (it outlives the harness if
// need be); stderr passes through the harness to keep a tail for error messages.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'

export interface ProcessSpec {
  name: string
  argv: string[]
  env: Record<string, string>
  cwd: string
  logFile: string
  /** The cgroup.procs file the process joins before exec'ing the program (pids cgroups). */
  cgroupProcs?: string
  /** Start the program under `nice -n <nice>` (a lower CPU priority than the launcher's). */
  nice?: number
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

const TAIL_BYTES = 4096

export class ServiceProcess {
  readonly spec: ProcessSpec
  readonly child: ChildProcess
  readonly exited: Promise<ExitInfo>
  exit?: ExitInfo
  paused = false
  private tail = ''

  constructor(spec: ProcessSpec) {
    this.spec = spec
    const out = fs.openSync(spec.logFile, 'a')
    let [cmd, ...args] = spec.argv
    if (spec.nice) {
      // nice exec's the program: the pid (and so the cgroup membership below) stays the same.
      args = ['-n', String(spec.nice), cmd, ...args]
      cmd = 'nice'
    }
    if (spec.cgroupProcs) {
      // The shell joins the cgroup, then exec's node: the program's first thread already counts
      // against pids.max, and no thread is ever created outside the limit.
      args = ['-c', 'echo $$ > "$OUTAGE_LAB_CGROUP_PROCS" && exec "$@"', 'sh', cmd, ...args]
      cmd = '/bin/sh'
    }
    try {
      this.child = spawn(cmd, args, {
        cwd: spec.cwd,
        env: spec.cgroupProcs ? { ...spec.env, OUTAGE_LAB_CGROUP_PROCS: spec.cgroupProcs } : spec.env,
        stdio: ['ignore', out, 'pipe'],
        detached: true,
      })
    } finally {
      fs.closeSync(out)
    }
    const log = fs.createWriteStream(spec.logFile, { flags: 'a' })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk)
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_BYTES)
    })
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.tail += `\nspawn failed: ${err.message}`
        this.exit ??= { code: null, signal: null }
        resolve(this.exit)
      })
      let closed = false
      this.child.once('close', () => {
        closed = true
        log.end()
      })
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        // Let the last stderr chunk land in the tail, but do not wait on a grandchild that
        // inherited the pipe and keeps it open.
        if (closed) resolve(this.exit)
        else {
          const t = setTimeout(() => resolve(this.exit!), 200)
          this.child.once('close', () => (clearTimeout(t), resolve(this.exit!)))
        }
      })
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  get running(): boolean {
    return this.exit === undefined
  }

  stderrTail(): string {
    return this.tail.trim()
  }

  /** Signals the whole process group (the service and anything it started). */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running || this.child.pid === undefined) return false
    try {
      process.kill(-this.child.pid, signal)
      return true
    } catch {
      try {
        return this.child.kill(signal)
      } catch {
        return false
      }
    }
  }

  pause(): void {
    if (this.signal('SIGSTOP')) this.paused = true
  }

  resume(): void {
    if (this.signal('SIGCONT')) this.paused = false
  }

  /** SIGTERM, then SIGKILL after graceMs. A paused process is continued so it can see SIGTERM. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (!this.running) return this.exit!
    this.signal('SIGTERM')
    if (this.paused) this.resume()
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    const exit = await this.exited
    clearTimeout(timer)
    // The leader is gone; anything left in its group goes with it.
    try {
      process.kill(-this.child.pid!, 'SIGKILL')
    } catch {}
    return exit
  }

  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL')
    return this.exited
  }
}
