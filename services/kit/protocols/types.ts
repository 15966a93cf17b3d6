// What the protocol modules share: the description of one service's API (registered once by the
// service through awsApi) and a reply as bytes and headers, before fastify sends it.
import type { WireProtocol } from './detect.js'
import type { OperationShapes } from './shape.js'

export interface ApiDescription {
  /** "Kinesis_20131202": X-Amz-Target's prefix, and the service name of rpcv2Cbor paths. */
  targetPrefix: string
  jsonVersion: '1.0' | '1.1'
  /** The wire protocols the service answers (awsJson always). */
  speaks: ReadonlySet<WireProtocol>
  /** Smithy namespace of the service's shapes ("com.amazonaws.cloudwatch"): rpcv2Cbor errors' __type. */
  namespace: string
  /** awsQuery: the API version (Version=2010-08-01) and the XML namespace of answers. */
  apiVersion?: string
  xmlNamespace?: string
  /** The awsQueryCompatible trait: JSON and CBOR errors carry x-amzn-query-error "<Code>;Sender". */
  queryCompatible: boolean
  shapes: Readonly<Record<string, OperationShapes>>
  /** The operations it serves, the signing name its scope must carry, and those it takes unsigned: for tools that walk every API (the fuzz test). */
  operations: readonly string[]
  signingName?: string
  unsignedOperations: readonly string[]
}

/** One answer, protocol-shaped. */
export interface WireReply {
  statusCode: number
  headers: Record<string, string>
  /** Absent: no body (rpcv2Cbor's operations without output). */
  body?: Buffer
}
