// `outage-lab run FILE` and `outage-lab up` as a user runs them, from a test: the CLI in a child
// process (bench/lib/cli.ts), a run's journal read back from the run folder.
import fs from 'node:fs'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { CLI, runCli, type CliOptions } from '../../bench/lib/cli.js'
import { ROOT } from './spawn.js'
import { eventually } from './eventually.js'

export { CLI, runCli }

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  journal: any
  outDir: string
}

export interface CliRunOptions extends CliOptions {
  /** Extra CLI arguments (`--backend compose`...). */
  args?: string[]
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

/** A running `outage-lab up`, as a user starts it in a terminal. */
export interface UpProcess {
  proc: ChildProcess
  endpointsFile: string
  /** The endpoints file's content once `up` wrote it. */
  endpoints: any
  /** What `up` printed on stderr so far. */
  stderr(): string
  /** Its exit code once it ended. */
  exited: Promise<number | null>
}

/**
 * `outage-lab up ARGS` in `dir` (endpoints file and run folder inside it), resolved once the
 * endpoints file is written; SIGKILLed at the test's teardown if still running. NODE_OPTIONS is
 * dropped for the reason runCli gives.
 */
export async function startUp(t: Tap.Test, dir: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<UpProcess> {
  const endpointsFile = path.join(dir, 'endpoints.json')
  const argv = [process.execPath, CLI, 'up', ...args, '--endpoints-file', endpointsFile, '--run-dir', path.join(dir, 'run')]
  const proc = spawn('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', ...argv], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: opts.env ?? process.env,
  })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  await eventually(() => fs.existsSync(endpointsFile) || proc.exitCode !== null, {
    what: `up to write ${endpointsFile}`,
    timeoutMs: opts.timeoutMs ?? 60_000,
    intervalMs: 100,
  }).catch(() => undefined)
  if (!fs.existsSync(endpointsFile)) throw new Error(`up did not write ${endpointsFile}: ${stderr}`)
  // The banner follows the endpoints file: give it a moment on a busy machine.
  await eventually(() => /Ctrl-C stops everything/.test(stderr), { what: 'the banner', timeoutMs: 10_000, intervalMs: 50 }).catch(() => undefined)
  return { proc, endpointsFile, endpoints: JSON.parse(fs.readFileSync(endpointsFile, 'utf8')), stderr: () => stderr, exited }
}
