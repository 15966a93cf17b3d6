// partition: cut one service or process off the network (its peers see it vanish).
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const partition = defineProvider<'partition', ServiceArgs>({
  name: 'partition',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    return { service: args.service, ...(await ctx.topology.partition(args.service)) }
  },
})
