// pause: SIGSTOP one service or process; it keeps its sockets but answers nothing until resumed.
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const pause = defineProvider<'pause', ServiceArgs>({
  name: 'pause',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    await ctx.topology.pause(args.service)
    return { service: args.service }
  },
})
