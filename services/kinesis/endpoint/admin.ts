// GET /admin/members: the endpoint's view of its fleet, for operators and the harness. Guarded by
// the run's bearer token like every /admin/* route of the kit.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import type { MemberTable } from './members.js'

export async function adminRoutes(app: FastifyInstance, opts: { table: MemberTable; adminToken?: string }): Promise<void> {
  app.addHook('onRequest', async (req, reply) => {
    if (!opts.adminToken) return reply.code(403).send({ __type: 'AccessDeniedException', message: 'admin API disabled: no OUTAGE_LAB_ADMIN_TOKEN' })
    const got = Buffer.from(String(req.headers.authorization ?? ''))
    const want = Buffer.from(`Bearer ${opts.adminToken}`)
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return reply.code(401).send({ __type: 'UnrecognizedClientException', message: 'missing or wrong admin bearer token' })
    }
  })
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
  const notFound = async (req: FastifyRequest, reply: FastifyReply) => reply.code(404).send({ __type: 'ResourceNotFoundException', message: `no admin route ${req.method} ${req.url}` })
  app.all('/', notFound)
  app.all('/*', notFound)
}
