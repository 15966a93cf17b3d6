// kill: SIGKILL one service or process; it stays down until restarted.
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const kill = defineProvider<'kill', ServiceArgs>({
  name: 'kill',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    await ctx.topology.kill(args.service)
    return { service: args.service }
  },
})
