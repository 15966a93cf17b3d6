// Durations as people write them in experiments: "20s", "1500ms", "2m", "1h", "2.5s".
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const

export const DURATION_EXPECTED = 'a duration like 20s, 1500ms or 2m'

/** Milliseconds (rounded), or undefined when `v` is not a duration. A bare 0 is allowed. */
export function parseDuration(v: unknown): number | undefined {
  if (v === 0) return 0
  if (typeof v !== 'string') return undefined
  const m = DURATION.exec(v.trim())
  if (!m) return undefined
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS])
}

/** The shortest exact way to write `ms` back ("90s", "1500ms", "2m"). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1_000 === 0) return `${ms / 1_000}s`
  return `${ms}ms`
}
