// resume: SIGCONT a paused service or process.
import { defineProvider, SERVICE_ARGS, type ServiceArgs } from '../provider.js'

export const resume = defineProvider<'resume', ServiceArgs>({
  name: 'resume',
  args: SERVICE_ARGS,
  async run(args, ctx) {
    await ctx.topology.resume(args.service)
    return { service: args.service }
  },
})
