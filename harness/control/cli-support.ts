// What every outage-lab command shares: exit codes, the usage-error type, option parsers that name
// the option and what it expected.
import { InvalidArgumentError, Option, type Command } from 'commander'
import { DEFAULT_PLATFORM, PLATFORM_NAMES } from '../platform/registry.js'

export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130, terminated: 143 } as const

/** Bad input (a flag, a file): exit 2 with this message. */
export class UsageError extends Error {
  readonly exitCode = EXIT.badInput
}

/** Commander calls parsers with the raw value; the thrown message lands after the option's name. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    if (!/^\s*-?\d+\s*$/.test(raw)) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`)
    const n = Number(raw)
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`)
    return n
  }
}

/** A comma-separated list of integers in [min, max]: `7,8,11`. */
export function integerList(min: number, max = Number.MAX_SAFE_INTEGER) {
  const one = integer(min, max)
  return (raw: string): number[] => {
    const parts = raw.split(',').filter((p) => p.trim() !== '')
    if (parts.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of integers in [${min}, ${max}]`)
    return parts.map((p) => {
      try {
        return one(p)
      } catch {
        throw new InvalidArgumentError(`expected a comma-separated list of integers in [${min}, ${max}], got "${p.trim()}"`)
      }
    })
  }
}

export function choice<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`)
    return raw as T
  }
}

/** A restart rate: members per second (a positive number) or "all". */
export function rate(raw: string): number | 'all' {
  if (raw === 'all') return 'all'
  const n = Number(raw)
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected members per second (a positive number) or "all"')
  return n
}

export function fleetName(raw: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(raw)) throw new InvalidArgumentError('expected a fleet name (lower-case letters, digits, dashes)')
  return raw
}

/** stderr for humans: progress, warnings. stdout stays for results. */
export const say = (line: string) => process.stderr.write(line + '\n')

/** `--platform`, and `--backend`, its older name, that users know (run, suite, repeat, up). */
export function platformOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--platform <name>', `where the services run (${PLATFORM_NAMES.join(', ')})`).argParser(choice(PLATFORM_NAMES)).default(DEFAULT_PLATFORM),
    )
    .addOption(new Option('--backend <name>', 'the older name of --platform').argParser(choice(PLATFORM_NAMES)))
}
