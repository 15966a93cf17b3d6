// The event envelope EventBridge builds from a PutEvents entry and hands to targets, and the record
// written to the Kinesis events stream around it.

export interface EventEnvelope {
  version: '0'
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: Record<string, unknown>
}

/** One Kinesis record: the envelope plus what the consumer needs and targets must not see. */
export interface StreamRecord {
  v: 1
  bus: string
  /** When PutEvents accepted the event: the start of its delivery delay and of its age. */
  acceptedAtMs: number
  event: EventEnvelope
}

/** EventBridge writes times as ISO-8601 to the second: "2020-11-25T13:15:00Z". */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

export function decodeRecord(data: Uint8Array): StreamRecord | undefined {
  try {
    const rec = JSON.parse(Buffer.from(data).toString('utf8')) as StreamRecord
    if (rec?.v !== 1 || typeof rec.event?.id !== 'string' || typeof rec.acceptedAtMs !== 'number') return undefined
    return rec
  } catch {
    return undefined
  }
}
