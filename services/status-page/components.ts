// The components the dashboard reports on and how an update moves one. A component's status is the
// status of its newest update that set one; without such an update it is operational.
import type { Update } from './updates.js'

export const STATUSES = ['operational', 'degraded', 'outage'] as const
export type ComponentStatus = (typeof STATUSES)[number]

/** The services of the 2020 cascade, as the dashboard named them. */
export const DEFAULT_COMPONENTS = ['kinesis', 'cloudwatch', 'eventbridge', 'autoscaling', 'lambda', 'cognito', 'ecs'] as const

const TITLES: Record<string, string> = {
  kinesis: 'Amazon Kinesis Data Streams',
  cloudwatch: 'Amazon CloudWatch',
  eventbridge: 'Amazon EventBridge',
  autoscaling: 'Auto Scaling',
  lambda: 'AWS Lambda',
  cognito: 'Amazon Cognito',
  ecs: 'Amazon Elastic Container Service',
}

export const COMPONENT_NAME = /^[a-z][a-z0-9-]{0,62}$/

export interface ComponentState {
  name: string
  title: string
  status: ComponentStatus
  /** When the current status was posted (null: never changed). */
  since: string | null
  /** The id of the update that set it. */
  updateId: number | null
}

export function componentStates(names: readonly string[], updates: readonly Update[]): ComponentState[] {
  const states = new Map<string, ComponentState>(
    names.map((name) => [name, { name, title: TITLES[name] ?? name, status: 'operational', since: null, updateId: null }]),
  )
  // updates are in posting order: the last one wins.
  for (const u of updates) {
    const state = u.component ? states.get(u.component) : undefined
    if (state && u.status) {
      state.status = u.status
      state.since = u.postedAt
      state.updateId = u.id
    }
  }
  return [...states.values()]
}
