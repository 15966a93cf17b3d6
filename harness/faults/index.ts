// The method's actions: one definition per provider (providers/<name>.ts: its name, its args'
// schema and its implementation). The experiment validator reads each definition's args, the
// experiment's types derive from them, and the runner calls
// `await PROVIDERS[action.provider].run(args, ctx)` with the action's args without `provider`.
import type { ActionContext, ProviderDefinition } from './provider.js'
import { clearFaults } from './providers/clear-faults.js'
import { healPartition } from './providers/heal-partition.js'
import { injectFault } from './providers/inject-fault.js'
import { kill } from './providers/kill.js'
import { partition } from './providers/partition.js'
import { pause } from './providers/pause.js'
import { postStatus } from './providers/post-status.js'
import { restartFleet } from './providers/restart-fleet.js'
import { restart } from './providers/restart.js'
import { resume } from './providers/resume.js'
import { scaleFleet } from './providers/scale-fleet.js'
import { setThreadLimit } from './providers/set-thread-limit.js'
import { wait } from './providers/wait.js'

export { ActionFailed, type ActionContext, type ArgsSchema, type ProviderDefinition, type RunReferences } from './provider.js'
export type { FaultMatch, InjectFaultArgs } from './providers/inject-fault.js'

// In the order messages list them ("one of scale-fleet, restart-fleet, ...").
const DEFINITIONS = {
  'scale-fleet': scaleFleet,
  'restart-fleet': restartFleet,
  kill,
  pause,
  resume,
  restart,
  'inject-fault': injectFault,
  'clear-faults': clearFaults,
  'set-thread-limit': setThreadLimit,
  partition,
  'heal-partition': healPartition,
  'post-status': postStatus,
  wait,
} as const

export type ProviderName = keyof typeof DEFINITIONS
/** A provider's args (without `provider`), as its definition reads them. */
export type ProviderArgsOf<N extends ProviderName> = (typeof DEFINITIONS)[N] extends ProviderDefinition<N, infer A> ? A : never
/** Any provider's args: what the runner hands to `run`. */
export type ProviderArgs = { [N in ProviderName]: ProviderArgsOf<N> }[ProviderName]

/**
 * A provider as the runner and the validator see it: any name, any provider's args. Each
 * definition's run takes exactly its own args; the validator made them for that provider.
 */
export interface Provider {
  readonly name: ProviderName
  readonly args: ProviderDefinition<ProviderName, ProviderArgs>['args']
  run(args: ProviderArgs, ctx: ActionContext): Promise<Record<string, unknown>>
}

export const PROVIDERS: { readonly [N in ProviderName]: Provider } = DEFINITIONS

/** Every provider's name, in the catalogue's order. */
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[]

/** Whether a name (from a file, a journal) is a provider's. */
export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(PROVIDERS, name)
}
