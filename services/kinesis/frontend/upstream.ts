// Calls from the front-end to the services behind it (back-ends and metadata), over the kit's
// outbound undici Agent so injected faults look like sick dependencies. Every failure becomes an
// AwsError, and which one depends on how the dependency failed, like the varied errors customers
// saw in 2020: an answer with an AWS error body passes through; a dependency that cannot be
// reached is ServiceUnavailable; one that times out, resets or answers garbage is InternalFailure.
import type { Dispatcher } from 'undici'
import { AwsError, AwsErrors } from '../../kit/index.js'

export type UpstreamOutcome = 'ok' | 'error_answer' | 'unreachable' | 'timeout' | 'reset' | 'bad_answer'

export class UpstreamError extends AwsError {
  readonly outcome: UpstreamOutcome
  constructor(err: AwsError, outcome: UpstreamOutcome) {
    super(err.type, err.statusCode, err.message)
    this.outcome = outcome
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

export interface UpstreamCall {
  /** "http://127.0.0.1:4200" */
  baseUrl: string
  path: string
  method?: 'GET' | 'POST'
  body?: unknown
  /** What is being called, for messages ("back-end backend-1"). */
  target: string
  /** Metric label of the dependency ("backend-1", "metadata"). */
  dependency: string
}

export type OnUpstream = (dependency: string, outcome: UpstreamOutcome) => void

export function createUpstream(dispatcher: Dispatcher, onCall?: OnUpstream) {
  return async function call<T>(c: UpstreamCall): Promise<T> {
    let res: Dispatcher.ResponseData
    try {
      res = await dispatcher.request({
        origin: c.baseUrl,
        path: c.path,
        method: c.method ?? 'POST',
        headers: c.body === undefined ? {} : { 'content-type': 'application/json' },
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
      })
    } catch (err) {
      throw report(c, failure(err, c.target))
    }
    let text: string
    try {
      text = await res.body.text()
    } catch (err) {
      throw report(c, failure(err, c.target))
    }
    let parsed: any
    try {
      parsed = text ? JSON.parse(text) : {}
    } catch {
      throw report(c, new UpstreamError(AwsErrors.InternalFailure(`${c.target} answered ${res.statusCode} with a body that is not JSON`), 'bad_answer'))
    }
    if (res.statusCode >= 400) {
      const type = typeof parsed?.__type === 'string' ? parsed.__type : res.statusCode >= 500 ? 'InternalFailure' : 'ValidationException'
      const message = typeof parsed?.message === 'string' ? parsed.message : `${c.target} answered ${res.statusCode}`
      throw report(c, new UpstreamError(new AwsError(type, res.statusCode, message), 'error_answer'))
    }
    onCall?.(c.dependency, 'ok')
    return parsed as T
  }

  function report(c: UpstreamCall, err: UpstreamError): UpstreamError {
    onCall?.(c.dependency, err.outcome)
    return err
  }
}

function failure(err: unknown, target: string): UpstreamError {
  const code = (err as { code?: string })?.code ?? ''
  const detail = (err as Error)?.message ?? String(err)
  if (UNREACHABLE.has(code)) return new UpstreamError(AwsErrors.ServiceUnavailable(`${target} is unreachable (${code})`), 'unreachable')
  if (TIMEOUT.has(code)) return new UpstreamError(AwsErrors.InternalFailure(`${target} timed out (${code})`), 'timeout')
  return new UpstreamError(AwsErrors.InternalFailure(`${target} failed: ${detail}`), 'reset')
}
