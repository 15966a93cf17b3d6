// Inbound faults: a hook in front of every route but /health, /metrics and /admin, so chaos can
// make a service slow or failing to its callers while the harness still observes and steers it.
// An injected error answers in the wire protocol the request spoke (JSON, CBOR, awsQuery XML), as
// the service's real errors do, so every SDK parses it as the service's error. A rule that matches
// an operation sees it in every protocol: from X-Amz-Target, from the rpcv2Cbor path, and for
// awsQuery (whose Action is in the body) once the body is read.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { operationOf, type FaultRule, type FaultSet } from './faults.js'
import { AwsError, AwsErrors } from './errors.js'
import { rpcv2Target, wireProtocolOf } from './protocols/detect.js'
import { answerError } from './protocols/errors.js'
import { inflate } from './protocols/body.js'

const CONTROL = /^\/(health|metrics|admin)(\/|$|\?)/

export const inboundFaults = fp(
  async (app: FastifyInstance, opts: { faults: FaultSet }) => {
    const { faults } = opts
    app.addHook('onRequest', async (req, reply) => {
      if (faults.size === 0 || CONTROL.test(req.url)) return
      // awsQuery names its operation in the body: such requests are judged once it is read.
      if (protocolOf(req) === 'awsQuery') return
      const rpcv2 = rpcv2Target(req)
      const operation = rpcv2 ? rpcv2.operation : operationOf(req.headers['x-amz-target'])
      const rule = faults.pick({ path: req.url, method: req.method, operation })
      if (rule) return apply(rule, req, reply)
    })
    app.addHook('preHandler', async (req, reply) => {
      if (faults.size === 0 || CONTROL.test(req.url) || protocolOf(req) !== 'awsQuery') return
      const rule = faults.pick({ path: req.url, method: req.method, operation: queryAction(req) })
      if (rule) return apply(rule, req, reply)
    })
  },
  { name: 'outage-lab-inbound-faults' },
)

function protocolOf(req: FastifyRequest) {
  const api = req.server.service?.api
  return api ? wireProtocolOf(req, api.speaks) : 'awsJson'
}

/** The Action of an awsQuery form (undefined when it cannot be read: the API answers that itself). */
function queryAction(req: FastifyRequest): string | undefined {
  if (!req.rawBody) return undefined
  try {
    const bytes = inflate(req.rawBody, req.headers['content-encoding'], { maxInflatedBytes: 16 * 1024 * 1024, invalid: AwsErrors.SerializationException })
    return new URLSearchParams(bytes.toString('utf8')).get('Action') ?? undefined
  } catch {
    return undefined
  }
}

async function apply(rule: FaultRule, req: FastifyRequest, reply: FastifyReply) {
  switch (rule.kind) {
    case 'latency':
      await sleep(rule.delayMs)
      return
    case 'error': {
      const err = new AwsError(rule.errorType, rule.status, `injected fault ${rule.id}`)
      const api = req.server.service?.api
      if (!api) return reply.code(rule.status).header('x-amzn-errortype', rule.errorType).send(err.toJSON())
      return answerError(req, reply, err, api)
    }
    case 'reset':
      req.raw.socket?.destroy()
      return reply.hijack()
    case 'hang':
      await sleep(rule.delayMs)
      req.raw.socket?.destroy()
      return reply.hijack()
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
