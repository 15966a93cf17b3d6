// `outage-lab COMMAND` as a user runs it, from a test or a benchmark: the CLI in a child process,
// its exit code and output, optionally stopped by a signal once its output says so.
import path from 'node:path'
import { spawn } from 'node:child_process'
import { PACKAGE_ROOT } from '../../harness/platform/paths.js'

export const CLI = path.join(PACKAGE_ROOT, 'dist/harness/cli.js')

export interface CliOptions {
  /** Signal the run once its stderr matches (the Ctrl-C test). */
  interruptOn?: RegExp
  /** The signal interruptOn sends (default SIGINT). */
  signal?: NodeJS.Signals
  /** Send it this long after the match (default at once). */
  interruptDelayMs?: number
  /** Called as interruptOn's signal is sent. */
  onInterrupt?: () => void
  /** Called with the CLI's pid once it runs (the shell exec's node: the same pid). */
  onSpawn?: (pid: number) => void
  /** SIGKILL after this long (default 600 s). */
  killAfterMs?: number
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Any `outage-lab` command as a user runs it: its exit code and output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // tap puts its coverage loader into every child's NODE_OPTIONS, whatever env we pass, and the
    // harness would hand it on to every service and peer thread (a loader thread and hooked imports
    // in each): the capacity addition then measures the test runner, not the fleet. The shell
    // drops it before exec'ing node.
    const env = { PATH: process.env.PATH, CI: 'true', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) }
    const argv = [process.execPath, CLI, ...args]
    const child = spawn('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', ...argv], { cwd: PACKAGE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      if (opts.interruptOn && !interrupted && opts.interruptOn.test(stderr)) {
        interrupted = true
        setTimeout(() => {
          opts.onInterrupt?.()
          child.kill(opts.signal ?? 'SIGINT')
        }, opts.interruptDelayMs ?? 0)
      }
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 600_000)
    if (child.pid !== undefined) opts.onSpawn?.(child.pid)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(killer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
