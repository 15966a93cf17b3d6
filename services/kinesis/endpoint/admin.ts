// GET /admin/members: the endpoint's view of its fleet, for operators and the harness. Guarded by
// the run's bearer token like every /admin/* route of the kit.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { adminGuard } from '../../kit/index.js'
import type { MemberTable } from './members.js'

export async function adminRoutes(app: FastifyInstance, opts: { table: MemberTable; adminToken?: string }): Promise<void> {
  app.addHook('onRequest', adminGuard(opts.adminToken))
  app.get('/members', async () =>
    opts.table.list().map((m) => ({
      id: m.id,
      url: m.url,
      cell: m.cell ?? null,
      healthy: m.healthy,
      consecutiveFailures: m.consecutiveFailures,
      consecutiveSuccesses: m.consecutiveSuccesses,
      lastCheckMs: m.lastCheckMs,
      lastCheckAtMs: m.lastCheckAtMs,
      lastError: m.lastError,
      ejections: m.ejections,
    })),
  )
  // Unknown admin paths stop here: they must not be proxied to a member's own admin API.
  const notFound = async (req: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).send({ __type: 'ResourceNotFoundException', message: `no admin route ${req.method} ${req.url}` })
  app.all('/', notFound)
  app.all('/*', notFound)
}
