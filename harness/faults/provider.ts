// What a provider is: one definition per action an experiment can take, holding its name, its
// arguments (the keys a file may give, their shape as messages show it, a reader that checks them
// with the validator's Checker and returns them typed) and its implementation. The validator, the
// experiment's types and the runner all read the same definition (PROVIDERS in index.ts).
// A provider acts only through the StartedTopology interface or a service's admin HTTP API, so the
// same action works on local processes and on containers; it returns what it did (recorded in the
// journal) or throws ActionFailed.
import type { Checker, Obj } from '../experiment/checker.js'
import type { StartedTopology } from '../platform/started.js'

export class ActionFailed extends Error {
  readonly provider: string
  constructor(provider: string, message: string) {
    super(message)
    this.name = 'ActionFailed'
    this.provider = provider
  }
}

export interface ActionContext {
  topology: StartedTopology
  /** Customer-facing posting of status updates (the status page's two paths). */
  postStatus?: (args: { path: 'primary' | 'backup'; message: string; retryForMs?: number }) => Promise<Record<string, unknown>>
  signal?: AbortSignal
}

/** What a provider's second-pass check may ask about the run (fleet and service args are checked for every provider). */
export interface RunReferences {
  /** Records an issue at `path` unless `name` is a service or a Kinesis process of this run. */
  process(name: string, path: string): void
  /** Whether a customer-facing service is part of this run. */
  runs(service: string): boolean
  /** Records an issue whose `got` is already phrased. */
  badText(path: string, expected: string, got: string): void
}

export interface ArgsSchema<A> {
  /** The keys a file may give (others are reported one by one). */
  keys: readonly string[]
  /** The args as messages show them: `{fleet, to, stepEvery?}`. */
  shape: string
  /** Reads the args map; records every issue with its path on `c`; undefined when no args can be made. */
  read(c: Checker, a: Obj, path: string): A | undefined
  /** The second pass, once the whole file is well-formed: what the args refer to in this run. */
  references?(args: A, run: RunReferences, path: string): void
}

export interface ProviderDefinition<N extends string, A extends object> {
  readonly name: N
  readonly args: ArgsSchema<A>
  /** Runs the action with its validated args (the action's args without `provider`). */
  run(args: A, ctx: ActionContext): Promise<Record<string, unknown>>
}

/** Keeps the literal name and the args type of a definition. */
export function defineProvider<N extends string, A extends object>(d: ProviderDefinition<N, A>): ProviderDefinition<N, A> {
  return d
}

/** The `fleet` every fleet provider takes. */
export function fleetArg(c: Checker, a: Obj, path: string): string {
  return c.string(a, 'fleet', path, { required: true }) ?? ''
}

/** The `service` (a service or Kinesis process of the run) every process provider takes. */
export function serviceArg(c: Checker, a: Obj, path: string): string {
  return c.string(a, 'service', path, { required: true }) ?? ''
}

export type ServiceArgs = {
  service: string
}

/** The shape shared by the providers that take only a service. */
export const SERVICE_ARGS: ArgsSchema<ServiceArgs> = {
  keys: ['service'],
  shape: '{service}',
  read: (c, a, path) => ({ service: serviceArg(c, a, path) }),
}
