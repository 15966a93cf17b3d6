// Transitional: the old import path of the runner (harness/run/*), kept only so it builds while it
// moves to `import { PROVIDERS, type ActionContext } from '../faults/index.js'` and the call
// `await PROVIDERS[a.provider].run(args, ctx)`. The providers are defined in providers/<name>.ts;
// delete this file once nothing imports it.
import { PROVIDERS as DEFINITIONS, PROVIDER_NAMES, type ActionContext, type ProviderArgs } from './index.js'

export { ActionFailed, type ActionContext } from './index.js'

export type Provider = (args: Record<string, unknown>, ctx: ActionContext) => Promise<Record<string, unknown>>

/** @deprecated Use `PROVIDERS[name].run(args, ctx)` from './index.js'. */
export const PROVIDERS: Record<string, Provider> = Object.fromEntries(
  PROVIDER_NAMES.map((name): [string, Provider] => [name, (args, ctx) => DEFINITIONS[name].run(args as ProviderArgs, ctx)]),
)
