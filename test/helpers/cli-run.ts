// `outage-lab run FILE` as a user runs it, from a test: the CLI in a child process, its journal
// read back from the run folder.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { ROOT } from './spawn.js'

export const CLI = path.join(ROOT, 'dist/harness/cli.js')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  journal: any
  outDir: string
}

export interface CliRunOptions {
  /** Extra CLI arguments (`--backend compose`...). */
  args?: string[]
  /** SIGINT the run once its stderr matches (the Ctrl-C test). */
  interruptOn?: RegExp
  /** SIGKILL after this long (default 600 s). */
  killAfterMs?: number
}

/** The expectations of a journal that were not met, as `name: detail`. */
export const failedExpectations = (j: any): string[] => j.expectations.filter((x: any) => !x.met).map((x: any) => `${x.name}: ${x.detail}`)

export function runExperiment(file: string, outDir: string, opts: CliRunOptions = {}): Promise<CliRun> {
  const experiment = path.isAbsolute(file) ? file : path.join(ROOT, 'experiments', file)
  return runCli(['run', experiment, '--out', outDir, ...(opts.args ?? [])], opts).then((r) => {
    const journal = path.join(outDir, 'journal.json')
    return { ...r, journal: fs.existsSync(journal) ? JSON.parse(fs.readFileSync(journal, 'utf8')) : undefined, outDir }
  })
}

/** Any `outage-lab` command as a user runs it: its exit code and output. */
export function runCli(args: string[], opts: Omit<CliRunOptions, 'args'> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // tap puts its coverage loader into every child's NODE_OPTIONS, whatever env we pass, and the
    // harness would hand it on to every service and peer thread (a loader thread and hooked imports
    // in each): the capacity addition then measures the test runner, not the fleet. The shell
    // drops it before exec'ing node.
    const env = { PATH: process.env.PATH, CI: 'true', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) }
    const argv = [process.execPath, CLI, ...args]
    const child = spawn('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', ...argv], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      if (opts.interruptOn && !interrupted && opts.interruptOn.test(stderr)) {
        interrupted = true
        child.kill('SIGINT')
      }
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 600_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout, stderr })
    })
  })
}
