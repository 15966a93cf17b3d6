#!/usr/bin/env node
// The reaper: a small detached process the local backend starts next to a run. If the harness
// dies without stopping its run (SIGKILL, a crash), the reaper kills what the run left behind and
// removes its cgroups. It exits on its own when the run ends normally (the harness removes the
// state file, or sends SIGTERM). Services also exit when their parent changes; the reaper covers
// what that cannot: a paused (SIGSTOPped) member, a grandchild, the cgroups.
//
// argv: --harness-pid N --run-id ID --state FILE [--cgroup-dir DIR] [--pids a,b,c]
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { removeCgroupTree, cgroupPids, removeParentIfEmpty } from './cgroups.js'
import { readRunState, belongsToRun, processesOfRun } from './run-state.js'

const { values } = parseArgs({
  options: {
    'harness-pid': { type: 'string' },
    'run-id': { type: 'string' },
    state: { type: 'string' },
    'cgroup-dir': { type: 'string' },
    pids: { type: 'string', default: '' },
    'interval-ms': { type: 'string', default: '200' },
  },
})
const harnessPid = Number(values['harness-pid'])
const runId = values['run-id'] ?? ''
const stateFile = values.state ?? ''
if (!Number.isInteger(harnessPid) || harnessPid <= 0 || !runId || !stateFile) {
  console.error('usage: reaper --harness-pid N --run-id ID --state FILE [--cgroup-dir DIR] [--pids a,b]')
  process.exit(2)
}
const log = (msg: string, extra: object = {}) => console.log(JSON.stringify({ time: Date.now(), service: 'reaper', runId, msg, ...extra }))

// The run ended normally: the harness cleaned up and tells us to go.
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => {}) // a Ctrl-C meant for the harness is not ours to act on
process.on('SIGHUP', () => {}) // nor is the terminal closing: the harness may still be running

function harnessGone(): boolean {
  if (process.ppid !== harnessPid) return true
  try {
    process.kill(harnessPid, 0)
  } catch {
    return true
  }
  return false
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, signal)
      } catch {}
    }
  }
}

async function reap(): Promise<void> {
  const state = readRunState(stateFile)
  const known = new Set<number>([...(values.pids ?? '').split(',').filter(Boolean).map(Number), ...(state?.pids ?? []).map((p) => p.pid)])
  // Only processes that carry the run's marker: a pid from the state file may have been recycled.
  const victims = new Set([...known].filter((pid) => belongsToRun(pid, runId)))
  for (const pid of processesOfRun(runId)) victims.add(pid)
  const cgroupDir = values['cgroup-dir'] ?? state?.cgroupDir
  if (cgroupDir) for (const pid of cgroupPids(cgroupDir)) victims.add(pid)
  log('harness gone: reaping', { harnessPid, pids: [...victims], cgroupDir })

  // SIGTERM first so services close files cleanly; SIGCONT wakes paused members to hear it.
  signalAll([...victims], 'SIGTERM')
  signalAll([...victims], 'SIGCONT')
  const deadline = Date.now() + 3_000
  while (Date.now() < deadline && [...victims].some(alive)) await sleep(50)
  const left = [...victims].filter(alive)
  if (left.length) {
    log('killing what did not stop', { pids: left })
    signalAll(left, 'SIGKILL')
  }
  if (cgroupDir) {
    const removed = await removeCgroupTree(cgroupDir, { timeoutMs: 5_000 })
    if (removed) removeParentIfEmpty(cgroupDir)
    log(removed ? 'cgroups removed' : 'cgroups could not be removed', { cgroupDir })
  }
  try {
    fs.rmSync(stateFile, { force: true })
  } catch {}
}

log('watching', { harnessPid })
const interval = Number(values['interval-ms']) || 200
for (;;) {
  await sleep(interval)
  if (harnessGone()) {
    await reap()
    process.exit(0)
  }
  if (!fs.existsSync(stateFile)) {
    log('run ended normally')
    process.exit(0)
  }
}
