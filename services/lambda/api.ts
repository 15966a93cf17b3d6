// Lambda's REST API (restJson1), the subset the stock @aws-sdk/client-lambda needs for Invoke,
// GetFunction and ListFunctions. Every call is SigV4-verified with the signing name "lambda"; every
// error leaves as x-amzn-ErrorType + {"Type", "Message"|"message"} with the status of Lambda's model.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { randomUUID } from 'node:crypto'
import { accessKeyOf, callerMetrics, verifySigV4 } from '../kit/index.js'
import { LambdaErrors, LambdaError, toLambdaError, functionArn } from './errors.js'
import type { FunctionCatalogue, BuiltinFunction } from './functions.js'
import type { Invoker } from './invoker.js'
import type { LambdaMetrics } from './metrics.js'

export interface LambdaApiOptions {
  keys: Map<string, string>
  catalogue: FunctionCatalogue
  invoker: Invoker
  metrics: LambdaMetrics
  /** Event invocations run after their 202; their failures are only logged and counted. */
  onBackgroundError?: (err: unknown) => void
}

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const
const ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::([^:]+))?$/
const PARTIAL_ARN = /^\d{12}:function:([A-Za-z0-9_-]+)(?::([^:]+))?$/
const NAME = /^([A-Za-z0-9_-]{1,64})(?::([^:]+))?$/

const CONTENT_TYPE = 'application/json'

export async function lambdaApi(app: FastifyInstance, opts: LambdaApiOptions): Promise<void> {
  const { catalogue, invoker, metrics } = opts
  // Calls per caller (lab_caller_*), as every AWS API of the lab counts them: a customer service
  // that invokes functions has Lambda among its dependencies. A bare fastify instance has no registry.
  const registered = app.service as FastifyInstance['service'] | undefined
  const callers = registered ? callerMetrics(registered.metrics, opts.keys.keys()) : undefined
  // Payloads are raw bytes of any content type; the signature covers them as received.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  app.setErrorHandler((err, req, reply) => send(req, reply, 'unknown', toLambdaError(err)))
  // A URL fastify cannot route (bad escapes, overlong names) is answered as Lambda answers, not in fastify's shape.
  if (registered)
    registered.answer = (req, reply, err) =>
      send(
        req,
        reply,
        'unknown',
        new LambdaError(err.type, err.statusCode, err.message, { kind: err.statusCode >= 500 ? 'Service' : 'User', messageKey: 'message' }),
      )
  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    send(
      req,
      reply,
      'unknown',
      new LambdaError('UnknownOperationException', 404, `Unknown operation ${req.method} ${req.url.split('?')[0]}`, { kind: 'User', messageKey: 'message' }),
    )
  // On a createService() app the kit's not-found handler (one per app) calls this one.
  if (registered) registered.notFound = notFound
  else app.setNotFoundHandler(notFound)

  const send = (req: FastifyRequest, reply: FastifyReply, operation: string, err: LambdaError) => {
    metrics.request(operation, err.statusCode, err.type)
    if (err.statusCode >= 500) req.log.warn({ operation, err: err.message }, 'request failed')
    return reply
      .code(err.statusCode)
      .header('content-type', CONTENT_TYPE)
      .header('x-amzn-errortype', err.type)
      .send(Buffer.from(JSON.stringify(err.body())))
  }

  /** Verifies the caller, runs the operation, shapes any error. */
  const route =
    (operation: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => async (req: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-amzn-requestid', randomUUID())
      const started = performance.now()
      let accessKeyId: string | undefined
      try {
        accessKeyId = verifySigV4(
          { method: req.method, url: req.url, headers: req.headers, body: (req.body as Buffer | undefined) ?? Buffer.alloc(0) },
          { keys: opts.keys, service: 'lambda' },
        ).accessKeyId
        const out = await handler(req, reply)
        metrics.request(operation, reply.statusCode, undefined)
        return out
      } catch (err) {
        return send(req, reply, operation, toLambdaError(err))
      } finally {
        callers?.record({
          accessKeyId: accessKeyId ?? accessKeyOf(req.headers.authorization),
          operation,
          protocol: 'restJson1',
          statusCode: reply.statusCode,
          seconds: (performance.now() - started) / 1000,
        })
      }
    }

  const resolve = (raw: string): BuiltinFunction => {
    const m = ARN.exec(raw) ?? PARTIAL_ARN.exec(raw) ?? NAME.exec(raw)
    const name = m?.[1] ?? raw
    const qualifier = m?.[2]
    const fn = m ? catalogue.get(name) : undefined
    // Built-in functions have one version, $LATEST.
    if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) throw LambdaErrors.ResourceNotFoundException(functionArn(name, qualifier))
    return fn
  }

  app.post(
    '/2015-03-31/functions/:FunctionName/invocations',
    route('Invoke', async (req, reply) => {
      const { FunctionName } = req.params as { FunctionName: string }
      const qualifier = (req.query as { Qualifier?: string }).Qualifier
      const fn = resolve(qualifier ? `${FunctionName}:${qualifier}` : FunctionName)
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
      if (!(INVOCATION_TYPES as readonly string[]).includes(type)) {
        throw new LambdaError(
          'ValidationException',
          400,
          `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
          { kind: 'User', messageKey: 'message' },
        )
      }
      const logType = String(req.headers['x-amz-log-type'] ?? 'None')
      if (logType !== 'None' && logType !== 'Tail') {
        throw new LambdaError(
          'ValidationException',
          400,
          `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]`,
          { kind: 'User', messageKey: 'message' },
        )
      }
      const payload = parsePayload(req.body as Buffer | undefined)
      if (type === 'DryRun') return reply.code(204).send()
      const run = invoker.admit(fn, payload)
      if (type === 'Event') {
        run().catch((err) => opts.onBackgroundError?.(err))
        return reply.code(202).send()
      }
      const result = await run()
      reply.code(200).header('content-type', CONTENT_TYPE).header('x-amz-executed-version', '$LATEST')
      if (result.functionError) reply.header('x-amz-function-error', result.functionError)
      if (logType === 'Tail') reply.header('x-amz-log-result', result.logTail)
      return reply.send(result.payload)
    }),
  )

  app.get(
    '/2015-03-31/functions/:FunctionName',
    route('GetFunction', async (req, reply) => {
      const { FunctionName } = req.params as { FunctionName: string }
      const qualifier = (req.query as { Qualifier?: string }).Qualifier
      const fn = resolve(qualifier ? `${FunctionName}:${qualifier}` : FunctionName)
      return json(reply, { Configuration: configuration(fn) })
    }),
  )

  const list = route('ListFunctions', async (_req, reply) => json(reply, { Functions: catalogue.list().map(configuration) }))
  app.get('/2015-03-31/functions', list)
  app.get('/2015-03-31/functions/', list)
}

/** An empty payload is the event {}; anything else must be JSON, as Lambda requires. */
function parsePayload(body: Buffer | undefined): unknown {
  if (!body || body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw LambdaErrors.InvalidRequestContentException(`Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`)
  }
}

function configuration(fn: BuiltinFunction) {
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(fn.name),
    Runtime: 'nodejs20.x',
    Role: 'arn:aws:iam::000000000000:role/outage-lab-builtin',
    Handler: `builtin.${fn.name}`,
    CodeSize: 0,
    Description: fn.description,
    Timeout: fn.timeoutSeconds,
    MemorySize: fn.memorySizeMb,
    LastModified: '2020-11-25T00:00:00.000+0000',
    Version: '$LATEST',
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
  }
}

const json = (reply: FastifyReply, body: unknown) =>
  reply
    .code(200)
    .header('content-type', CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(body)))
