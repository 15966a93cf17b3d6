// The internal credential: the routes only the lab's own services call on each other (metadata's
// store and membership, the back-ends' records, the front-ends' peer routes, the autoscaler's hooks,
// every /metrics) sit inside the service's own network in AWS. Here they share a port with the
// public API, so each run's platform hands its services one random token
// (OUTAGE_LAB_INTERNAL_TOKEN) and every route that is not public demands it: deny by default, so a
// route added later is guarded without anyone remembering to. Public routes say so in their config.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import { AwsError } from './errors.js'

/** The header internal callers put the token in (not Authorization: SigV4 and the admin bearer use it). */
export const INTERNAL_HEADER = 'x-outage-lab-internal'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public': callers outside the lab may call it (an AWS API, /health, a customer-facing page). */
    access?: 'public'
  }
}

/** Route options of a public route: `app.get(url, PUBLIC, handler)`. */
export const PUBLIC = { config: { access: 'public' } } as const

/** /admin/* has its own guard (the run's admin bearer token). */
const isAdmin = (url: string) => url === '/admin' || url.startsWith('/admin/')

/** How the guard sees a route: public, admin (its own token), or internal. */
export function routeAccess(route: { url?: string; config?: { access?: string } }): 'public' | 'admin' | 'internal' {
  if (route.config?.access === 'public') return 'public'
  if (route.url !== undefined && isAdmin(route.url)) return 'admin'
  return 'internal'
}

/**
 * A service given no token (an app built in-process, a service started by hand without the
 * variable) makes up its own: closed by default, its internal routes refuse whoever does not hold
 * it, which is every other process. The platforms and docker-compose.yml always set one.
 */
export function madeUpToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The onRequest hook that guards every internal route: without the token, 403
 * AccessDeniedException (the lab's {"__type","message"}, through the service's error handler).
 */
export function internalGuard(token: string) {
  // An empty token would make an empty (or absent) header the credential.
  if (!token) throw new Error('internalGuard needs a token (madeUpToken() when none is configured)')
  const want = Buffer.from(token)
  return async (req: FastifyRequest) => {
    // No route took it: the not-found handler answers in the API's own shape and changes nothing.
    if (req.is404) return
    if (routeAccess({ url: req.routeOptions.url, config: req.routeOptions.config }) !== 'internal') return
    const got = Buffer.from(String(req.headers[INTERNAL_HEADER] ?? ''))
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      throw new AwsError('AccessDeniedException', 403, `${req.method} ${req.routeOptions.url} is internal: missing or wrong ${INTERNAL_HEADER}`)
    }
  }
}

/**
 * An undici interceptor that adds the token to every request through the dispatcher it is composed
 * on (`createOutbound(...).compose(internalCredential(token))` shares the agent's connections).
 * `only`: the origins it may go to, for a dispatcher that also calls URLs callers chose (alarm
 * actions, event targets): the token never leaves the lab.
 */
export function internalCredential(token: string | undefined, only?: (origin: string) => boolean): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const origin = typeof opts.origin === 'string' ? opts.origin.replace(/\/$/, '') : (opts.origin?.origin ?? '')
    if (!token || (only && !only(origin))) return dispatch(opts, handler)
    return dispatch({ ...opts, headers: withInternalHeader(opts.headers, token) }, handler)
  }
}

/** The request's headers (any form undici takes) plus the token. */
function withInternalHeader(headers: unknown, token: string): Record<string, string | string[]> | string[] {
  if (Array.isArray(headers)) return [...(headers as string[]), INTERNAL_HEADER, token]
  const out: Record<string, string | string[]> = {}
  if (headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) out[k] = v
  } else if (headers) Object.assign(out, headers)
  out[INTERNAL_HEADER] = token
  return out
}

/**
 * For `internalCredential(token, only)`: true for the origin of `url` (a service's configured URL,
 * e.g. AUTOSCALER_URL), false for everything when it is not set or not a URL.
 */
export function sameOrigin(url: string | undefined): (origin: string) => boolean {
  let want: string | undefined
  try {
    want = url ? new URL(url).origin : undefined
  } catch {
    want = undefined
  }
  return (origin) => want !== undefined && origin === want
}

/** Headers for a caller that is not an undici dispatcher (node:http in a peer thread, fetch). */
export function internalHeaders(token: string | undefined): Record<string, string> {
  return token ? { [INTERNAL_HEADER]: token } : {}
}
