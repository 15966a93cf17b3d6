// restart: stop and start one service or process on the same address, until it is ready again.
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const restart = defineProvider<'restart', ServiceArgs>({
  name: 'restart',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    await ctx.topology.restart(args.service)
    return { service: args.service }
  },
})
