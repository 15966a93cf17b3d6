// set-thread-limit: change the OS limit on threads of every member of a fleet (remediation 2).
import { MAX_THREAD_LIMIT } from '../../topology/catalogue.js'
import { defineProvider, fleetArg } from '../provider.js'

export type SetThreadLimitArgs = {
  fleet: string
  to: number
}

export const setThreadLimit = defineProvider<'set-thread-limit', SetThreadLimitArgs>({
  name: 'set-thread-limit',
  args: {
    keys: ['fleet', 'to'],
    shape: '{fleet, to}',
    read: (c, a, path) => ({ fleet: fleetArg(c, a, path), to: c.integer(a, 'to', path, 1, MAX_THREAD_LIMIT) ?? 1 }),
  },
  async run(args, ctx) {
    return { ...(await ctx.topology.setThreadLimit(args.fleet, args.to)) }
  },
})
