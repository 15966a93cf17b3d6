// clear-faults: remove every injected fault of a service, inbound and outbound.
import { admin } from '../admin.js'
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const clearFaults = defineProvider<'clear-faults', ServiceArgs>({
  name: 'clear-faults',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    const removed: Record<string, unknown> = {}
    for (const d of ['inbound', 'outbound'] as const) removed[d] = (await admin(ctx, args.service, 'DELETE', `/faults/${d}`)).removed
    return { service: args.service, removed }
  },
})
