import type { KinesisClient } from '@aws-sdk/client-kinesis'
import type { RuleStore } from '../rules.js'
import type { EventsMetrics } from '../metrics.js'
import type { Unprocessed } from '../backlog.js'

/** What the API handlers share. */
export interface EventsContext {
  rules: RuleStore
  kinesis: KinesisClient
  stream: string
  region: string
  metrics: EventsMetrics
  unprocessed: Unprocessed
  /** Largest number of targets per rule (EventBridge: 5). */
  maxTargetsPerRule: number
  /** Extra host names a target URL may name (TARGET_HOSTS). */
  targetHosts: string[]
  now: () => number
  log: { warn(obj: object, msg: string): void }
}
