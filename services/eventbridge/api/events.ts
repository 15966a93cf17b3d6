// PutEvents: validate each entry, give it an id, write the batch to the Kinesis events stream.
//
// How a sick Kinesis shows (the 2020 outage's "PutEvents API errors"): AWSEvents documents two
// failure paths and outage-lab uses both, as the service would. Records the stream rejects one by one
// become per-entry failures (ErrorCode InternalFailure, or ThrottlingException for a throttled shard)
// in a 200 answer with FailedEntryCount; a PutRecords call that fails as a whole (a 5xx, a timeout,
// a refused connection) fails the call with 500 InternalException, which the SDK retries and then
// throws. A broken front-end fleet answers PutRecords with 500, so an outage looks like the latter.
import { randomUUID } from 'node:crypto'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import type { Operation } from '../../kit/index.js'
import { EventsErrors, ACCOUNT } from '../errors.js'
import { isoSeconds, type EventEnvelope, type StreamRecord } from '../envelope.js'
import type { EventsContext } from './context.js'
import * as v from './validate.js'

/** AWSEvents' limit on the summed size of a request's entries. */
const MAX_REQUEST_BYTES = 256 * 1024

interface EntryResult {
  EventId?: string
  ErrorCode?: string
  ErrorMessage?: string
}

export function eventOperations(ctx: EventsContext): Record<string, Operation> {
  const { metrics } = ctx
  return {
    async PutEvents(input) {
      let results: EntryResult[]
      try {
        results = await putEvents(ctx, input)
      } catch (err) {
        metrics.putEvents.inc({ outcome: 'error' })
        throw err
      }
      const failed = results.filter((r) => r.ErrorCode).length
      metrics.putEvents.inc({ outcome: failed === 0 ? 'ok' : 'partial' })
      return { FailedEntryCount: failed, Entries: results }
    },
  }
}

async function putEvents(ctx: EventsContext, input: any): Promise<EntryResult[]> {
  const entries = v.list(input.Entries, 'entries', 1, 10)
  if (input.EndpointId !== undefined && input.EndpointId !== null)
    throw EventsErrors.ValidationException('EndpointId (global endpoints) is not supported by outage-lab.')
  if (entries.reduce((sum: number, e) => sum + entrySize(e), 0) > MAX_REQUEST_BYTES)
    throw EventsErrors.ValidationException('Total size of the entries in the request is over the limit.')
  const now = ctx.now()
  const results: EntryResult[] = []
  const accepted: { index: number; record: StreamRecord }[] = []
  entries.forEach((raw, index) => {
    const checked = checkEntry(ctx, raw, now)
    if ('version' in checked) {
      accepted.push({ index, record: { v: 1, bus: 'default', acceptedAtMs: now, event: checked } })
    } else {
      results[index] = checked
      ctx.metrics.entriesFailed.inc({ error_code: checked.ErrorCode ?? 'InvalidArgument' })
    }
  })
  if (accepted.length === 0) return results

  let out
  try {
    out = await ctx.kinesis.send(
      new PutRecordsCommand({
        StreamName: ctx.stream,
        Records: accepted.map(({ record }) => ({ Data: Buffer.from(JSON.stringify(record)), PartitionKey: record.event.id })),
      }),
    )
  } catch (err) {
    ctx.metrics.entriesFailed.inc({ error_code: 'InternalException' }, accepted.length)
    ctx.log.warn({ err: (err as Error).name ?? (err as Error).message, entries: accepted.length }, 'PutEvents: the events stream failed')
    throw EventsErrors.InternalException()
  }
  const now2 = ctx.now()
  accepted.forEach(({ index, record }, i) => {
    const r = out.Records?.[i]
    if (r && !r.ErrorCode && r.SequenceNumber) {
      results[index] = { EventId: record.event.id }
      ctx.unprocessed.accepted(record.event.id, now2)
      ctx.metrics.entriesAccepted.inc()
    } else {
      const code = r?.ErrorCode === 'ProvisionedThroughputExceededException' ? 'ThrottlingException' : 'InternalFailure'
      results[index] = { ErrorCode: code, ErrorMessage: code === 'ThrottlingException' ? 'Request rate exceeded, retry later.' : 'Internal Service Failure' }
      ctx.metrics.entriesFailed.inc({ error_code: code })
    }
  })
  return results
}

/** AWS's entry-size rule: Time counts 14 bytes, strings their UTF-8 bytes. */
function entrySize(e: any): number {
  if (typeof e !== 'object' || e === null) return 0
  let size = e.Time !== undefined && e.Time !== null ? 14 : 0
  for (const k of ['Source', 'DetailType', 'Detail']) if (typeof e[k] === 'string') size += Buffer.byteLength(e[k])
  if (Array.isArray(e.Resources)) for (const r of e.Resources) if (typeof r === 'string') size += Buffer.byteLength(r)
  return size
}

function invalid(param: string, reason: string): EntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${param} is not valid. Reason: ${reason}` }
}

function checkEntry(ctx: EventsContext, raw: unknown, nowMs: number): EntryResult | EventEnvelope {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('Entry', 'an entry must be a structure.')
  const e = raw as Record<string, any>
  try {
    v.eventBus(e.EventBusName, ctx.region)
  } catch (err) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: (err as Error).message }
  }
  if (typeof e.Source !== 'string' || e.Source.length === 0) return invalid('Source', 'Source is a required argument.')
  if (e.Source.length > 256) return invalid('Source', 'Source is longer than 256 characters.')
  // The aws.* sources belong to AWS services; customers may not forge them.
  if (e.Source.startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' }
  if (typeof e.DetailType !== 'string' || e.DetailType.length === 0) return invalid('DetailType', 'DetailType is a required argument.')
  if (e.DetailType.length > 128) return invalid('DetailType', 'DetailType is longer than 128 characters.')
  if (typeof e.Detail !== 'string' || e.Detail.length === 0) return invalid('Detail', 'Detail is a required argument.')
  let detail: unknown
  try {
    detail = JSON.parse(e.Detail)
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }
  let resources: string[] = []
  if (e.Resources !== undefined && e.Resources !== null) {
    if (!Array.isArray(e.Resources) || !e.Resources.every((r: unknown) => typeof r === 'string'))
      return invalid('Resources', 'Resources must be a list of strings.')
    resources = e.Resources
  }
  let timeMs = nowMs
  if (e.Time !== undefined && e.Time !== null) {
    // The SDK sends a Date as epoch seconds; hand-made calls may send ISO-8601.
    timeMs = typeof e.Time === 'number' ? e.Time * 1000 : typeof e.Time === 'string' ? Date.parse(e.Time) : NaN
    if (!Number.isFinite(timeMs)) return invalid('Time', 'Time must be a timestamp.')
  }
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': e.DetailType,
    source: e.Source,
    account: ACCOUNT,
    time: isoSeconds(timeMs),
    region: ctx.region,
    resources,
    detail: detail as Record<string, unknown>,
  }
}
