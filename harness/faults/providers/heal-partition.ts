// heal-partition: reconnect a partitioned service or process.
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const healPartition = defineProvider<'heal-partition', ServiceArgs>({
  name: 'heal-partition',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    return { service: args.service, ...(await ctx.topology.healPartition(args.service)) }
  },
})
