// The AWS JSON protocol (1.0 and 1.1): POST / with X-Amz-Target "<Prefix>.<Operation>" and a JSON
// body. This plugin verifies the signature, dispatches to one handler per operation, and shapes
// every error into {"__type", "message"} with the status AWS uses.
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import { randomUUID } from 'node:crypto'
import { AwsError, AwsErrors } from './errors.js'
import { verifySigV4, type Caller } from './sigv4.js'

export type Operation = (input: Record<string, unknown>, ctx: { req: FastifyRequest; reply: FastifyReply; caller: Caller }) => Promise<unknown> | unknown

export interface AwsJsonOptions {
  /** "Kinesis_20131202" */
  targetPrefix: string
  jsonVersion: '1.0' | '1.1'
  operations: Record<string, Operation>
  /** Accepted credentials (access key id -> secret); the signing name the scope must carry. */
  keys: Map<string, string>
  signingName?: string
  /**
   * Operations the stock SDK sends without SigV4 (Cognito's InitiateAuth, GetUser: the caller is a
   * user, not an IAM principal). For these a request without an Authorization header is accepted and
   * the handler's caller has empty fields; a present-but-bad signature still fails.
   */
  unsignedOperations?: string[]
  /** Called for every finished call (metrics). */
  onCall?: (operation: string, statusCode: number, errorType: string | undefined, durationMs: number) => void
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer
  }
}

const ANONYMOUS: Caller = Object.freeze({ accessKeyId: '', region: '', service: '' })

export async function awsJsonProtocol(app: FastifyInstance, opts: AwsJsonOptions): Promise<void> {
  const contentType = `application/x-amz-json-${opts.jsonVersion}`
  const unsigned = new Set(opts.unsignedOperations ?? [])
  // Keep the raw bytes: the signature covers them.
  app.addContentTypeParser(['application/x-amz-json-1.0', 'application/x-amz-json-1.1', 'application/json'], { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer
    done(null, body)
  })

  app.setErrorHandler((err, req, reply) => sendError(reply, contentType, toAwsError(err)))
  app.setNotFoundHandler((req, reply) => sendError(reply, contentType, AwsErrors.UnknownOperationException(`no route ${req.method} ${req.url}`)))

  app.post('/', async (req, reply) => {
    const started = performance.now()
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(`${opts.targetPrefix}.`) ? target.slice(opts.targetPrefix.length + 1) : ''
    reply.header('x-amzn-requestid', randomUUID())
    let status = 200
    let errorType: string | undefined
    try {
      const caller =
        unsigned.has(operation) && req.headers.authorization === undefined
          ? ANONYMOUS
          : verifySigV4(
              { method: req.method, url: req.url, headers: req.headers, body: req.rawBody ?? Buffer.alloc(0) },
              { keys: opts.keys, service: opts.signingName },
            )
      const handler = Object.hasOwn(opts.operations, operation) ? opts.operations[operation] : undefined
      if (!handler) throw AwsErrors.UnknownOperationException(target ? `Unknown operation ${target}` : 'Missing X-Amz-Target header')
      let input: unknown = {}
      if (req.rawBody && req.rawBody.length > 0) {
        try {
          input = JSON.parse(req.rawBody.toString('utf8'))
        } catch {
          throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
        }
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        throw AwsErrors.SerializationException('Start of structure or map found where not expected.')
      const out = await handler(input as Record<string, unknown>, { req, reply, caller })
      reply.header('content-type', contentType)
      // Bytes, not a string: fastify would append "; charset=utf-8" to a JSON content type, and AWS does not.
      return Buffer.from(JSON.stringify(out ?? {}))
    } catch (err) {
      const aws = toAwsError(err)
      status = aws.statusCode
      errorType = aws.type
      if (status >= 500) req.log.warn({ operation, err: aws.message }, 'operation failed')
      return sendError(reply, contentType, aws)
    } finally {
      opts.onCall?.(operation || 'unknown', status, errorType, performance.now() - started)
    }
  })
}

export function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AwsError('SerializationException', 413, 'Request body too large')
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return AwsErrors.SerializationException(`Unsupported content type`)
  if (e?.statusCode && e.statusCode < 500) return AwsErrors.ValidationException(e.message ?? 'invalid request')
  return AwsErrors.InternalFailure(e?.message ?? 'internal failure')
}

export function sendError(reply: FastifyReply, contentType: string, err: AwsError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('content-type', contentType)
    .header('x-amzn-errortype', err.type)
    .send(Buffer.from(JSON.stringify(err.toJSON())))
}
