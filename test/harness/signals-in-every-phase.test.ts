// Nothing outlives a run, whatever the phase it is stopped in and however (bench/lib/stop-in-phase.ts
// says what is checked): on local, SIGINT, SIGTERM and SIGKILL as each of the 9 phases begins; on
// compose (where an engine answers) each phase once, the signals taking turns (INT in boot, TERM
// in seed, KILL in steady-state-before...), so every phase and every signal is in the suite;
// bench/signals.ts sends all 27 on compose (bench/RESULTS.md#signals-compose).
import t from 'tap'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { composeSkip } from '../compose/skip.js'
import { PHASES, SIGNALS, checksOf, stopRunIn, type Phase, type StopSignal } from '../../bench/lib/stop-in-phase.js'

async function stopIn(t: Tap.Test, dir: string, phase: Phase, signal: StopSignal, platform: string) {
  const outcome = await stopRunIn(dir, platform, phase, signal)
  for (const c of checksOf(outcome)) t.ok(c.ok, c.what, c.ok ? {} : { seen: c.seen })
}

t.test('a run stopped by INT, TERM or KILL in any phase leaves nothing behind (local)', { skip: kinesisOutageSkip }, async (t) => {
  const dir = t.testdir({})
  for (const phase of PHASES) for (const signal of SIGNALS) await t.test(`${signal} in ${phase}`, (t) => stopIn(t, dir, phase, signal, 'local'))
})

t.test('a run stopped by INT, TERM or KILL in any phase leaves no container or network behind (compose)', { skip: await composeSkip() }, async (t) => {
  const dir = t.testdir({})
  const cases = PHASES.map((phase, i) => [phase, SIGNALS[i % SIGNALS.length]] as const)
  for (const [phase, signal] of cases) await t.test(`${signal} in ${phase}`, (t) => stopIn(t, dir, phase, signal, 'compose'))
})
