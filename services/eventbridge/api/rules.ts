// PutRule, DescribeRule, ListRules, DeleteRule on the default event bus.
import type { Operation } from '../../kit/index.js'
import { compilePattern, InvalidPattern } from '../pattern.js'
import { EventsErrors, ACCOUNT, DEFAULT_BUS } from '../errors.js'
import { ruleArn, type LiveRule } from '../rules.js'
import type { EventsContext } from './context.js'
import * as v from './validate.js'

export function ruleOperations(ctx: EventsContext): Record<string, Operation> {
  const { rules, region } = ctx
  const notFound = (name: string) => EventsErrors.ResourceNotFoundException(`Rule ${name} does not exist on EventBus ${DEFAULT_BUS}.`)
  const summary = (r: LiveRule) => ({
    Name: r.name,
    Arn: ruleArn(region, r.name),
    EventPattern: r.eventPattern,
    State: r.state,
    ...(r.description !== undefined ? { Description: r.description } : {}),
    EventBusName: DEFAULT_BUS,
  })

  return {
    async PutRule(input) {
      const name = v.name(input.Name, 'name')
      v.eventBus(input.EventBusName, region)
      const description = v.optionalString(input.Description, 'description', 512)
      if (input.ScheduleExpression !== undefined && input.ScheduleExpression !== null) {
        throw EventsErrors.ValidationException('ScheduleExpression is not supported by outage-lab: give an EventPattern.')
      }
      if (input.EventPattern === undefined || input.EventPattern === null)
        throw EventsErrors.ValidationException('Parameter(s) EventPattern or ScheduleExpression must be specified.')
      const text = v.requiredString(input.EventPattern, 'eventPattern', 4096)
      let pattern
      try {
        pattern = compilePattern(text)
      } catch (err) {
        if (err instanceof InvalidPattern) throw EventsErrors.InvalidEventPatternException(err.message)
        throw err
      }
      const state = input.State ?? 'ENABLED'
      if (state !== 'ENABLED' && state !== 'DISABLED') {
        throw EventsErrors.ValidationException(
          `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
        )
      }
      await rules.put({ name, eventPattern: text, state, description }, pattern)
      return { RuleArn: ruleArn(region, name) }
    },

    async DescribeRule(input) {
      const name = v.name(input.Name, 'name')
      v.eventBus(input.EventBusName, region)
      const rule = rules.get(name)
      if (!rule) throw notFound(name)
      return { ...summary(rule), CreatedBy: ACCOUNT }
    },

    async ListRules(input) {
      v.eventBus(input.EventBusName, region)
      const prefix = v.optionalString(input.NamePrefix, 'namePrefix', 64) ?? ''
      const limit = v.integer(input.Limit, 'limit', 1, 100) ?? 100
      const after = v.pageAfter(input.NextToken)
      const all = rules.list().filter((r) => r.name.startsWith(prefix) && (after === undefined || r.name > after))
      const page = all.slice(0, limit)
      return { Rules: page.map(summary), ...(all.length > limit ? { NextToken: v.tokenAfter(page[page.length - 1].name) } : {}) }
    },

    async DeleteRule(input) {
      const name = v.name(input.Name, 'name')
      v.eventBus(input.EventBusName, region)
      const rule = rules.get(name)
      // Deleting a rule that is not there succeeds, as on AWS: callers may retry a delete.
      if (!rule) return {}
      if (rule.targets.length > 0) throw EventsErrors.ValidationException("Rule can't be deleted since it has targets.")
      await rules.delete(name)
      return {}
    },
  }
}
