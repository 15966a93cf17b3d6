// What every answer to bad input must be: not a 5xx, and an error in the shape its caller's client
// parses: AWS JSON {"__type", "message"} with x-amzn-errortype; awsCbor the same map in CBOR;
// rpcv2Cbor a CBOR map whose __type is "<namespace>#<Shape>", with smithy-protocol; awsQuery an XML
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>; Lambda's REST
// errors x-amzn-errortype with {"Type", "message"|"Message"}; the lab's own routes {"__type", "message"}.
// The protocol an AWS API answers in is the one the request speaks, by the kit's documented rule
// (services/kit/protocols/detect.ts).
import { decode } from 'cbor-x'
import { wireProtocolOf } from '../../../services/kit/index.js'
import type { FuzzCase } from './cases.js'

export interface Answer {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: Buffer
}

/** Why the answer is wrong, or undefined when it is right. */
export function judge(c: FuzzCase, a: Answer): string | undefined {
  if (a.statusCode >= 500) return `answered ${a.statusCode}: ${preview(a.body)}`
  if (a.statusCode < 400) return undefined
  const header = (name: string) => {
    const v = a.headers[name]
    return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v)
  }
  const contentType = (header('content-type') ?? '').split(';')[0].trim()
  const e = c.expect
  if (e.kind === 'html') return `an error (${a.statusCode}) for a page: ${preview(a.body)}`
  if (e.kind === 'labJson' || e.kind === 'restJson1') {
    const body = json(a.body)
    if (!body) return `${a.statusCode} with a body that is not a JSON object: ${preview(a.body)}`
    // A URL fastify cannot route is refused before any route: a service with a REST API (Lambda) answers it in that API's shape.
    const rest = header('x-amzn-errortype') !== undefined && (body.Type === 'User' || body.Type === 'Service') && typeof body.message === 'string'
    if (e.kind === 'labJson')
      return (typeof body.__type === 'string' && typeof body.message === 'string') || rest
        ? undefined
        : `${a.statusCode} without __type and message: ${preview(a.body)}`
    if (!header('x-amzn-errortype')) return `${a.statusCode} without x-amzn-errortype`
    if (body.Type !== 'User' && body.Type !== 'Service') return `${a.statusCode} without Type User|Service: ${preview(a.body)}`
    return typeof body.message === 'string' || typeof body.Message === 'string' ? undefined : `${a.statusCode} without a message: ${preview(a.body)}`
  }
  const protocol = wireProtocolOf(c.request, e.api.speaks)
  switch (protocol) {
    case 'awsJson': {
      if (!contentType.startsWith('application/x-amz-json-1.')) return `awsJson error with content-type ${contentType}`
      const body = json(a.body)
      if (!body || typeof body.__type !== 'string' || typeof body.message !== 'string')
        return `awsJson ${a.statusCode} not {__type, message}: ${preview(a.body)}`
      return header('x-amzn-errortype') === body.__type ? undefined : `x-amzn-errortype ${header('x-amzn-errortype')} is not __type ${body.__type}`
    }
    case 'awsCbor': {
      if (contentType !== 'application/x-amz-cbor-1.1') return `awsCbor error with content-type ${contentType}`
      const body = cbor(a.body)
      return body && typeof body.__type === 'string' && typeof body.message === 'string'
        ? undefined
        : `awsCbor ${a.statusCode} not a CBOR {__type, message}: ${preview(a.body)}`
    }
    case 'rpcv2Cbor': {
      if (header('smithy-protocol') !== 'rpc-v2-cbor') return 'rpcv2Cbor error without smithy-protocol: rpc-v2-cbor'
      const body = cbor(a.body)
      return body && typeof body.__type === 'string' && body.__type.startsWith(`${e.api.namespace}#`) && typeof body.message === 'string'
        ? undefined
        : `rpcv2Cbor ${a.statusCode} not a CBOR {__type: "${e.api.namespace}#...", message}: ${preview(a.body)}`
    }
    case 'awsQuery': {
      if (contentType !== 'text/xml') return `awsQuery error with content-type ${contentType}`
      const text = a.body.toString('utf8')
      return /^<\?xml[^>]*>\s*<ErrorResponse[^>]*><Error><Type>(Sender|Receiver)<\/Type><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><RequestId>[^<]+<\/RequestId><\/ErrorResponse>\s*$/.test(
        text,
      )
        ? undefined
        : `awsQuery ${a.statusCode} not an ErrorResponse: ${preview(a.body)}`
    }
  }
}

function json(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString('utf8'))
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined
  } catch {
    return undefined
  }
}

function cbor(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = decode(body)
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined
  } catch {
    return undefined
  }
}

export function preview(body: Buffer): string {
  const s = body.toString('utf8')
  return s.length > 300 ? `${s.slice(0, 300)}...` : s
}
