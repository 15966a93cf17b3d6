// awsApi: a service's AWS API, declared once (operations, and the shapes its protocols need) and
// served in every wire protocol the service speaks (detect.ts). Every call goes the same way,
// whatever the protocol:
//   1. the operation, where the request names it before its body (X-Amz-Target, the rpcv2 path);
//   2. SigV4 over the raw body, as received (compressed bodies included);
//   3. the body, inflated if gzip, decoded into the handler's JSON shape (awsQuery first reads its
//      Action, then looks up the operation);
//   4. one handler per operation; its output encoded in the request's protocol;
//   5. any failure shaped as that protocol's AWS error (errors.ts), counted per caller (callers.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { randomUUID } from 'node:crypto'
import { AwsErrors, toAwsError, type AwsError } from '../errors.js'
import { verifySigV4, type Caller } from '../sigv4.js'
import { mediaType, rpcv2Target, wireProtocolOf, type WireProtocol } from './detect.js'
import { JSON_MEDIA_TYPES, decodeJson, jsonReply } from './json.js'
import { RPCV2_CONTENT_TYPE, awsCborReply, decodeCbor, rpcv2Reply } from './cbor.js'
import { parseForm, queryInput, queryOperation, queryReply } from './query.js'
import { answerError, errorReply, sendReply } from './errors.js'
import { inflate, type RequestCompression } from './body.js'
import { accessKeyOf, callerMetrics } from './callers.js'
import type { OperationShapes } from './shape.js'
import type { ApiDescription, WireReply } from './types.js'

export type Operation = (input: Record<string, unknown>, ctx: { req: FastifyRequest; reply: FastifyReply; caller: Caller }) => Promise<unknown> | unknown

export interface AwsApiOptions {
  /** "Kinesis_20131202": X-Amz-Target's prefix and rpcv2Cbor's service name. */
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
  /** Called for every finished call (the service's own metrics). */
  onCall?: (operation: string, statusCode: number, errorType: string | undefined, durationMs: number) => void
  /** Wire protocols besides AWS JSON: awsCbor (Kinesis), awsQuery and rpcv2Cbor (CloudWatch). */
  protocols?: ReadonlyArray<Exclude<WireProtocol, 'awsJson'>>
  /** Per operation, the shapes CBOR and awsQuery convert by (shape.ts). */
  shapes?: Record<string, OperationShapes>
  /** Smithy namespace ("com.amazonaws.cloudwatch"): required with rpcv2Cbor. */
  namespace?: string
  /** awsQuery: API version and XML namespace, both required with awsQuery. */
  apiVersion?: string
  xmlNamespace?: string
  /** awsQueryCompatible: JSON and CBOR errors carry x-amzn-query-error. */
  queryCompatible?: boolean
  /** Accept Content-Encoding: gzip bodies (the SDKs' request compression). */
  requestCompression?: RequestCompression
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer
  }
}

const ANONYMOUS: Caller = Object.freeze({ accessKeyId: '', region: '', service: '' })
const EMPTY = Buffer.alloc(0)

/** Checks the options once, when the API is registered, and describes the API for the protocol modules. */
export function describeApi(opts: AwsApiOptions): ApiDescription {
  const speaks = new Set<WireProtocol>(['awsJson', ...(opts.protocols ?? [])])
  const bad = (what: string) => new Error(`awsApi ${opts.targetPrefix}: ${what}`)
  if (speaks.has('awsQuery') && (!opts.apiVersion || !opts.xmlNamespace)) throw bad('awsQuery needs apiVersion and xmlNamespace')
  if (speaks.has('rpcv2Cbor') && !opts.namespace) throw bad('rpcv2Cbor needs the Smithy namespace')
  for (const name of Object.keys(opts.shapes ?? {})) if (!Object.hasOwn(opts.operations, name)) throw bad(`shapes for ${name}, which is not an operation`)
  return {
    targetPrefix: opts.targetPrefix,
    jsonVersion: opts.jsonVersion,
    speaks,
    namespace: opts.namespace ?? '',
    apiVersion: opts.apiVersion,
    xmlNamespace: opts.xmlNamespace,
    queryCompatible: opts.queryCompatible ?? false,
    shapes: opts.shapes ?? {},
    operations: Object.keys(opts.operations),
    ...(opts.signingName !== undefined ? { signingName: opts.signingName } : {}),
    unsignedOperations: opts.unsignedOperations ?? [],
  }
}

export async function awsApi(app: FastifyInstance, opts: AwsApiOptions): Promise<void> {
  const api = describeApi(opts)
  const unsigned = new Set(opts.unsignedOperations ?? [])
  const prefix = `${opts.targetPrefix}.`
  const rpcv2Services = new Set([opts.targetPrefix, `${api.namespace}.${opts.targetPrefix}`])
  // A bare fastify instance (not from createService) has no registry: no caller metrics then.
  const registered = app.service as FastifyInstance['service'] | undefined
  const callers = registered ? callerMetrics(registered.metrics, opts.keys.keys()) : undefined
  // The inbound fault hook answers in the request's protocol too.
  if (registered) registered.api = api

  // Every body is kept as bytes: the signature covers them, and each protocol decodes its own.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer
    done(null, body)
  })
  app.setErrorHandler((err, req, reply) => answerError(req, reply, toAwsError(err), api))
  // On a createService() app the kit's not-found handler answers in this API's protocol (it reads service.api).
  if (!registered)
    app.setNotFoundHandler((req, reply) => answerError(req, reply, AwsErrors.UnknownOperationException(`no route ${req.method} ${req.url}`), api))

  app.post('/', (req, reply) => serve(req, reply, wireProtocolOf(req, api.speaks)))
  if (api.speaks.has('rpcv2Cbor')) {
    // Claimed only with the smithy-protocol header; without it the path is no route of this API.
    app.post('/service/:service/operation/:operation', (req, reply) =>
      rpcv2Target(req)
        ? serve(req, reply, 'rpcv2Cbor')
        : answerError(req, reply, AwsErrors.UnknownOperationException(`no route ${req.method} ${req.url}`), api),
    )
  }

  async function serve(req: FastifyRequest, reply: FastifyReply, protocol: WireProtocol): Promise<FastifyReply> {
    const started = performance.now()
    const requestId = randomUUID()
    // Handlers may read it (Cognito's access records do).
    reply.header('x-amzn-requestid', requestId)
    let operation = ''
    let accessKeyId: string | undefined
    let status = 200
    let errorType: string | undefined
    try {
      const raw = req.rawBody ?? EMPTY
      let target = ''
      if (protocol === 'rpcv2Cbor') {
        const named = rpcv2Target(req)!
        target = `${named.service}.${named.operation}`
        if (req.headers['x-amz-target'] !== undefined || req.headers['x-amzn-target'] !== undefined)
          throw AwsErrors.SerializationException('An rpc-v2-cbor request must not carry an X-Amz-Target header.')
        if (rpcv2Services.has(named.service)) operation = named.operation
      } else if (protocol !== 'awsQuery') {
        target = String(req.headers['x-amz-target'] ?? '')
        operation = target.startsWith(prefix) ? target.slice(prefix.length) : ''
        const type = mediaType(req.headers['content-type'])
        if (protocol === 'awsJson' && raw.length > 0 && type !== '' && !JSON_MEDIA_TYPES.includes(type))
          throw AwsErrors.SerializationException('Unsupported content type')
      }
      const caller =
        unsigned.has(operation) && req.headers.authorization === undefined
          ? ANONYMOUS
          : verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw }, { keys: opts.keys, service: opts.signingName })
      accessKeyId = caller.accessKeyId
      let form: URLSearchParams | undefined
      if (protocol === 'awsQuery') {
        form = parseForm(inflate(raw, req.headers['content-encoding'], opts.requestCompression))
        operation = target = queryOperation(form, api)
      }
      const handler = Object.hasOwn(opts.operations, operation) ? opts.operations[operation] : undefined
      if (!handler) throw unknownOperation(protocol, target, operation)
      const shapes = Object.hasOwn(api.shapes, operation) ? api.shapes[operation] : undefined
      const input = form ? queryInput(form, shapes?.input) : decodeBody(protocol, inflate(raw, req.headers['content-encoding'], opts.requestCompression), req)
      const output = await handler(input, { req, reply, caller })
      return sendReply(reply, encodeOutput(protocol, operation, output, shapes, requestId), requestId)
    } catch (err) {
      const aws = toAwsError(err)
      const answer = errorReply(protocol, aws, api, requestId)
      status = answer.statusCode
      errorType = aws.type
      if (status >= 500) req.log.warn({ operation, protocol, err: aws.message }, 'operation failed')
      return sendReply(reply, answer, requestId)
    } finally {
      const ms = performance.now() - started
      // A refused awsQuery call is still counted under its Action when the form can be read as it came.
      if (!operation && protocol === 'awsQuery' && req.headers['content-encoding'] === undefined && req.rawBody)
        operation = parseForm(req.rawBody).get('Action') ?? ''
      // Metric labels: the operations the service has, the rest as one "unknown" (callers choose the names).
      const declared = Object.hasOwn(opts.operations, operation) ? operation : 'unknown'
      opts.onCall?.(declared, status, errorType, ms)
      callers?.record({
        accessKeyId: accessKeyId ?? accessKeyOf(req.headers.authorization),
        operation: declared,
        protocol,
        statusCode: status,
        seconds: ms / 1000,
      })
    }
  }

  function unknownOperation(protocol: WireProtocol, target: string, operation: string): AwsError {
    if (protocol === 'awsQuery') return AwsErrors.UnknownOperationException(`Could not find operation ${operation} for version ${api.apiVersion}`)
    if (protocol === 'rpcv2Cbor') return AwsErrors.UnknownOperationException(`Unknown operation ${target}`)
    return AwsErrors.UnknownOperationException(target ? `Unknown operation ${target}` : 'Missing X-Amz-Target header')
  }

  function encodeOutput(protocol: WireProtocol, operation: string, output: unknown, shapes: OperationShapes | undefined, requestId: string): WireReply {
    switch (protocol) {
      case 'awsJson':
        return jsonReply(output, api)
      case 'awsCbor':
        return awsCborReply(output, shapes)
      case 'rpcv2Cbor':
        return rpcv2Reply(output, shapes)
      case 'awsQuery':
        return queryReply(operation, output, shapes, api, requestId)
    }
  }
}

function decodeBody(protocol: WireProtocol, body: Buffer, req: FastifyRequest): Record<string, unknown> {
  switch (protocol) {
    case 'awsCbor':
      return decodeCbor(body, 'milliseconds')
    case 'rpcv2Cbor':
      if (body.length > 0 && mediaType(req.headers['content-type']) !== RPCV2_CONTENT_TYPE)
        throw AwsErrors.SerializationException(`An rpc-v2-cbor request body must be ${RPCV2_CONTENT_TYPE}.`)
      return decodeCbor(body, 'seconds')
    default:
      return decodeJson(body)
  }
}
