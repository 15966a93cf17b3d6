// Outbound HTTP: one undici Agent per service with the fault interceptor composed on, so an
// injected latency, error, reset or hang looks to the calling code exactly like a sick dependency.
import { Agent, type Dispatcher } from 'undici'
import { operationOf, type FaultSet, type FaultRule } from './faults.js'

export function faultInterceptor(faults: FaultSet): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    if (faults.size === 0) return dispatch(opts, handler)
    const rule = faults.pick({
      origin: typeof opts.origin === 'string' ? opts.origin.replace(/\/$/, '') : opts.origin?.origin,
      path: opts.path,
      method: opts.method,
      operation: operationOf(headerValue(opts.headers, 'x-amz-target')),
    })
    if (!rule) return dispatch(opts, handler)
    if (rule.kind === 'latency') {
      // The caller's AbortSignal (its timeout) still counts during the delay: on abort the request
      // goes out at once and undici aborts it at connect with the caller's reason.
      const signal = (opts as { signal?: AbortSignal }).signal
      const go = () => {
        clearTimeout(timer)
        signal?.removeEventListener?.('abort', go)
        dispatch(opts, handler)
      }
      const timer = setTimeout(go, rule.delayMs)
      signal?.addEventListener?.('abort', go, { once: true })
      return true
    }
    inject(rule, handler as Dispatcher.DispatchHandler)
    return true
  }
}

/** A header from any of the forms undici takes: an object, a flat [name, value, ...] array, or an iterable of pairs. */
function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1])
    return undefined
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<[string, string]>) if (String(pair[0]).toLowerCase() === name) return String(pair[1])
    return undefined
  }
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value)
  return undefined
}

/** Answers the request from the rule instead of the network (new-style undici handler API). */
function inject(rule: FaultRule, handler: Dispatcher.DispatchHandler): void {
  let timer: NodeJS.Timeout | undefined
  let done = false
  const fail = (err: Error) => {
    if (done) return
    done = true
    clearTimeout(timer)
    handler.onResponseError?.(controller, err)
  }
  const controller: any = {
    aborted: false,
    paused: false,
    reason: null,
    abort(reason?: Error) {
      this.aborted = true
      this.reason = reason
      fail(reason ?? new Error('aborted'))
    },
    pause() {},
    resume() {},
  }
  handler.onRequestStart?.(controller, {})
  if (rule.kind === 'error') {
    const body = Buffer.from(JSON.stringify({ __type: rule.errorType, message: `injected fault ${rule.id}` }))
    queueMicrotask(() => {
      if (done) return
      done = true
      handler.onResponseStart?.(
        controller,
        rule.status,
        { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': rule.errorType, 'content-length': String(body.length) },
        'Injected',
      )
      handler.onResponseData?.(controller, body)
      handler.onResponseEnd?.(controller, {})
    })
  } else if (rule.kind === 'reset') {
    queueMicrotask(() => fail(Object.assign(new Error(`socket reset (injected fault ${rule.id})`), { code: 'ECONNRESET' })))
  } else {
    timer = setTimeout(() => fail(Object.assign(new Error(`socket hang up (injected fault ${rule.id})`), { code: 'UND_ERR_SOCKET' })), rule.delayMs)
  }
}

export interface OutboundOptions {
  /** Connections per origin. */
  connections?: number
  /** Header and body timeouts; a dependency that stops answering fails the call after this. */
  timeoutMs?: number
}

export function createOutbound(faults: FaultSet, opts: OutboundOptions = {}): Dispatcher {
  const timeout = opts.timeoutMs ?? 10_000
  return new Agent({
    connections: opts.connections ?? 64,
    keepAliveTimeout: 30_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connectTimeout: Math.min(timeout, 5_000),
  }).compose(faultInterceptor(faults))
}
