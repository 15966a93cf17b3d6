// Nothing outlives a run, whatever the phase it is stopped in and however: `outage-lab run` of a
// short experiment is sent SIGINT, SIGTERM or SIGKILL as a phase begins (2 s into the boot), and
// afterwards no process carries a run id of that harness, no pids cgroup of its runs is left and,
// on compose, no container, network or volume of its project. INT and TERM still write the journal
// (status interrupted, exit 130 / 143; from the teardown on the run is over: it keeps its verdict).
// The analysis and the report are synchronous: INT and TERM there are handled once they are
// written; a KILL there leaves a run folder without them, and nothing running.
// test/harness/signals-in-every-phase.test.ts asserts these checks; bench/signals.ts counts them
// over every phase and signal on a platform.
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runCli } from './cli.js'
import { composeResources } from './compose-resources.js'
import { runIdPid } from '../../harness/platform/local/cgroups.js'
import { processesOfHarness } from '../../harness/platform/local/run-state.js'

export const SHORT_EXPERIMENT = `title: a short run stopped by a signal
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

export const PHASES = ['boot', 'seed', 'steady-state-before', 'method', 'rollbacks', 'steady-state-after', 'teardown', 'analysis', 'report'] as const
export const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const
export type Phase = (typeof PHASES)[number]
export type StopSignal = (typeof SIGNALS)[number]
/** Phases after the run ended: a signal there leaves the run's own verdict. */
const OVER = new Set<string>(['teardown', 'analysis', 'report'])
const PIDS_PARENT = '/sys/fs/cgroup/pids/outage-lab'

/** Processes carrying a run id of this harness pid, and that harness's runs' pids cgroups. */
export function leftoversOf(harnessPid: number): string[] {
  const left = processesOfHarness(harnessPid).map((pid) => `process ${pid}`)
  if (fs.existsSync(PIDS_PARENT)) for (const d of fs.readdirSync(PIDS_PARENT)) if (runIdPid(d) === harnessPid) left.push(`cgroup ${d}`)
  return left
}

/** Containers (any state), networks and volumes of the compose projects this harness pid named. */
export function composeLeftoversOf(harnessPid: number): string[] {
  const ofHarness = (project: string) => project.startsWith('outage-lab-') && runIdPid(project.slice('outage-lab-'.length)) === harnessPid
  return composeResources()
    .filter((r) => ofHarness(r.project))
    .map((r) => `${r.kind} ${r.name}`)
}

/** Polls `probe` until it answers an empty list or `timeoutMs` passed; its last answer. */
async function untilEmpty(probe: () => string[], timeoutMs: number, intervalMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = probe()
    if (left.length === 0 || Date.now() >= deadline) return left
    await sleep(intervalMs)
  }
}

export interface StopOutcome {
  platform: string
  phase: Phase
  signal: StopSignal
  /** The CLI's pid: its runs' ids, cgroups and compose projects carry it. */
  harnessPid: number
  /** The run's stderr named the phase (the signal landed where it was meant to). */
  reached: boolean
  /** Processes and pids cgroups of the run left once the reaper had 15 s. */
  leftovers: string[]
  /** Compose only: containers, networks and volumes of the run's project left after 60 s. */
  composeLeftovers: string[]
  code: number | null
  exitSignal: NodeJS.Signals | null
  /** The journal's status, undefined when no journal was written. */
  journalStatus?: string
  /** From the signal to the CLI's exit. */
  exitMs: number
  /** From the signal until nothing of the run was left (or the checks gave up). */
  cleanMs: number
  stderr: string
}

/** `outage-lab run` of SHORT_EXPERIMENT (written into `dir`) on `platform`, stopped by `signal` as `phase` begins. */
export async function stopRunIn(dir: string, platform: string, phase: Phase, signal: StopSignal): Promise<StopOutcome> {
  const experiment = path.join(dir, 'short.yaml')
  if (!fs.existsSync(experiment)) fs.writeFileSync(experiment, SHORT_EXPERIMENT)
  const out = path.join(dir, `${platform}-${phase}-${signal}`)
  let pid = 0
  let signalledAt = 0
  const r = await runCli(['run', experiment, '--out', out, '--platform', platform], {
    interruptOn: new RegExp(`phase: ${phase}\\n`),
    signal,
    // Into the boot, when some services run and others are starting.
    interruptDelayMs: phase === 'boot' ? 2_000 : 0,
    onSpawn: (p) => (pid = p),
    onInterrupt: () => (signalledAt = performance.now()),
    killAfterMs: 300_000,
  })
  const exitedAt = performance.now()
  // After a SIGKILL the reaper (a detached process) cleans up: give it a moment.
  const leftovers = await untilEmpty(() => leftoversOf(pid), 15_000, 200)
  const composeLeftovers = platform === 'compose' ? await untilEmpty(() => composeLeftoversOf(pid), 60_000, 1_000) : []
  const cleanAt = performance.now()
  const journalFile = path.join(out, 'journal.json')
  const journalStatus = fs.existsSync(journalFile) ? JSON.parse(fs.readFileSync(journalFile, 'utf8')).status : undefined
  const since = (t: number) => (signalledAt ? t - signalledAt : NaN)
  return {
    platform,
    phase,
    signal,
    harnessPid: pid,
    reached: new RegExp(`phase: ${phase}`).test(r.stderr),
    leftovers,
    composeLeftovers,
    code: r.code,
    exitSignal: r.signal,
    journalStatus,
    exitMs: since(exitedAt),
    cleanMs: since(cleanAt),
    stderr: r.stderr,
  }
}

export interface StopCheck {
  what: string
  ok: boolean
  /** What was seen, where it is not what was expected. */
  seen?: unknown
}

/** What a stopped run must show, each check named as a user would say it. */
export function checksOf(o: StopOutcome): StopCheck[] {
  const { platform, phase, signal } = o
  const checks: StopCheck[] = [
    { what: `${platform}: the run reached ${phase}`, ok: o.reached },
    { what: `${platform}, ${signal} in ${phase}: no process or cgroup of the run left`, ok: o.leftovers.length === 0, seen: o.leftovers },
  ]
  if (platform === 'compose')
    checks.push({
      what: `compose, ${signal} in ${phase}: no container, network or volume of the run's project left`,
      ok: o.composeLeftovers.length === 0,
      seen: o.composeLeftovers,
    })
  if (signal === 'SIGKILL') {
    checks.push({ what: `${signal} in ${phase}: the CLI died of SIGKILL`, ok: o.exitSignal === 'SIGKILL', seen: o.exitSignal })
    return checks
  }
  checks.push({ what: `${signal} in ${phase}: the journal is written`, ok: o.journalStatus !== undefined })
  if (OVER.has(phase)) {
    // The run was over: it ends as it ended (completed; failed where a starved machine broke the
    // steady state before the method), its verdict its exit code.
    const ended = o.journalStatus === 'completed' || o.journalStatus === 'failed'
    checks.push({ what: `${signal} in ${phase}: the run ended as it was`, ok: ended, seen: o.journalStatus })
    checks.push({ what: `${signal} in ${phase}: exits with the run's verdict`, ok: o.code === (o.journalStatus === 'completed' ? 0 : 1), seen: o.code })
  } else {
    const code = signal === 'SIGINT' ? 130 : 143
    checks.push({ what: `${signal} in ${phase}: status interrupted`, ok: o.journalStatus === 'interrupted', seen: o.journalStatus })
    checks.push({ what: `${signal} in ${phase}: exits ${code}`, ok: o.code === code, seen: o.code })
  }
  return checks
}
