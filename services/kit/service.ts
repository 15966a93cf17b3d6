// createService(): what every outage-lab service is made of. A fastify app with JSON logs, its
// own Prometheus registry, GET /health and GET /metrics, token-protected /admin/* routes (the
// chaos controls among them), every other route behind the internal credential unless it is
// public (internal.ts), and optionally HTTP/1.1 + cleartext HTTP/2 on one port.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { createRequire } from 'node:module'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { timingSafeEqual } from 'node:crypto'
import { createDualServer } from './dual-server.js'
import { FaultSet } from './faults.js'
import { inboundFaults } from './inbound-faults.js'
import { memoryReport } from './memory.js'
import { servedRequests } from './served-requests.js'
import { AwsError, AwsErrors, toAwsError } from './errors.js'
import { answerError } from './protocols/errors.js'
import { INTERNAL_HEADER, internalGuard, madeUpToken, PUBLIC } from './internal.js'
import type { ApiDescription } from './protocols/types.js'

// fastify exports LogController from its CommonJS entry only.
const { LogController } = createRequire(import.meta.url)('fastify') as { LogController: new (o: object) => any }

export interface HealthReport {
  /** 'ok' answers 200, anything else 503. */
  status: 'ok' | 'degraded' | 'starting' | 'failing'
  [field: string]: unknown
}

export interface ServiceOptions {
  /** The service's name in logs, metrics and /health ("kinesis-frontend"). */
  name: string
  /** Instance id (a fleet member's id); defaults to the name. */
  instance?: string
  /** Bearer token for /admin/*. Without one, /admin/* answers 403 to everybody. */
  adminToken?: string
  /**
   * OUTAGE_LAB_INTERNAL_TOKEN: what the lab's own services send on internal routes (every route not
   * marked PUBLIC and not under /admin). Without one the service makes up a random token of its own,
   * so those routes refuse every caller (closed by default); app.service.internalToken holds it.
   */
  internalToken?: string
  /** Serve HTTP/1.1 and cleartext HTTP/2 on the same port. */
  h2c?: boolean
  /** Largest request body in bytes. */
  bodyLimit?: number
  logLevel?: string
  /** false silences logs (tests). */
  logger?: boolean
}

export interface Service {
  app: FastifyInstance
  metrics: Registry
  /** Outbound fault rules; pass to createOutbound() so the admin API steers this service's clients. */
  outboundFaults: FaultSet
  /** Inbound fault rules, applied by a hook before any route. */
  inboundFaults: FaultSet
  /** Adds fields to /health; the last registered report decides the status. */
  setHealth(report: () => HealthReport): void
  /** Adds a field to GET /admin/memory: memory the process's own figures do not break down (a worker thread's isolate). */
  addMemoryPart(name: string, read: (opts: { fullGc: boolean }) => Promise<unknown>): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service this app is: its name, its metrics registry, and its AWS API once awsApi registered it. */
    service: {
      name: string
      instance: string
      metrics: Registry
      /** The token the internal routes demand: the configured one, or the one made up at start. */
      internalToken: string
      api?: ApiDescription
      /** How errors met before any route (a bad URL, no such route) are answered, for an API not in the kit's protocols (Lambda's REST). */
      answer?: (req: FastifyRequest, reply: FastifyReply, err: AwsError) => FastifyReply
      /** How a request no route takes is answered (an API's "unknown operation"); default: the API's protocol, or a 404 ResourceNotFoundException. */
      notFound?: (req: FastifyRequest, reply: FastifyReply) => FastifyReply
    }
  }
}

/**
 * An error fastify meets before a route runs (a URL that does not decode, a path parameter above
 * its length, no route at all), answered like every other error of the service: in its API's
 * protocol, or as the lab's {"__type", "message"}; fastify's own bodies are shapes no client parses.
 */
function answerUnrouted(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, err: AwsError): FastifyReply {
  const service = app.service
  if (service.answer) return service.answer(req, reply, err)
  if (service.api) return answerError(req, reply, err, service.api)
  return reply.code(err.statusCode).send(err.toJSON())
}

export function frameworkError(err: { code?: string; message?: string }): AwsError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return new AwsError('ValidationException', 414, err.message ?? 'a path parameter is too long')
  return new AwsError('ValidationException', 400, err.message ?? 'invalid URL')
}

/** The onRequest hook that guards /admin/*: the run's bearer token, compared in constant time. */
export function adminGuard(adminToken: string | undefined) {
  const want = Buffer.from(`Bearer ${adminToken ?? ''}`)
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!adminToken) return reply.code(403).send({ __type: 'AccessDeniedException', message: 'admin API disabled: no OUTAGE_LAB_ADMIN_TOKEN' })
    const got = Buffer.from(String(req.headers.authorization ?? ''))
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return reply.code(401).send({ __type: 'UnrecognizedClientException', message: 'missing or wrong admin bearer token' })
    }
  }
}

export function createService(opts: ServiceOptions): Service {
  const instance = opts.instance ?? opts.name
  const fastifyOpts: FastifyServerOptions & Record<string, unknown> = {
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    logger: opts.logger === false ? false : { level: opts.logLevel ?? 'info', base: { service: opts.name, instance } },
    // Chaos requires requests to finish on their own schedule; fastify's defaults would cut
    // hung requests, which are exactly what some faults produce.
    requestTimeout: 0,
    forceCloseConnections: true,
    // A request log line per call would dominate a data plane doing tens of thousands a second.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (err: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
      void answerUnrouted(app, req, reply, frameworkError(err))
    },
  }
  if (opts.h2c) fastifyOpts.serverFactory = ((handler: any) => createDualServer(handler)) as any
  const app = Fastify(fastifyOpts) as unknown as FastifyInstance
  const metrics = new Registry()
  const internalToken = opts.internalToken || madeUpToken()
  app.decorate('service', { name: opts.name, instance, metrics, internalToken })
  // One place shapes errors for the internal (non-AWS) routes too: AWS-like JSON bodies.
  app.setErrorHandler((err, req, reply) => {
    const aws = toAwsError(err)
    if (aws.statusCode >= 500) req.log.error({ err }, 'request failed')
    // A request no route took (its body failed to parse on the way to the not-found handler) is the API's.
    if (req.is404) return answerUnrouted(app, req, reply, aws)
    reply.code(aws.statusCode).send(aws.toJSON())
  })
  // One handler for the whole app (fastify takes one per prefix); an API registered on it says how it answers.
  app.setNotFoundHandler((req, reply) => {
    const { notFound, api } = app.service
    if (notFound) return notFound(req, reply)
    const route = `no route ${req.method} ${req.url}`
    return api
      ? answerError(req, reply, AwsErrors.UnknownOperationException(route), api)
      : answerUnrouted(app, req, reply, new AwsError('ResourceNotFoundException', 404, route))
  })

  // Before any route is registered: root hooks reach every plugin's routes.
  app.addHook('onRequest', internalGuard(internalToken))
  if (!opts.internalToken)
    app.log.warn(
      `no OUTAGE_LAB_INTERNAL_TOKEN: internal routes refuse every caller (${INTERNAL_HEADER} must carry a token this process made up). ` +
        "To let the lab's services in, start it with OUTAGE_LAB_INTERNAL_TOKEN set to the run's internal token, the same in every service",
    )

  metrics.setDefaultLabels({ service: opts.name, instance })
  collectDefaultMetrics({ register: metrics })

  const outbound = new FaultSet()
  const inbound = new FaultSet()
  let health: () => HealthReport = () => ({ status: 'ok' })
  const memoryParts = new Map<string, (opts: { fullGc: boolean }) => Promise<unknown>>()

  // Open: platform readiness, Docker health checks and load balancers call it without credentials.
  app.get('/health', PUBLIC, async (_req, reply) => {
    const report = health()
    reply.code(report.status === 'ok' ? 200 : 503)
    return { service: opts.name, instance, pid: process.pid, uptimeMs: Math.round(process.uptime() * 1000), ...report }
  })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.contentType)
    return metrics.metrics()
  })

  app.register(
    async (admin) => {
      admin.addHook('onRequest', adminGuard(opts.adminToken))
      admin.get('/memory', async (req) => {
        const fullGc = (req.query as { gc?: string }).gc === 'full'
        // The parts first: a worker's collection then shows in the process's resident memory too.
        const parts: Record<string, unknown> = {}
        for (const [name, read] of memoryParts) parts[name] = await read({ fullGc })
        return { ...memoryReport({ fullGc }), ...parts }
      })
      for (const [direction, set] of [
        ['inbound', inbound],
        ['outbound', outbound],
      ] as const) {
        admin.get(`/faults/${direction}`, async () => ({ rules: set.list() }))
        admin.post(`/faults/${direction}`, async (req, reply) => {
          const rule = set.add(req.body)
          reply.code(201)
          return rule
        })
        admin.delete(`/faults/${direction}/:id`, async (req, reply) => {
          const { id } = req.params as { id: string }
          if (!set.remove(id)) return reply.code(404).send({ __type: 'ResourceNotFoundException', message: `no ${direction} fault ${id}` })
          return { removed: id }
        })
        admin.delete(`/faults/${direction}`, async () => ({ removed: set.clear() }))
      }
    },
    { prefix: '/admin' },
  )

  // Counted before the inbound faults run, so an injected error, reset or hang counts as served badly.
  app.register(servedRequests, { registry: metrics })
  app.register(inboundFaults, { faults: inbound })

  return {
    app,
    metrics,
    outboundFaults: outbound,
    inboundFaults: inbound,
    setHealth(report) {
      health = report
    },
    addMemoryPart(name, read) {
      memoryParts.set(name, read)
    },
  }
}
