// How a fleet restart is paced, for every backend: all at once; at a rate (a member's restart
// begins every 1000/ratePerSec ms, whatever the previous one is doing, as a script would); or at a
// rate *and* never before the previous member's shard-map has settled (a rolling restart that
// watches each server come back, the way AWS added servers back "a few hundred per hour").
import type { WaitOutcome } from '../platform/readiness.js'
import { InvalidOperation } from './errors.js'
import type { RestartOptions } from '../platform/started.js'

export interface RestartSteps<M> {
  members: M[]
  restart(member: M): Promise<WaitOutcome>
  /** Resolves once the member's shard-map is no longer building (only with waitReady). */
  settled(member: M): Promise<WaitOutcome>
  stopping(): boolean
}

/**
 * The restart rules, one definition for the experiment validator and every platform: a rate or
 * all at once (exactly one of them), and waitReady only with a rate. Callers say what was given
 * (the validator: which keys the file has; a platform: the options it was called with) and phrase
 * the broken rule in their own terms.
 */
export type BrokenRestartRule = 'both' | 'neither' | 'waitReady-with-all'

export function brokenRestartRule(given: { rate: boolean; all: boolean; waitReady: boolean }): BrokenRestartRule | undefined {
  if (given.rate && given.all) return 'both'
  if (!given.rate && !given.all) return 'neither'
  if (given.all && given.waitReady) return 'waitReady-with-all'
  return undefined
}

/** A restart rate: a positive, finite number of members per second. */
export function isRestartRate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0
}

export function checkRestartOptions(opts: RestartOptions): { paced: boolean; gapMs: number } {
  const paced = opts.ratePerSec !== undefined
  const broken = brokenRestartRule({ rate: paced, all: Boolean(opts.all), waitReady: Boolean(opts.waitReady) })
  if (broken === 'both' || broken === 'neither')
    throw new InvalidOperation('INVALID_ARGUMENT', 'restart: give either a rate (members per second) or all at once')
  if (paced && !isRestartRate(opts.ratePerSec)) {
    throw new InvalidOperation('INVALID_ARGUMENT', `restart rate: expected a positive number of members per second, got ${JSON.stringify(opts.ratePerSec)}`)
  }
  if (broken === 'waitReady-with-all') throw new InvalidOperation('INVALID_ARGUMENT', 'restart: waitReady goes with a rate, not with all at once')
  return { paced, gapMs: paced ? 1000 / opts.ratePerSec! : 0 }
}

export async function runRestart<M>(opts: RestartOptions, steps: RestartSteps<M>): Promise<WaitOutcome[]> {
  const { gapMs } = checkRestartOptions(opts)
  const began = Date.now()
  const stopped = { ready: false as const, reason: 'the run stopped' }
  const sleepUntil = async (at: number) => {
    const wait = at - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  if (!opts.waitReady) {
    return Promise.all(
      steps.members.map(async (m, i) => {
        await sleepUntil(began + i * gapMs)
        return steps.stopping() ? stopped : steps.restart(m)
      }),
    )
  }
  const outcomes: WaitOutcome[] = []
  for (const [i, m] of steps.members.entries()) {
    await sleepUntil(began + i * gapMs)
    if (steps.stopping()) {
      outcomes.push(stopped)
      continue
    }
    const up = await steps.restart(m)
    outcomes.push(up.ready ? await steps.settled(m) : up)
  }
  return outcomes
}
