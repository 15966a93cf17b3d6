// CloudWatch's wire protocol as @aws-sdk/client-cloudwatch 3.116x sends it: AWS JSON 1.0, POST /
// with X-Amz-Target "GraniteServiceVersion20100801.<Op>", SigV4 with signing name "monitoring",
// x-amzn-query-mode: true (awsQuery-compatible errors). Two things keep it off the kit's
// awsJsonProtocol: PutMetricData bodies of 10 KiB and more arrive gzip-encoded (the SDK's request
// compression, signed over the compressed bytes), and errors need the x-amzn-query-error header.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { randomUUID } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { AwsErrors, toAwsError, verifySigV4, type AwsError, type Operation } from '../kit/index.js'
import { CloudWatchErrors, queryErrorHeader } from './errors.js'

export const TARGET_PREFIX = 'GraniteServiceVersion20100801'
export const SIGNING_NAME = 'monitoring'
const CONTENT_TYPE = 'application/x-amz-json-1.0'
/** A gzip bomb must not take the process down: decompressed bodies above this are refused. */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024

export interface CloudWatchProtocolOptions {
  operations: Record<string, Operation>
  keys: Map<string, string>
  onCall?: (operation: string, statusCode: number, errorType: string | undefined, durationMs: number) => void
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer
  }
}

export async function cloudWatchProtocol(app: FastifyInstance, opts: CloudWatchProtocolOptions): Promise<void> {
  app.addContentTypeParser([CONTENT_TYPE, 'application/x-amz-json-1.1', 'application/json'], { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer
    done(null, body)
  })
  app.setErrorHandler((err, _req, reply) => sendError(reply, toAwsError(err)))
  app.setNotFoundHandler((req, reply) => sendError(reply, AwsErrors.UnknownOperationException(`no route ${req.method} ${req.url}`)))

  app.post('/', async (req, reply) => {
    const started = performance.now()
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(`${TARGET_PREFIX}.`) ? target.slice(TARGET_PREFIX.length + 1) : ''
    reply.header('x-amzn-requestid', randomUUID())
    let status = 200
    let errorType: string | undefined
    try {
      const raw = req.rawBody ?? Buffer.alloc(0)
      const caller = verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw }, { keys: opts.keys, service: SIGNING_NAME })
      const handler = Object.hasOwn(opts.operations, operation) ? opts.operations[operation] : undefined
      if (!handler) throw AwsErrors.UnknownOperationException(target ? `Unknown operation ${target}` : 'Missing X-Amz-Target header')
      const input = parseBody(raw, String(req.headers['content-encoding'] ?? ''))
      const out = await handler(input, { req, reply, caller })
      reply.header('content-type', CONTENT_TYPE)
      return Buffer.from(JSON.stringify(out ?? {}))
    } catch (err) {
      const aws = toAwsError(err)
      status = aws.statusCode
      errorType = aws.type
      if (status >= 500) req.log.warn({ operation, err: aws.message }, 'operation failed')
      return sendError(reply, aws)
    } finally {
      opts.onCall?.(operation || 'unknown', status, errorType, performance.now() - started)
    }
  })
}

function parseBody(raw: Buffer, encoding: string): Record<string, unknown> {
  let bytes = raw
  if (/\bgzip\b/i.test(encoding) && raw.length > 0) {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: MAX_INFLATED_BYTES })
    } catch {
      throw CloudWatchErrors.InvalidParameterValue('The request body is not valid gzip, or inflates beyond 16 MiB.')
    }
  }
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

export function sendError(reply: FastifyReply, err: AwsError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('content-type', CONTENT_TYPE)
    .header('x-amzn-errortype', err.type)
    .header('x-amzn-query-error', queryErrorHeader(err))
    .send(Buffer.from(JSON.stringify(err.toJSON())))
}
