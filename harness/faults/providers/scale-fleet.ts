// scale-fleet: set a fleet's size, at once or one member at a time (the capacity addition of 2020).
import { MAX_FLEET_SIZE } from '../../topology/catalogue.js'
import { defineProvider, fleetArg } from '../provider.js'

export type ScaleFleetArgs = {
  fleet: string
  to: number
  /** One member at a time, this far apart (a gradual capacity addition, as in 2020). */
  stepEveryMs?: number
}

export const scaleFleet = defineProvider<'scale-fleet', ScaleFleetArgs>({
  name: 'scale-fleet',
  args: {
    keys: ['fleet', 'to', 'stepEvery'],
    shape: '{fleet, to, stepEvery?}',
    read(c, a, path) {
      const stepEveryMs = a.stepEvery === undefined ? undefined : c.duration(a, 'stepEvery', path, { positive: true })
      return { fleet: fleetArg(c, a, path), to: c.integer(a, 'to', path, 0, MAX_FLEET_SIZE) ?? 0, ...(stepEveryMs !== undefined ? { stepEveryMs } : {}) }
    },
  },
  async run(args, ctx) {
    return { ...(await ctx.topology.scaleFleet(args.fleet, args.to, args.stepEveryMs ? { stepEveryMs: args.stepEveryMs } : {})) }
  },
})
