// awsQuery: POST / with an application/x-www-form-urlencoded body, `Action=<Op>&Version=<date>` and
// the input flattened into keys (botocore's QuerySerializer, the JS SDK's QueryShapeSerializer):
// structures by dots (`StatisticValues.Sum`), lists as `.member.N` from 1 (an empty list as `Name=`),
// maps as `.entry.N.key` / `.entry.N.value`, booleans "true"/"false", timestamps ISO 8601, blobs
// base64. Answers are XML: <OpResponse xmlns=...><OpResult>output</OpResult><ResponseMetadata>
// <RequestId/></ResponseMetadata></OpResponse>, lists as <member> elements; errors are
// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>.
// The shapes turn strings back into the JSON values handlers read; a string that is not a valid
// number (or boolean, or time) stays a string, so the handler's own check reports it in the
// service's words, as it would for the same mistake in JSON.
import { XMLBuilder } from 'fast-xml-parser'
import { AwsErrors, QUERY_FORMS, type AwsError } from '../errors.js'
import type { Shape, StructureShape } from './shape.js'
import type { ApiDescription, WireReply } from './types.js'

export const QUERY_CONTENT_TYPE = 'application/x-www-form-urlencoded'
const XML_CONTENT_TYPE = 'text/xml'

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true })

/** The form's fields; Action and Version are read by queryOperation. */
export function parseForm(bytes: Buffer): URLSearchParams {
  return new URLSearchParams(bytes.toString('utf8'))
}

/** The operation a form names. A Version other than the service's is an operation it does not have. */
export function queryOperation(form: URLSearchParams, api: Pick<ApiDescription, 'apiVersion'>): string {
  const action = form.get('Action')
  if (!action) throw AwsErrors.MissingAction('The request must contain the parameter Action.')
  const version = form.get('Version')
  if (version !== null && version !== api.apiVersion) throw AwsErrors.UnknownOperationException(`Could not find operation ${action} for version ${version}`)
  return action
}

type Node = string | { [segment: string]: Node }

/** The form as the operation's input in JSON shape. */
export function queryInput(form: URLSearchParams, shape: StructureShape | undefined): Record<string, unknown> {
  const root: { [segment: string]: Node } = Object.create(null)
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue
    place(root, key, value)
  }
  return fromNode(root, shape, '') as Record<string, unknown>
}

/** No AWS shape nests this deep (a list of structures of lists is 5 segments); deeper keys are refused, not recursed. */
const MAX_SEGMENTS = 32

function place(root: { [segment: string]: Node }, key: string, value: string): void {
  const segments = key.split('.')
  if (segments.length > MAX_SEGMENTS) throw AwsErrors.InvalidQueryParameter(`The parameter ${key.slice(0, 64)}... nests deeper than ${MAX_SEGMENTS} levels.`)
  let node = root
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]
    if (segment === '' || segment === '__proto__') throw AwsErrors.InvalidQueryParameter(`The parameter ${key} is not a valid query parameter name.`)
    const last = i === segments.length - 1
    const existing = node[segment]
    if (last) {
      if (existing === undefined || existing === '') node[segment] = value
      else if (typeof existing !== 'string' || value !== '')
        throw AwsErrors.InvalidQueryParameter(`The parameter ${key} is given more than once, or both as a value and as a structure.`)
      return
    }
    if (existing === undefined || existing === '') node = node[segment] = Object.create(null)
    else if (typeof existing === 'string')
      throw AwsErrors.InvalidQueryParameter(`The parameter ${segments.slice(0, i + 1).join('.')} is both a value and a structure.`)
    else node = existing
  }
}

function fromNode(node: Node, shape: Shape | undefined, path: string): unknown {
  if (!shape) {
    // Not modelled: lists still read as lists, everything else as nested strings.
    if (typeof node === 'string') return node
    const keys = Object.keys(node)
    if (keys.length === 1 && keys[0] === 'member') return indexed(node, 'member', path).map(([i, child]) => fromNode(child, undefined, `${path}.member.${i}`))
    const out: Record<string, unknown> = {}
    for (const k of keys) out[k] = fromNode(node[k], undefined, join(path, k))
    return out
  }
  switch (shape.type) {
    case 'structure': {
      if (typeof node === 'string') return node === '' ? {} : node
      const out: Record<string, unknown> = {}
      for (const [name, child] of Object.entries(node)) {
        const member = Object.hasOwn(shape.members, name) ? shape.members[name] : undefined
        out[name] = fromNode(child, member, join(path, name))
      }
      return out
    }
    case 'list':
      if (node === '') return []
      if (typeof node === 'string') return node
      return indexed(node, 'member', path).map(([i, child]) => fromNode(child, shape.member, `${path}.member.${i}`))
    case 'map': {
      if (node === '') return {}
      if (typeof node === 'string') return node
      const out: Record<string, unknown> = {}
      for (const [i, entry] of indexed(node, 'entry', path)) {
        const at = `${path}.entry.${i}`
        if (typeof entry === 'string' || typeof entry.key !== 'string') throw AwsErrors.InvalidQueryParameter(`The parameter ${at}.key is required.`)
        if (entry.key === '__proto__') throw AwsErrors.InvalidQueryParameter(`The parameter ${at}.key is not a valid map key.`)
        out[entry.key] = entry.value === undefined ? null : fromNode(entry.value, shape.value, `${at}.value`)
      }
      return out
    }
    default:
      if (typeof node !== 'string') throw AwsErrors.InvalidQueryParameter(`The parameter ${path} takes a value, not a structure.`)
      return scalar(node, shape)
  }
}

/** The `.member.N` / `.entry.N` children in index order (1-based; gaps close up, as they do on AWS). */
function indexed(node: { [segment: string]: Node }, word: 'member' | 'entry', path: string): Array<[number, Node]> {
  const keys = Object.keys(node)
  const holder = node[word]
  if (keys.length !== 1 || holder === undefined || typeof holder === 'string')
    throw AwsErrors.InvalidQueryParameter(`The parameter ${path} is a list: its items are ${path}.${word}.1, ${path}.${word}.2, ...`)
  const items: Array<[number, Node]> = []
  for (const [index, child] of Object.entries(holder)) {
    if (!/^[1-9]\d{0,8}$/.test(index)) throw AwsErrors.InvalidQueryParameter(`The parameter ${path}.${word}.${index} has no valid index (1, 2, ...).`)
    items.push([Number(index), child])
  }
  return items.sort((a, b) => a[0] - b[0])
}

function scalar(value: string, shape: Shape): unknown {
  switch (shape.type) {
    case 'integer':
      return /^[+-]?\d{1,15}$/.test(value) ? Number(value) : value
    case 'double': {
      const n = value.trim() === '' ? NaN : Number(value)
      return Number.isFinite(n) ? n : value
    }
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value
    case 'timestamp': {
      const ms = Date.parse(value)
      return Number.isFinite(ms) ? ms / 1000 : value
    }
    default:
      return value
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name
}

// --- answers -------------------------------------------------------------------------------------

/** <OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>; no Result for an operation without output. */
export function queryReply(
  operation: string,
  output: unknown,
  shapes: { output?: StructureShape } | undefined,
  api: Pick<ApiDescription, 'xmlNamespace'>,
  requestId: string,
): WireReply {
  const response: Record<string, unknown> = { '@_xmlns': api.xmlNamespace }
  const hasOutput = shapes ? shapes.output !== undefined : typeof output === 'object' && output !== null && Object.keys(output).length > 0
  if (hasOutput) response[`${operation}Result`] = toXml(output ?? {}, shapes?.output) ?? ''
  response.ResponseMetadata = { RequestId: requestId }
  return xml({ [`${operation}Response`]: response }, 200)
}

export function queryError(err: AwsError, api: Pick<ApiDescription, 'xmlNamespace'>, requestId: string): WireReply {
  const form = err.queryCode === undefined && Object.hasOwn(QUERY_FORMS, err.type) ? QUERY_FORMS[err.type] : undefined
  const statusCode = form?.statusCode ?? err.statusCode
  return xml(
    {
      ErrorResponse: {
        '@_xmlns': api.xmlNamespace,
        Error: { Type: statusCode >= 500 ? 'Receiver' : 'Sender', Code: err.queryCode ?? form?.code ?? err.type, Message: err.message },
        RequestId: requestId,
      },
    },
    statusCode,
  )
}

function xml(document: Record<string, unknown>, statusCode: number): WireReply {
  return { statusCode, headers: { 'content-type': XML_CONTENT_TYPE }, body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document)}`) }
}

function toXml(value: unknown, shape: Shape | undefined): unknown {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    const member = shape?.type === 'list' ? shape.member : undefined
    // An empty list is an empty element (<Datapoints/>), which every query parser reads as [].
    return value.length === 0 ? '' : { member: value.map((v) => toXml(v, member) ?? '') }
  }
  if (typeof value === 'object') {
    if (shape?.type === 'map') {
      const entries = Object.entries(value as Record<string, unknown>)
      return entries.length === 0 ? '' : { entry: entries.map(([key, v]) => ({ key, value: toXml(v, shape.value) ?? '' })) }
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const converted = toXml(v, shape?.type === 'structure' && Object.hasOwn(shape.members, k) ? shape.members[k] : undefined)
      if (converted !== undefined) out[k] = converted
    }
    return out
  }
  if (shape?.type === 'timestamp' && typeof value === 'number') return new Date(Math.round(value * 1000)).toISOString()
  return String(value)
}
