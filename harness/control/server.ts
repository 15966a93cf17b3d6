// The control API of a running topology (`outage-lab up`): scale and restart fleets, kill, pause,
// resume or restart one service, and see every service's URL, pid and health. It listens on
// 127.0.0.1 only and answers nothing without the run's admin token. It drives the topology
// through StartedTopology, so it works the same for every backend.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { InvalidOperation, ServiceNotReady } from '../topology/errors.js'
import type { StartedTopology } from '../platform/started.js'

export interface ControlServerOptions {
  topology: StartedTopology
  token: string
  /** Called after anything that changes the topology's membership (rewrite the endpoints file). */
  onChange?: () => void | Promise<void>
}

class BadRequest extends Error {}

const awsError = (type: string, message: string) => ({ __type: type, message })

export function buildControlApp(opts: ControlServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    requestTimeout: 0,
    // A URL that does not decode, or a name above fastify's parameter length: the API's own error shape, not fastify's.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      void reply.code(err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400).send(awsError('InvalidArgumentException', err.message))
    },
  })
  const topo = opts.topology
  const want = Buffer.from(`Bearer ${opts.token}`)

  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/health') return
    const got = Buffer.from(String(req.headers.authorization ?? ''))
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return reply
        .code(401)
        .send(awsError('UnrecognizedClientException', "missing or wrong bearer token (the run's admin token, in the endpoints file as control.token)"))
    }
  })

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send(awsError('InvalidArgumentException', err.message))
    if (err instanceof InvalidOperation) {
      if (err.code === 'UNKNOWN_FLEET' || err.code === 'UNKNOWN_SERVICE') return reply.code(404).send(awsError('ResourceNotFoundException', err.message))
      if (err.code === 'STOPPED') return reply.code(503).send(awsError('ServiceUnavailable', err.message))
      return reply.code(400).send(awsError('InvalidArgumentException', err.message))
    }
    if (err instanceof ServiceNotReady) return reply.code(500).send(awsError('ServiceNotReady', err.message))
    const e = err as { statusCode?: number; message: string }
    // fastify's own client errors (bad JSON, wrong content-type) keep their status.
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send(awsError('SerializationException', e.message))
    return reply.code(500).send(awsError('InternalFailure', e.message))
  })

  app.setNotFoundHandler((req, reply) => reply.code(404).send(awsError('ResourceNotFoundException', `no route ${req.method} ${req.url.split('?')[0]}`)))

  app.get('/health', async () => ({ status: 'ok', runId: topo.runId }))

  app.get('/topology', async () => {
    const health = new Map((await topo.health()).map((h) => [h.name, h]))
    return {
      runId: topo.runId,
      threadLimitEnforcement: topo.threadLimitEnforcement,
      ...(topo.enforcementNote ? { enforcementNote: topo.enforcementNote } : {}),
      endpoints: topo.endpoints(),
      services: topo.services().map((s) => {
        const h = health.get(s.name)
        return { ...s, health: h ? { status: h.status ?? null, ...(h.body ? { body: h.body } : {}), ...(h.error ? { error: h.error } : {}) } : null }
      }),
    }
  })

  app.post('/fleets/:fleet/scale', async (req) => {
    const { fleet } = req.params as { fleet: string }
    const body = objectBody(req.body)
    const to = body.to
    if (!Number.isInteger(to)) throw new BadRequest(`to: expected an integer fleet size, got ${JSON.stringify(to)}`)
    const result = await topo.scaleFleet(fleet, to as number)
    await opts.onChange?.()
    return result
  })

  app.post('/fleets/:fleet/restart', async (req) => {
    const { fleet } = req.params as { fleet: string }
    const { rate } = objectBody(req.body)
    let result
    if (rate === 'all') result = await topo.restartFleet(fleet, { all: true })
    else if (typeof rate === 'number' && Number.isFinite(rate) && rate > 0) result = await topo.restartFleet(fleet, { ratePerSec: rate })
    else throw new BadRequest(`rate: expected members per second (a positive number) or "all", got ${JSON.stringify(rate)}`)
    await opts.onChange?.()
    return result
  })

  for (const action of ['kill', 'pause', 'resume', 'restart'] as const) {
    app.post(`/services/:name/${action}`, async (req) => {
      const { name } = req.params as { name: string }
      await topo[action](name)
      await opts.onChange?.()
      return { service: name, action, status: topo.services().find((s) => s.name === name) }
    })
  }
  return app
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('expected a JSON object body')
  return body as Record<string, unknown>
}

/** Listens on 127.0.0.1 (port 0 = any); returns the app and its URL. */
export async function startControlServer(opts: ControlServerOptions & { port?: number }): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildControlApp(opts)
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  return { app, url: `http://127.0.0.1:${port}` }
}
