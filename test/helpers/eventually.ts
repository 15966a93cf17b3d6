// The one polling helper of the tests: call a probe until it answers, or fail naming what was
// awaited, for how long, and the last answer or error seen.

import { setTimeout as sleep } from 'node:timers/promises'

export interface EventuallyOptions<T> {
  /** How long to keep polling (default 15 s). The probe runs at least once, and once more after the deadline's last sleep. */
  timeoutMs?: number
  /** The pause between two probes (default 50 ms). */
  intervalMs?: number
  /** What is awaited, for the timeout's message. */
  what?: string
  /** When the probe's answer is good enough (default: it is truthy). */
  until?: (value: T) => boolean
}

/** T without the falsy values a probe answers "not yet" with. */
export type Truthy<T> = Exclude<T, undefined | null | false | 0 | '' | 0n>

const MAX_SHOWN = 500

function show(value: unknown): string {
  let text: string
  if (value instanceof Error) text = `${value.name}: ${value.message}`
  else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = String(value)
    }
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text
}

/**
 * Polls `probe` every `intervalMs` until its answer is truthy (or `until` holds for it) and
 * resolves with that answer. A probe that throws counts as "not yet". After `timeoutMs` it rejects
 * with an Error naming `what`, the timeout and the last value or error seen.
 */
export function eventually<T>(probe: () => T | Promise<T>, opts: EventuallyOptions<T> & { until: (value: T) => boolean }): Promise<T>
export function eventually<T>(probe: () => T | Promise<T>, opts?: EventuallyOptions<T>): Promise<Truthy<T>>
export async function eventually<T>(probe: () => T | Promise<T>, opts: EventuallyOptions<T> = {}): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 50, what = 'a condition', until = (v: T) => Boolean(v) } = opts
  const deadline = Date.now() + timeoutMs
  let seen: { value: T } | { error: unknown }
  for (;;) {
    try {
      const value = await probe()
      seen = { value }
      if (until(value)) return value
    } catch (error) {
      seen = { error }
    }
    if (Date.now() >= deadline) {
      const last = 'error' in seen ? `error ${show(seen.error)}` : `value ${show(seen.value)}`
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${last}`, 'error' in seen ? { cause: seen.error } : undefined)
    }
    await sleep(intervalMs)
  }
}
