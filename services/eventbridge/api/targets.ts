// PutTargets, ListTargetsByRule, RemoveTargets. Targets are HTTP(S) URLs on this machine: outage-lab
// keeps its traffic on the loopback interface (TARGET_HOSTS adds service names inside a compose network).
import type { Operation } from '../../kit/index.js'
import { EventsErrors, DEFAULT_BUS } from '../errors.js'
import type { Target } from '../rules.js'
import type { EventsContext } from './context.js'
import * as v from './validate.js'

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/

export function targetOperations(ctx: EventsContext): Record<string, Operation> {
  const { rules, region } = ctx
  const ruleOf = (input: any) => {
    const name = v.name(input.Rule, 'rule')
    v.eventBus(input.EventBusName, region)
    const rule = rules.get(name)
    if (!rule) throw EventsErrors.ResourceNotFoundException(`Rule ${name} does not exist on EventBus ${DEFAULT_BUS}.`)
    return rule
  }

  return {
    async PutTargets(input) {
      const rule = ruleOf(input)
      const given = v.list(input.Targets, 'targets', 1, 10).map((t, i) => target(t, i, ctx.targetHosts))
      const ids = new Set(given.map((t) => t.Id))
      if (ids.size !== given.length) throw EventsErrors.ValidationException('Targets contain duplicate Ids.')
      const next = [...rule.targets.filter((t) => !ids.has(t.Id)), ...given]
      if (next.length > ctx.maxTargetsPerRule)
        throw EventsErrors.LimitExceededException(
          `The requested resource exceeds the maximum number allowed: a rule has at most ${ctx.maxTargetsPerRule} targets.`,
        )
      await rules.setTargets(rule.name, next)
      return { FailedEntryCount: 0, FailedEntries: [] }
    },

    async ListTargetsByRule(input) {
      const rule = ruleOf(input)
      const limit = v.integer(input.Limit, 'limit', 1, 100) ?? 100
      const after = v.pageAfter(input.NextToken)
      const all = [...rule.targets].sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0)).filter((t) => after === undefined || t.Id > after)
      const page = all.slice(0, limit)
      return { Targets: page, ...(all.length > limit ? { NextToken: v.tokenAfter(page[page.length - 1].Id) } : {}) }
    },

    async RemoveTargets(input) {
      const rule = ruleOf(input)
      const ids = new Set(v.list(input.Ids, 'ids', 1, 100).map((id, i) => v.name(id, `ids.${i + 1}.member`)))
      await rules.setTargets(
        rule.name,
        rule.targets.filter((t) => !ids.has(t.Id)),
      )
      return { FailedEntryCount: 0, FailedEntries: [] }
    },
  }
}

function target(raw: unknown, i: number, extraHosts: string[]): Target {
  const at = `targets.${i + 1}.member`
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw EventsErrors.ValidationException(`1 validation error detected: Value at '${at}' failed to satisfy constraint: Member must be a structure`)
  const t = raw as Record<string, any>
  const id = v.name(t.Id, `${at}.id`)
  const arn = v.requiredString(t.Arn, `${at}.arn`, 1600)
  let url: URL
  try {
    url = new URL(arn)
  } catch {
    throw EventsErrors.ValidationException(
      `Parameter ${arn} is not valid. Reason: outage-lab delivers only to http(s) URLs on this machine (e.g. http://127.0.0.1:8080/hook).`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw EventsErrors.ValidationException(`Parameter ${arn} is not valid. Reason: the target URL must be http or https.`)
  if (!LOOPBACK.test(url.hostname) && !extraHosts.includes(url.hostname.toLowerCase()))
    throw EventsErrors.ValidationException(
      `Parameter ${arn} is not valid. Reason: the target must be on this machine (127.0.0.1, localhost or [::1]${extraHosts.length ? `, or one of TARGET_HOSTS: ${extraHosts.join(', ')}` : ''}), got ${url.hostname}.`,
    )
  if (t.InputTransformer !== undefined && t.InputTransformer !== null)
    throw EventsErrors.ValidationException('InputTransformer is not supported by outage-lab: use Input or InputPath.')
  const out: Target = { Id: id, Arn: arn }
  const input = v.optionalString(t.Input, `${at}.input`, 8192)
  const inputPath = v.optionalString(t.InputPath, `${at}.inputPath`, 256)
  if (input !== undefined && inputPath !== undefined)
    throw EventsErrors.ValidationException('Only one of Input, InputPath, or InputTransformer must be provided.')
  if (input !== undefined) {
    try {
      JSON.parse(input)
    } catch {
      throw EventsErrors.ValidationException(`Parameter Input is not valid. Reason: Input is not a valid JSON text.`)
    }
    out.Input = input
  }
  if (inputPath !== undefined) {
    if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(inputPath))
      throw EventsErrors.ValidationException(`Parameter InputPath is not valid. Reason: outage-lab takes a dotted path such as $.detail, got ${inputPath}.`)
    out.InputPath = inputPath
  }
  if (t.RetryPolicy !== undefined && t.RetryPolicy !== null) {
    const rp = t.RetryPolicy
    const attempts = v.integer(rp.MaximumRetryAttempts, `${at}.retryPolicy.maximumRetryAttempts`, 0, 185)
    const age = v.integer(rp.MaximumEventAgeInSeconds, `${at}.retryPolicy.maximumEventAgeInSeconds`, 60, 86_400)
    out.RetryPolicy = { ...(attempts !== undefined ? { MaximumRetryAttempts: attempts } : {}), ...(age !== undefined ? { MaximumEventAgeInSeconds: age } : {}) }
  }
  return out
}
