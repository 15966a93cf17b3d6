// restart-fleet: restart every member of a fleet, all at once or paced (topology/restart-plan.ts
// holds the rules, shared with every platform).
import { join } from '../../experiment/checker.js'
import { MAX_RESTART_RATE_PER_SEC } from '../../topology/catalogue.js'
import { brokenRestartRule } from '../../topology/restart-plan.js'
import { defineProvider, fleetArg } from '../provider.js'

export type RestartFleetArgs = {
  fleet: string
  /** Members per second; with waitReady, each member also waits for the previous one's shard-map. */
  ratePerSec?: number
  all?: true
  waitReady?: boolean
}

const RATE_OR_ALL = 'ratePerSec (members per second) or all: true for restart-fleet'

export const restartFleet = defineProvider<'restart-fleet', RestartFleetArgs>({
  name: 'restart-fleet',
  args: {
    keys: ['fleet', 'ratePerSec', 'all', 'waitReady'],
    shape: '{fleet, ratePerSec, waitReady?} or {fleet, all: true}',
    read(c, a, path) {
      const fleet = fleetArg(c, a, path)
      // What the file gives counts, whatever its value (the value is checked below).
      const broken = brokenRestartRule({ rate: a.ratePerSec !== undefined, all: a.all !== undefined, waitReady: a.waitReady !== undefined })
      if (broken === 'both') {
        c.badText(path, `${RATE_OR_ALL}, not both`, 'both')
        return undefined
      }
      if (a.all !== undefined) {
        if (a.all !== true) c.bad(join(path, 'all'), 'true (restart every member at once)', a.all)
        if (broken === 'waitReady-with-all')
          c.bad(join(path, 'waitReady'), 'nothing with all: true (it paces a rate: each member waits for the previous one)', a.waitReady)
        return { fleet, all: true }
      }
      if (broken === 'neither') {
        c.badText(path, RATE_OR_ALL, 'neither')
        return undefined
      }
      const waitReady = c.boolean(a, 'waitReady', path, false)
      return {
        fleet,
        ratePerSec: c.number(a, 'ratePerSec', path, { min: 0, exclusiveMin: true, max: MAX_RESTART_RATE_PER_SEC }) ?? 1,
        ...(waitReady ? { waitReady: true } : {}),
      }
    },
  },
  async run(args, ctx) {
    const r = await ctx.topology.restartFleet(
      args.fleet,
      args.all ? { all: true } : { ratePerSec: args.ratePerSec ?? 1, ...(args.waitReady ? { waitReady: true } : {}) },
    )
    return { ...r }
  },
})
