// The data path: every request that is not the endpoint's own goes to the next healthy member,
// round robin, over HTTP/1.1 keep-alive connections. Bodies stream both ways with backpressure
// and no copy: the endpoint is one hop on a path meant to carry tens of thousands of records a
// second on two shared cores. Failures before the member answered are shaped as AWS errors in the
// protocol the request spoke (JSON 1.1, or CBOR 1.1 from the Java SDK) so the stock SDK parses them
// and applies its own retry policy; the endpoint itself retries only an
// idempotent request whose connection was refused, never a POST, which may have reached a member.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import type { Readable } from 'node:stream'
import { AwsError, AwsErrors, answerError, describeApi, toAwsError } from '../../kit/index.js'
import { requestHeaders, responseHeaders } from './headers.js'
import type { Member, MemberTable } from './members.js'
import type { EndpointMetrics } from './metrics.js'

// The front-ends' API as far as the endpoint answers for it: its errors' shapes.
const KINESIS = describeApi({ targetPrefix: 'Kinesis_20131202', jsonVersion: '1.1', protocols: ['awsCbor'], operations: {}, keys: new Map() })
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS'])
// The connection never opened, so the member saw nothing of the request.
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])

export interface ProxyOptions {
  table: MemberTable
  dispatcher: Dispatcher
  metrics: EndpointMetrics
  /** "fleet main" / "fleet main, cell c1": names the fleet in error messages. */
  scope: string
  timeoutMs: number
}

export async function proxyRoutes(app: FastifyInstance, opts: ProxyOptions): Promise<void> {
  const { table, metrics } = opts
  // The kit's inbound faults answer in these shapes too (a Java client behind the endpoint gets CBOR).
  app.service.api = KINESIS
  // Any content type, left unread: the request stream itself becomes the upstream body.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  app.setErrorHandler((err, req, reply) => answerError(req, reply, toAwsError(err), KINESIS))

  app.all('/*', (req, reply) => {
    const member = table.pick()
    if (!member) {
      metrics.requests.inc({ member: 'none', status: '503' })
      return answerError(req, reply, AwsErrors.ServiceUnavailable(`No healthy member in ${opts.scope}`), KINESIS)
    }
    forward(req, reply, member, 0, opts)
    return reply
  })
}

function forward(req: FastifyRequest, reply: FastifyReply, member: Member, attempt: number, opts: ProxyOptions): void {
  const started = performance.now()
  const res = reply.raw
  const method = req.method as Dispatcher.HttpMethod
  let controller: Dispatcher.DispatchController | undefined
  let answered = false
  const onClientGone = () => {
    // A client that goes away takes its upstream request with it.
    if (!res.writableFinished) controller?.abort(new Error('client closed the connection'))
  }
  res.once('close', onClientGone)

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c
      if (res.destroyed) c.abort(new Error('client closed the connection'))
    },
    onResponseStart(c, statusCode, headers) {
      answered = true
      opts.metrics.proxyDuration.observe({ member: member.id }, (performance.now() - started) / 1000)
      opts.metrics.requests.inc({ member: member.id, status: String(statusCode) })
      reply.hijack()
      res.writeHead(statusCode, responseHeaders(headers as Record<string, string | string[]>))
      // Backpressure: a slow reader slows the member's socket, not the endpoint's memory.
      res.on('drain', () => c.resume())
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) c.pause()
    },
    onResponseEnd() {
      res.off('close', onClientGone)
      res.end()
    },
    onResponseError(_c, err) {
      res.off('close', onClientGone)
      if (answered) {
        // Headers went out already: all that is left is to cut the response short.
        res.destroy(err)
        return
      }
      const code = (err as { code?: string }).code ?? ''
      if (res.destroyed) {
        opts.metrics.requests.inc({ member: member.id, status: '499' })
        reply.hijack()
        return
      }
      if (attempt === 0 && CONNECT_FAILURES.has(code) && IDEMPOTENT.has(method)) {
        const other = opts.table.pick(member)
        if (other) return forward(req, reply, other, 1, opts)
      }
      // undici refused to send the request (a header value it cannot write): the client's fault,
      // and the member saw nothing of it.
      const failure =
        code === 'UND_ERR_INVALID_ARG'
          ? AwsErrors.ValidationException(`Request cannot be forwarded: ${err.message}`)
          : proxyFailure(err, member, opts.timeoutMs)
      opts.metrics.proxyDuration.observe({ member: member.id }, (performance.now() - started) / 1000)
      opts.metrics.requests.inc({ member: member.id, status: String(failure.statusCode) })
      if (failure.statusCode >= 500 && failure.statusCode !== 503) req.log.warn({ member: member.id, code, err: err.message }, 'member failed mid-request')
      answerError(req, reply, failure, KINESIS)
    },
  }
  try {
    opts.dispatcher.dispatch(
      {
        origin: member.url,
        path: req.url,
        method,
        headers: requestHeaders(req.headers),
        // The body stream when fastify saw one (content-length or chunked), none otherwise.
        body: (req.body as Readable | undefined) ?? null,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      },
      handler,
    )
  } catch (err) {
    // Options undici refused (a header it cannot send): the client's fault.
    res.off('close', onClientGone)
    answerError(req, reply, AwsErrors.ValidationException(`Request cannot be forwarded: ${(err as Error).message}`), KINESIS)
  }
}

function proxyFailure(err: Error, member: Member, timeoutMs: number): AwsError {
  const code = (err as { code?: string }).code ?? 'unknown'
  if (CONNECT_FAILURES.has(code)) return AwsErrors.ServiceUnavailable(`Member ${member.id} could not be reached (${code})`)
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return new AwsError('InternalFailure', 504, `Member ${member.id} did not answer within ${timeoutMs} ms`)
  return new AwsError('InternalFailure', 502, `Member ${member.id} failed mid-request (${code}: ${err.message})`)
}
