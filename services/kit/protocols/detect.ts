// The one place that tells which wire protocol a request speaks, from what the SDKs put on it:
//   rpcv2Cbor  POST /service/<Service>/operation/<Op> with `smithy-protocol: rpc-v2-cbor` (Smithy's
//              rule for claiming a request: the header and the path, nothing else)
//   awsCbor    POST / with `Content-Type: application/x-amz-cbor-1.1` (the Java SDK and the KCL)
//   awsQuery   POST / with `Content-Type: application/x-www-form-urlencoded` (Action=<Op> in the body)
//   awsJson    everything else: POST / with X-Amz-Target and an application/x-amz-json-1.x body
// A protocol the service does not speak is never picked: such a request is answered as AWS JSON.

export type WireProtocol = 'awsJson' | 'awsCbor' | 'awsQuery' | 'rpcv2Cbor'

export interface RequestHead {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
}

const RPCV2_PATH = /^\/service\/([^/]+)\/operation\/([^/]+)$/

export function wireProtocolOf(req: RequestHead, speaks: ReadonlySet<WireProtocol>): WireProtocol {
  if (speaks.has('rpcv2Cbor') && rpcv2Target(req) !== undefined) return 'rpcv2Cbor'
  const type = mediaType(req.headers['content-type'])
  if (type === 'application/x-amz-cbor-1.1' && speaks.has('awsCbor')) return 'awsCbor'
  if (type === 'application/x-www-form-urlencoded' && speaks.has('awsQuery')) return 'awsQuery'
  return 'awsJson'
}

/** The service and operation segments of an rpcv2Cbor request, if it is one (header and path). */
export function rpcv2Target(req: RequestHead): { service: string; operation: string } | undefined {
  if (one(req.headers['smithy-protocol']) !== 'rpc-v2-cbor') return undefined
  const m = RPCV2_PATH.exec(pathOf(req.url))
  return m ? { service: decode(m[1]), operation: decode(m[2]) } : undefined
}

/** "application/x-amz-json-1.1; charset=utf-8" -> "application/x-amz-json-1.1". */
export function mediaType(value: string | string[] | undefined): string {
  return (one(value) ?? '').split(';')[0].trim().toLowerCase()
}

export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q >= 0 ? url.slice(0, q) : url
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
