// Input checks with the messages AWSEvents uses ("1 validation error detected: Value ... at 'name'
// failed to satisfy constraint: ..."), so a customer sees the same ValidationException as on AWS.
import { EventsErrors, ACCOUNT, DEFAULT_BUS } from '../errors.js'

const NAME = /^[.\-_A-Za-z0-9]+$/

function violation(value: unknown, at: string, constraint: string): Error {
  const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`
  return EventsErrors.ValidationException(`1 validation error detected: Value ${shown} at '${at}' failed to satisfy constraint: Member must ${constraint}`)
}

export function requiredString(value: unknown, at: string, max: number): string {
  if (value === undefined || value === null) throw violation(value, at, 'not be null')
  if (typeof value !== 'string') throw violation(value, at, 'be a string')
  if (value.length < 1) throw violation(value, at, 'have length greater than or equal to 1')
  if (value.length > max) throw violation(value, at, `have length less than or equal to ${max}`)
  return value
}

export function optionalString(value: unknown, at: string, max: number): string | undefined {
  return value === undefined || value === null ? undefined : requiredString(value, at, max)
}

export function name(value: unknown, at: string): string {
  const s = requiredString(value, at, 64)
  if (!NAME.test(s)) throw violation(s, at, 'satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+')
  return s
}

export function integer(value: unknown, at: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw violation(value, at, 'be an integer')
  if (value < min) throw violation(value, at, `have value greater than or equal to ${min}`)
  if (value > max) throw violation(value, at, `have value less than or equal to ${max}`)
  return value
}

export function list(value: unknown, at: string, min: number, max: number): unknown[] {
  if (value === undefined || value === null) throw violation(value, at, 'not be null')
  if (!Array.isArray(value)) throw violation(value, at, 'be a list')
  if (value.length < min) throw violation(value, at, `have length greater than or equal to ${min}`)
  if (value.length > max) throw violation(value, at, `have length less than or equal to ${max}`)
  return value
}

/** Only the default bus exists; it may be named or given by ARN. */
export function eventBus(value: unknown, region: string): string {
  if (value === undefined || value === null || value === DEFAULT_BUS || value === `arn:aws:events:${region}:${ACCOUNT}:event-bus/${DEFAULT_BUS}`)
    return DEFAULT_BUS
  const s = requiredString(value, 'eventBusName', 1600)
  throw EventsErrors.ResourceNotFoundException(`Event bus ${s} does not exist.`)
}

/** NextToken of the List* calls: the last name of the previous page, opaque to callers. */
export function pageAfter(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined
  if (typeof token !== 'string') throw EventsErrors.ValidationException('The NextToken provided is invalid.')
  const raw = Buffer.from(token, 'base64url').toString('utf8')
  if (!raw.startsWith('after:')) throw EventsErrors.ValidationException('The NextToken provided is invalid.')
  return raw.slice('after:'.length)
}

export function tokenAfter(lastName: string): string {
  return Buffer.from(`after:${lastName}`).toString('base64url')
}
