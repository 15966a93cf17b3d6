// What the reaper needs to clean up after a harness that died without stopping its run: written
// by the local backend on every change (atomically: a reaper never reads half a file).
import fs from 'node:fs'
import { runIdPid } from './cgroups.js'

export interface RunState {
  runId: string
  harnessPid: number
  cgroupDir?: string
  pids: { name: string; pid: number }[]
  updatedAtMs: number
}

export function writeRunState(file: string, state: RunState): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(state))
  fs.renameSync(tmp, file)
}

export function readRunState(file: string): RunState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunState
  } catch {
    return undefined
  }
}

/** The environment marker every process of a run carries; the reaper trusts nothing else. */
export const RUN_ID_ENV = 'OUTAGE_LAB_RUN_ID'

/** Whether a live process carries this run's marker (guards against a recycled pid). */
export function belongsToRun(pid: number, runId: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${RUN_ID_ENV}=${runId}`)
  } catch {
    return false
  }
}

/** Every live process that carries a run marker, with its run id. */
function markedProcesses(): { pid: number; runId: string }[] {
  const found: { pid: number; runId: string }[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let environ: string
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1')
    } catch {
      continue
    }
    const marker = environ.split('\0').find((v) => v.startsWith(`${RUN_ID_ENV}=`))
    if (marker) found.push({ pid: Number(entry), runId: marker.slice(RUN_ID_ENV.length + 1) })
  }
  return found
}

/** Every process on the machine that carries this run's marker. */
export function processesOfRun(runId: string): number[] {
  return markedProcesses()
    .filter((p) => p.runId === runId && p.pid !== process.pid)
    .map((p) => p.pid)
}

/** Every process carrying a run id of the harness with this pid (run ids name their harness: newRunId), whatever run it was. */
export function processesOfHarness(harnessPid: number): number[] {
  return markedProcesses()
    .filter((p) => runIdPid(p.runId) === harnessPid)
    .map((p) => p.pid)
}
