// Nothing outlives a run, whatever the phase it is stopped in and however: `outage-lab run` is sent
// SIGINT, SIGTERM or SIGKILL as each phase begins (2 s into the boot; seed, steady-state-before, method,
// rollbacks, steady-state-after, teardown, analysis, report). Afterwards no process carries a run id
// of that harness and no pids cgroup of its runs is left; INT and TERM still write the journal
// (status interrupted, exit 130 / 143; from the teardown on the run is over: it keeps its verdict).
// The analysis and the report are synchronous: INT and TERM there are handled once they are
// written; a KILL there leaves a run folder without them, and nothing running.
// On compose (where an engine answers) one signal per kind, in boot, method and steady-state-after:
// no container or network of the run's project is left.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { runCli } from '../helpers/cli-run.js'
import { eventually } from '../helpers/eventually.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { runIdPid } from '../../harness/platform/local/cgroups.js'
import { processesOfHarness } from '../../harness/platform/local/run-state.js'
import { composeSkip } from '../compose/skip.js'

const SHORT = `title: a short run stopped by a signal
description: every phase lasts about a second, so a signal can land in each
timeScale: 10
duration: 3s
seed: 5
topology:
  fleets:
    main: { frontends: 2, threadLimit: 64, learnDelay: 0s }
  services: []
workload:
  rates: { kinesisPut: 10, kinesisGet: 2 }
steady-state-hypothesis:
  title: served
  probes:
    # Always met (a loaded machine must not end the run before the phases the test stops it in).
    - { type: probe, name: kinesis-answers, service: kinesis, measure: successRatio, window: 1s, tolerance: { min: 0 } }
method:
  - { type: action, name: pause-a-moment, at: 1s, provider: wait, args: { for: 1s } }
rollbacks:
  - { type: action, name: rest, provider: wait, args: { for: 1s } }
`

const PHASES = ['boot', 'seed', 'steady-state-before', 'method', 'rollbacks', 'steady-state-after', 'teardown', 'analysis', 'report'] as const
/** Phases after the run ended: a signal there leaves the run's own verdict. */
const OVER = new Set<string>(['teardown', 'analysis', 'report'])
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const
const PIDS_PARENT = '/sys/fs/cgroup/pids/outage-lab'

/** Processes carrying a run id of this harness pid, and that harness's runs' pids cgroups. */
function leftoversOf(harnessPid: number): string[] {
  const left = processesOfHarness(harnessPid).map((pid) => `process ${pid}`)
  if (fs.existsSync(PIDS_PARENT)) for (const d of fs.readdirSync(PIDS_PARENT)) if (runIdPid(d) === harnessPid) left.push(`cgroup ${d}`)
  return left
}

function projectsOf(harnessPid: number): string[] {
  const out = execFileSync('docker', ['ps', '-a', '--format', '{{.Label "com.docker.compose.project"}}'], { encoding: 'utf8' })
  const nets = execFileSync('docker', ['network', 'ls', '--format', '{{.Label "com.docker.compose.project"}}'], { encoding: 'utf8' })
  return [...new Set([...out.split('\n'), ...nets.split('\n')])].filter(
    (p) => p.startsWith('outage-lab-') && runIdPid(p.slice('outage-lab-'.length)) === harnessPid,
  )
}

async function stopIn(t: Tap.Test, dir: string, phase: string, signal: (typeof SIGNALS)[number], platform: string) {
  const out = path.join(dir, `${platform}-${phase}-${signal}`)
  let pid = 0
  const r = await runCli(['run', path.join(dir, 'short.yaml'), '--out', out, '--platform', platform], {
    interruptOn: new RegExp(`phase: ${phase}\\n`),
    signal,
    // Into the boot, when some services run and others are starting.
    interruptDelayMs: phase === 'boot' ? 2_000 : 0,
    onSpawn: (p) => (pid = p),
    killAfterMs: 300_000,
  })
  t.match(r.stderr, new RegExp(`phase: ${phase}`), `${platform}: the run reached ${phase}`)
  // After a SIGKILL the reaper (a detached process) cleans up: give it a moment.
  const left = await eventually(() => leftoversOf(pid), { what: 'nothing left', timeoutMs: 15_000, intervalMs: 200, until: (l) => l.length === 0 }).catch(() =>
    leftoversOf(pid),
  )
  t.same(left, [], `${platform}, ${signal} in ${phase}: no process or cgroup of the run left`)
  if (platform === 'compose') {
    const projects = await eventually(() => projectsOf(pid), {
      what: 'no project left',
      timeoutMs: 60_000,
      intervalMs: 1_000,
      until: (p) => p.length === 0,
    }).catch(() => projectsOf(pid))
    t.same(projects, [], `compose, ${signal} in ${phase}: no container or network of the run's project left`)
  }
  if (signal === 'SIGKILL') {
    t.equal(r.signal, 'SIGKILL')
    return
  }
  const journalFile = path.join(out, 'journal.json')
  t.ok(fs.existsSync(journalFile), `${signal} in ${phase}: the journal is written`)
  const status = fs.existsSync(journalFile) ? JSON.parse(fs.readFileSync(journalFile, 'utf8')).status : undefined
  if (OVER.has(phase)) {
    // The run was over: it ends as it ended (completed; failed where a starved machine broke the
    // steady state before the method), its verdict its exit code.
    t.ok(status === 'completed' || status === 'failed', `${signal} in ${phase}: the run ended as it was (${status})`)
    t.equal(r.code, status === 'completed' ? 0 : 1, `${signal} in ${phase}: exits with the run's verdict`)
  } else {
    t.equal(status, 'interrupted', `${signal} in ${phase}: status interrupted`)
    t.equal(r.code, signal === 'SIGINT' ? 130 : 143, `${signal} exits ${signal === 'SIGINT' ? 130 : 143}`)
  }
}

t.test('a run stopped by INT, TERM or KILL in any phase leaves nothing behind (local)', { skip: kinesisOutageSkip }, async (t) => {
  const dir = t.testdir({ 'short.yaml': SHORT })
  for (const phase of PHASES) for (const signal of SIGNALS) await t.test(`${signal} in ${phase}`, (t) => stopIn(t, dir, phase, signal, 'local'))
})

t.test('a run stopped by INT, TERM or KILL leaves no container or network behind (compose)', { skip: await composeSkip() }, async (t) => {
  const dir = t.testdir({ 'short.yaml': SHORT })
  const cases: [string, (typeof SIGNALS)[number]][] = [
    ['boot', 'SIGTERM'],
    ['method', 'SIGINT'],
    ['steady-state-after', 'SIGKILL'],
  ]
  for (const [phase, signal] of cases) await t.test(`${signal} in ${phase}`, (t) => stopIn(t, dir, phase, signal, 'compose'))
})
