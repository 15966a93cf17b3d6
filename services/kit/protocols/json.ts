// AWS JSON 1.0 and 1.1: POST / with X-Amz-Target "<Prefix>.<Operation>" and a JSON body, answered
// with JSON; errors are {"__type", "message"} with x-amzn-errortype, the status AWS uses, and (for a
// query-compatible service such as CloudWatch) x-amzn-query-error "<QueryCode>;Sender|Receiver".
// This is the shape handlers speak, so nothing is converted.
import type { FastifyReply } from 'fastify'
import { AwsErrors, type AwsError } from '../errors.js'
import type { ApiDescription, WireReply } from './types.js'

export const JSON_MEDIA_TYPES = ['application/x-amz-json-1.0', 'application/x-amz-json-1.1', 'application/json']

export function jsonContentType(api: Pick<ApiDescription, 'jsonVersion'>): string {
  return `application/x-amz-json-${api.jsonVersion}`
}

/** The body as the handler's input: an empty body is {}; anything but a JSON object is refused. */
export function decodeJson(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) return {}
  let input: unknown
  try {
    input = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
  return input as Record<string, unknown>
}

export function jsonReply(output: unknown, api: Pick<ApiDescription, 'jsonVersion'>): WireReply {
  // Bytes, not a string: fastify would append "; charset=utf-8" to a JSON content type, and AWS does not.
  return { statusCode: 200, headers: { 'content-type': jsonContentType(api) }, body: Buffer.from(JSON.stringify(output ?? {})) }
}

export function jsonError(err: AwsError, api: Pick<ApiDescription, 'jsonVersion' | 'queryCompatible'>): WireReply {
  const headers: Record<string, string> = { 'content-type': jsonContentType(api), 'x-amzn-errortype': err.type }
  if (api.queryCompatible) headers['x-amzn-query-error'] = queryErrorHeader(err)
  return { statusCode: err.statusCode, headers, body: Buffer.from(JSON.stringify(err.toJSON())) }
}

/** x-amzn-query-error: the error's awsQuery code and fault side, "InvalidParameterValue;Sender". */
export function queryErrorHeader(err: AwsError): string {
  return `${err.queryCode ?? err.type};${err.statusCode >= 500 ? 'Receiver' : 'Sender'}`
}

/**
 * An AWS JSON error from a route that is not an AWS API (the Kinesis endpoint's own failures, the
 * status page): {"__type", "message"} under the given content type.
 */
export function sendError(reply: FastifyReply, contentType: string, err: AwsError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('content-type', contentType)
    .header('x-amzn-errortype', err.type)
    .send(Buffer.from(JSON.stringify(err.toJSON())))
}
