// inject-fault: add a fault rule to a service's inbound requests or outbound calls (latency,
// error, reset, hang), through its admin API. An outbound fault may name a `target`: the calls to
// that service, matched by the origin this platform gave it.
import { join } from '../../experiment/checker.js'
import { admin } from '../admin.js'
import { ActionFailed, defineProvider, serviceArg } from '../provider.js'

export const FAULT_DIRECTIONS = ['inbound', 'outbound'] as const
export const FAULT_KINDS = ['latency', 'error', 'reset', 'hang'] as const
const MATCH_KEYS = ['origin', 'pathPrefix', 'method', 'operation'] as const

export type FaultMatch = {
  origin?: string
  pathPrefix?: string
  method?: string
  operation?: string
}

export type InjectFaultArgs = {
  service: string
  direction: (typeof FAULT_DIRECTIONS)[number]
  kind: (typeof FAULT_KINDS)[number]
  delayMs?: number
  status?: number
  errorType?: string
  probability?: number
  /** Outbound only: the service whose calls are hit (run() turns it into match.origin). */
  target?: string
  match?: FaultMatch
}

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

export const injectFault = defineProvider<'inject-fault', InjectFaultArgs>({
  name: 'inject-fault',
  args: {
    keys: ['service', 'direction', 'kind', 'delayMs', 'status', 'errorType', 'probability', 'target', 'match'],
    shape: '{service, direction, kind, delayMs?, status?, errorType?, probability?, target?, match?}',
    read(c, a, path) {
      const kind = c.oneOf(a, 'kind', path, FAULT_KINDS) ?? 'error'
      const out: InjectFaultArgs = {
        service: serviceArg(c, a, path),
        direction: c.oneOf(a, 'direction', path, FAULT_DIRECTIONS) ?? 'inbound',
        kind,
      }
      if (a.delayMs !== undefined) out.delayMs = c.integer(a, 'delayMs', path, kind === 'latency' ? 1 : 0, 86_400_000)
      else if (kind === 'latency') c.bad(join(path, 'delayMs'), 'a delay in ms > 0 for a latency fault', undefined)
      if (a.status !== undefined) out.status = c.integer(a, 'status', path, 400, 599)
      if (a.errorType !== undefined) out.errorType = c.string(a, 'errorType', path)
      if (a.probability !== undefined) out.probability = c.number(a, 'probability', path, { min: 0, max: 1 })
      if (a.target !== undefined) {
        out.target = c.string(a, 'target', path)
        if (out.direction !== 'outbound') c.badText(join(path, 'target'), 'target only with direction: outbound', describeValue(a.target))
      }
      if (a.match !== undefined) {
        const mp = join(path, 'match')
        const mm = c.map(a.match, mp, MATCH_KEYS)
        if (mm) {
          out.match = {}
          for (const k of MATCH_KEYS) {
            if (mm[k] !== undefined) out.match[k] = c.string(mm, k, mp)
          }
        }
      }
      return out
    },
    references(args, run, path) {
      if (args.target !== undefined && args.target !== 'kinesis') run.process(args.target, join(path, 'target'))
    },
  },
  async run(args, ctx) {
    const { service, direction, target, ...rule } = args
    if (target !== undefined) {
      // A fault on the calls to a service: match them by that service's origin.
      const e = ctx.topology.endpoints()
      const url = target === 'kinesis' ? e.kinesis : e.services[target]
      if (!url) throw new ActionFailed('inject-fault', `no service named ${target} to match the calls to`)
      rule.match = { ...rule.match, origin: new URL(url).origin }
    }
    const added = await admin(ctx, service, 'POST', `/faults/${direction}`, rule)
    return { service, direction, rule: added }
  },
})
