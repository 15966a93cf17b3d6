// Inbound faults: a hook in front of every route but /health, /metrics and /admin, so chaos can
// make a service slow or failing to its callers while the harness still observes and steers it.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { operationOf, type FaultSet } from './faults.js'

const CONTROL = /^\/(health|metrics|admin)(\/|$|\?)/

export const inboundFaults = fp(
  async (app: FastifyInstance, opts: { faults: FaultSet }) => {
    const { faults } = opts
    app.addHook('onRequest', async (req, reply) => {
      if (faults.size === 0 || CONTROL.test(req.url)) return
      const rule = faults.pick({ path: req.url, method: req.method, operation: operationOf(req.headers['x-amz-target']) })
      if (!rule) return
      switch (rule.kind) {
        case 'latency':
          await sleep(rule.delayMs)
          return
        case 'error':
          return reply
            .code(rule.status)
            .header('x-amzn-errortype', rule.errorType)
            .send({ __type: rule.errorType, message: `injected fault ${rule.id}` })
        case 'reset':
          req.raw.socket?.destroy()
          return reply.hijack()
        case 'hang':
          await sleep(rule.delayMs)
          req.raw.socket?.destroy()
          return reply.hijack()
      }
    })
  },
  { name: 'outage-lab-inbound-faults' },
)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
