// The data path: every request that is not the endpoint's own goes to the next healthy member,
// round robin, over HTTP/1.1 keep-alive connections. The request body is buffered (Kinesis bodies
// stay under ~7 MB, and a whole body lets nothing reach a member for a client that gave up
// mid-upload); the response streams back. Failures answer in the AWS JSON shape so the stock SDK
// parses them and applies its own retry policy: the endpoint retries only idempotent requests
// whose connection was refused, never a POST, which may have reached a member.
import type { FastifyInstance } from 'fastify'
import type { Dispatcher } from 'undici'
import { AwsError, AwsErrors, sendError, toAwsError } from '../../kit/index.js'
import { requestHeaders, responseHeaders } from './headers.js'
import type { Member, MemberTable } from './members.js'
import type { EndpointMetrics } from './metrics.js'

const JSON_11 = 'application/x-amz-json-1.1'
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
  const { table, dispatcher, metrics, timeoutMs } = opts
  // Any content type, kept as bytes: the member parses it and SigV4 covers the exact bytes.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  app.setErrorHandler((err, _req, reply) => sendError(reply, JSON_11, toAwsError(err)))

  app.all('/*', async (req, reply) => {
    const started = performance.now()
    let member = table.pick()
    if (!member) {
      metrics.requests.inc({ member: 'none', status: '503' })
      return sendError(reply, JSON_11, AwsErrors.ServiceUnavailable(`No healthy member in ${opts.scope}`))
    }
    const headers = requestHeaders(req.headers)
    const body = (req.body as Buffer | undefined) ?? null
    const method = req.method as Dispatcher.HttpMethod
    // A client that goes away takes its upstream request with it.
    const abort = new AbortController()
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort()
    })
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await dispatcher.request({ origin: member.url, path: req.url, method, headers, body, signal: abort.signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
        metrics.proxyDuration.observe({ member: member.id }, (performance.now() - started) / 1000)
        metrics.requests.inc({ member: member.id, status: String(res.statusCode) })
        reply.code(res.statusCode).headers(responseHeaders(res.headers))
        return reply.send(res.body)
      } catch (err) {
        const code = (err as { code?: string }).code ?? ''
        if (abort.signal.aborted) {
          metrics.requests.inc({ member: member.id, status: '499' })
          return reply.hijack()
        }
        if (attempt === 0 && CONNECT_FAILURES.has(code) && IDEMPOTENT.has(method)) {
          const other = table.pick(member)
          if (other) {
            member = other
            continue
          }
        }
        const failure = proxyFailure(err, member, timeoutMs)
        metrics.proxyDuration.observe({ member: member.id }, (performance.now() - started) / 1000)
        metrics.requests.inc({ member: member.id, status: String(failure.statusCode) })
        if (failure.statusCode !== 503) req.log.warn({ member: member.id, code, err: (err as Error).message }, 'member failed mid-request')
        return sendError(reply, JSON_11, failure)
      }
    }
  })
}

function proxyFailure(err: unknown, member: Member, timeoutMs: number): AwsError {
  const e = err as { code?: string; message?: string }
  const code = e.code ?? 'unknown'
  if (CONNECT_FAILURES.has(code)) return AwsErrors.ServiceUnavailable(`Member ${member.id} could not be reached (${code})`)
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new AwsError('InternalFailure', 504, `Member ${member.id} did not answer within ${timeoutMs} ms`)
  return new AwsError('InternalFailure', 502, `Member ${member.id} failed mid-request (${code}: ${e.message})`)
}
