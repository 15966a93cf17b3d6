import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { detectPidsCgroups } from '../../harness/platform/local/cgroups.js'
import { localPlatform } from '../../harness/platform/local/index.js'
// @ts-ignore: a plain .mjs fixture (no types)
import { fixtureTopology } from '../fixtures/topology-fixture.mjs'
import { eventually } from '../helpers/eventually.js'

const HARNESS = fileURLToPath(new URL('../fixtures/topology-harness.mjs', import.meta.url))
const cgroups = detectPidsCgroups()
const noCgroups = cgroups.kind === 'none' ? `pids cgroups are not writable here: ${cgroups.reason}` : false

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

interface HarnessRun {
  pid: number
  info: { runId: string; cgroupDir: string | null; enforcement: string; pids: number[] }
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** A harness process (the compiled local backend, run by a fixture script) with its topology up. */
async function startHarness(t: Tap.Test, runDir: string, mode = ''): Promise<HarnessRun> {
  const child = spawn(process.execPath, [HARNESS, runDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve)
    void exited.then(() => reject(new Error(`harness exited before it was up: ${stderr}`)))
  })
  return { pid: child.pid!, info: JSON.parse(line), exited }
}

/** Polls until nothing of the run is left, or the deadline; returns what is left. */
async function leftovers(run: HarnessRun, withinMs: number): Promise<{ processes: number[]; cgroup: boolean }> {
  const left = () => ({
    processes: [...new Set([...processesOfRun(run.info.runId), ...run.info.pids.filter(alive)])],
    cgroup: run.info.cgroupDir !== null && fs.existsSync(run.info.cgroupDir),
  })
  return eventually(left, { what: 'nothing of the run left', timeoutMs: withinMs, intervalMs: 100, until: (l) => l.processes.length === 0 && !l.cgroup }).catch(
    left,
  )
}

t.test('a SIGKILLed harness leaves no process and no cgroup of its run behind, a paused member included', async (t) => {
  const runDir = t.testdir()
  const run = await startHarness(t, runDir, 'pause-one')
  t.equal(run.info.pids.length, 4)
  t.ok(run.info.pids.every(alive), 'the topology is up')
  if (!noCgroups) t.ok(fs.existsSync(run.info.cgroupDir!), 'the run has its cgroups')
  process.kill(run.pid, 'SIGKILL')
  await run.exited
  t.same(await leftovers(run, 8_000), { processes: [], cgroup: false }, 'nothing of the run is left within a few seconds')
  const reaperLog = fs.readFileSync(path.join(runDir, 'logs', 'reaper.log'), 'utf8')
  t.match(reaperLog, /harness gone: reaping/, 'the reaper did the cleanup')
  if (!noCgroups) t.match(reaperLog, /cgroups removed/)
  t.notOk(fs.existsSync(path.join(runDir, 'supervisor.json')), 'the reaper removed the run state')
})

t.test("SIGINT stops every service and removes the run's cgroups before the harness exits", { timeout: 30_000 }, async (t) => {
  const runDir = t.testdir()
  const run = await startHarness(t, runDir)
  process.kill(run.pid, 'SIGINT')
  const exit = await run.exited
  t.same(exit, { code: null, signal: 'SIGINT' }, 'the harness ends as SIGINT meant, after cleaning up')
  t.same(await leftovers(run, 0), { processes: [], cgroup: false }, 'nothing of the run is left when the harness has exited')
  const logs = fs.readFileSync(path.join(runDir, 'logs', 'member-1.log'), 'utf8')
  t.notMatch(logs, /parent process exited/, 'services were stopped by the harness, not orphaned')
})

t.test('SIGTERM to the harness does the same', { timeout: 30_000 }, async (t) => {
  const run = await startHarness(t, t.testdir(), 'grandchild')
  process.kill(run.pid, 'SIGTERM')
  t.same(await run.exited, { code: null, signal: 'SIGTERM' })
  t.same(await leftovers(run, 0), { processes: [], cgroup: false })
})

t.test("stale cgroups of dead runs with no tasks are removed at start; a live harness's are kept", { skip: noCgroups }, async (t) => {
  if (cgroups.kind === 'none') return
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!
  const stale = path.join(cgroups.root, `20200101t000000-p${dead}-dead`)
  const live = path.join(cgroups.root, `20200101t000000-p${process.pid}-live`)
  for (const d of [stale, live]) fs.mkdirSync(path.join(d, 'member-1'), { recursive: true })
  t.teardown(() => {
    for (const d of [stale, live]) for (const p of [path.join(d, 'member-1'), d]) fs.rmSync(p, { force: true, recursive: false } as any)
  })
  const topo = await localPlatform.start(fixtureTopology({ members: 1 }), { runDir: t.testdir(), signals: false })
  await topo.stop()
  t.notOk(fs.existsSync(stale), "the dead harness's empty cgroups are gone")
  t.ok(fs.existsSync(live), "a running harness's cgroups are left alone")
  fs.rmdirSync(path.join(live, 'member-1'))
  fs.rmdirSync(live)
})
