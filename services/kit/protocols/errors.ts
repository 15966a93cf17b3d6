// The one place an AwsError becomes an answer: each wire protocol's own error shape (json.ts,
// cbor.ts, query.ts), chosen by the protocol the request spoke. The AWS API plugin, the inbound
// fault hook and the error handlers all answer through here.
import type { FastifyReply } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { AwsError } from '../errors.js'
import { wireProtocolOf, type RequestHead, type WireProtocol } from './detect.js'
import { jsonError } from './json.js'
import { awsCborError, rpcv2Error } from './cbor.js'
import { queryError } from './query.js'
import type { ApiDescription, WireReply } from './types.js'

export function errorReply(protocol: WireProtocol, err: AwsError, api: ApiDescription, requestId: string): WireReply {
  switch (protocol) {
    case 'awsJson':
      return jsonError(err, api)
    case 'awsCbor':
      return awsCborError(err, api)
    case 'rpcv2Cbor':
      return rpcv2Error(err, api)
    case 'awsQuery':
      return queryError(err, api, requestId)
  }
}

/** Sends a protocol-shaped answer with its request id (x-amzn-requestid, as every AWS API answers). */
export function sendReply(reply: FastifyReply, answer: WireReply, requestId: string): FastifyReply {
  reply.code(answer.statusCode).header('x-amzn-requestid', requestId)
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value)
  return answer.body === undefined ? reply.send() : reply.send(answer.body)
}

/** Answers a request with an error in the protocol it spoke (fault hooks, error handlers, proxies). */
export function answerError(req: RequestHead, reply: FastifyReply, err: AwsError, api: ApiDescription): FastifyReply {
  const requestId = randomUUID()
  return sendReply(reply, errorReply(wireProtocolOf(req, api.speaks), err, api, requestId), requestId)
}
