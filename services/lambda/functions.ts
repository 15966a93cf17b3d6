// The built-in functions an invocation host runs, in-process. Each handler gets the parsed JSON
// payload and a log() that writes into the invocation's log (what LogType=Tail returns and what the
// host agent ships); it returns the JSON result or throws, which Lambda reports as a function error.
import { createHash } from 'node:crypto'

export interface FunctionContext {
  log(line: string): void
  requestId: string
}

export interface BuiltinFunction {
  name: string
  description: string
  /** Seconds, as in the function's configuration. */
  timeoutSeconds: number
  /** The function's configured memory (MB). The host reserves its own per-invocation amount. */
  memorySizeMb: number
  handler(payload: unknown, ctx: FunctionContext): unknown | Promise<unknown>
}

/** CPU work stays bounded: a customer cannot pin the host's event loop for more than a second or two. */
export const CPU_MAX_ROUNDS = 1_000_000
export const SLEEP_MAX_MS = 10_000

const field = (payload: unknown, name: string): unknown =>
  payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)[name] : undefined

function boundedInt(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in [0, ${max}], got ${JSON.stringify(value)}`)
  }
  return value
}

export const BUILTIN_FUNCTIONS: readonly BuiltinFunction[] = [
  {
    name: 'echo',
    description: 'Returns its payload unchanged',
    timeoutSeconds: 3,
    memorySizeMb: 128,
    handler: (payload) => payload,
  },
  {
    name: 'cpu',
    description: `CPU-bound: {"rounds": N} (<= ${CPU_MAX_ROUNDS}) chained SHA-256 rounds seeded by {"seed"}; returns the final digest`,
    timeoutSeconds: 10,
    memorySizeMb: 128,
    handler: (payload, ctx) => {
      const rounds = boundedInt(field(payload, 'rounds'), 'rounds', 1000, CPU_MAX_ROUNDS)
      let digest = createHash('sha256')
        .update(String(field(payload, 'seed') ?? ''))
        .digest()
      for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest()
      ctx.log(`cpu: ${rounds} rounds`)
      return { rounds, digest: digest.toString('hex') }
    },
  },
  {
    name: 'sleep',
    description: `Waits {"ms": N} (<= ${SLEEP_MAX_MS}) milliseconds, holding its host memory meanwhile`,
    timeoutSeconds: 15,
    memorySizeMb: 128,
    handler: async (payload, ctx) => {
      const ms = boundedInt(field(payload, 'ms'), 'ms', 100, SLEEP_MAX_MS)
      await new Promise((resolve) => setTimeout(resolve, ms))
      ctx.log(`slept ${ms} ms`)
      return { sleptMs: ms }
    },
  },
]

export class FunctionCatalogue {
  readonly #byName = new Map<string, BuiltinFunction>()
  constructor(functions: readonly BuiltinFunction[] = BUILTIN_FUNCTIONS) {
    for (const fn of functions) this.#byName.set(fn.name, fn)
  }
  get(name: string): BuiltinFunction | undefined {
    return this.#byName.get(name)
  }
  list(): BuiltinFunction[] {
    return [...this.#byName.values()]
  }
}
