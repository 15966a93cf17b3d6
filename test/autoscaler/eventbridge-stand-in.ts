// A STAND-IN for EventBridge, for the autoscaler's tests while services/eventbridge is being
// built: a real HTTP server speaking just PutRule, PutTargets and PutEvents of AWSEvents JSON 1.1
// (SigV4-verified by the kit, so the autoscaler's stock SDK client talks to it unchanged) that
// matches rules (exact values, nested) and POSTs each matching event to the targets' URLs. Two
// switches make it sick: failPutEvents (PutEvents answers 500 InternalException) and
// holdDeliveries (events are accepted but not delivered until released).
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { AwsError, awsJsonProtocol, createService } from '../../services/kit/index.js'
import { CREDENTIALS, INTERNAL } from '../helpers/spawn.js'

export interface StandInEvent {
  version: '0'
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: any
}

export interface EventBridgeStandIn {
  url: string
  rules: Map<string, { pattern: any; targets: string[] }>
  /** Events accepted by PutEvents, in order. */
  accepted: StandInEvent[]
  /** Events delivered to a target (2xx). */
  delivered: StandInEvent[]
  /** Accepted events waiting for release() while holdDeliveries is on. */
  held: StandInEvent[]
  putEventsCalls: { ok: number; failed: number }
  failPutEvents: boolean
  holdDeliveries: boolean
  /** Turns holdDeliveries off and delivers what was held. */
  release(): void
}

export async function startEventBridgeStandIn(t: Test): Promise<EventBridgeStandIn> {
  const svc = createService({ name: 'eventbridge-stand-in', logger: false })
  const standIn: EventBridgeStandIn = {
    url: '',
    rules: new Map(),
    accepted: [],
    delivered: [],
    held: [],
    putEventsCalls: { ok: 0, failed: 0 },
    failPutEvents: false,
    holdDeliveries: false,
    release() {
      standIn.holdDeliveries = false
      for (const event of standIn.held.splice(0)) void route(event)
    },
  }

  async function route(event: StandInEvent): Promise<void> {
    for (const rule of standIn.rules.values()) {
      if (!matches(rule.pattern, event)) continue
      for (const target of rule.targets) {
        for (let attempt = 0; attempt < 3; attempt++) {
          // As EventBridge does for AUTOSCALER_URL: the autoscaler's /workflow/events is internal.
          const ok = await request(target, { method: 'POST', headers: { ...INTERNAL, 'content-type': 'application/json' }, body: JSON.stringify(event) })
            .then(async (res) => {
              await res.body.dump()
              return res.statusCode < 300
            })
            .catch(() => false)
          if (ok) {
            standIn.delivered.push(event)
            break
          }
          await new Promise((r) => setTimeout(r, 100))
        }
      }
    }
  }

  svc.app.register(awsJsonProtocol, {
    targetPrefix: 'AWSEvents',
    jsonVersion: '1.1',
    signingName: 'events',
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    operations: {
      PutRule(input) {
        const rule = standIn.rules.get(input.Name) ?? { pattern: undefined, targets: [] }
        rule.pattern = JSON.parse(input.EventPattern)
        standIn.rules.set(input.Name, rule)
        return { RuleArn: `arn:aws:events:us-east-1:000000000000:rule/${input.Name}` }
      },
      PutTargets(input) {
        const rule = standIn.rules.get(input.Rule)
        if (!rule) throw new AwsError('ResourceNotFoundException', 400, `Rule ${input.Rule} does not exist on EventBus default.`)
        rule.targets = input.Targets.map((target: { Arn: string }) => target.Arn)
        return { FailedEntryCount: 0, FailedEntries: [] }
      },
      PutEvents(input) {
        if (standIn.failPutEvents) {
          standIn.putEventsCalls.failed++
          throw new AwsError('InternalException', 500, 'stand-in: PutEvents is failing')
        }
        standIn.putEventsCalls.ok++
        const entries = input.Entries.map((e: any) => {
          const event: StandInEvent = {
            version: '0',
            id: randomUUID(),
            'detail-type': e.DetailType,
            source: e.Source,
            account: '000000000000',
            time: new Date().toISOString(),
            region: 'us-east-1',
            resources: e.Resources ?? [],
            detail: JSON.parse(e.Detail),
          }
          standIn.accepted.push(event)
          if (standIn.holdDeliveries) standIn.held.push(event)
          else setImmediate(() => void route(event))
          return { EventId: event.id }
        })
        return { FailedEntryCount: 0, Entries: entries }
      },
    },
  })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  standIn.url = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`
  return standIn
}

/** EventBridge's exact-value matching: every pattern field must hold one of its listed values. */
function matches(pattern: any, value: any): boolean {
  for (const [key, want] of Object.entries(pattern ?? {})) {
    const got = value?.[key]
    if (Array.isArray(want)) {
      if (!want.includes(got)) return false
    } else if (!matches(want, got)) return false
  }
  return true
}
