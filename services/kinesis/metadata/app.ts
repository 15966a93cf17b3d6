// kinesis/metadata: the membership-vending service and the authoritative store behind one small
// HTTP API (docs/internals.md, "kinesis/metadata").
import type { FastifyInstance } from 'fastify'
import { createService, createOutbound, internalCredential, AwsErrors } from '../../kit/index.js'
import type { MetadataStore } from './store.js'
import * as valid from './validate.js'
import { storeMetrics } from './metrics.js'
import { dropStreamOnOwners } from './backend-notice.js'

export interface MetadataDeps {
  store: MetadataStore
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logger?: boolean
  logLevel?: string
  /** How long a back-end gets to drop a deleted stream. */
  backendTimeoutMs?: number
}

type Params = Record<string, string>

export function buildApp(deps: MetadataDeps): FastifyInstance {
  const { store } = deps
  const svc = createService({
    name: 'kinesis-metadata',
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logger: deps.logger,
    logLevel: deps.logLevel,
  })
  const { app } = svc
  storeMetrics(svc.metrics, store)
  // It calls only back-ends (their internal DELETE /streams/:stream): every call carries the credential.
  const outbound = createOutbound(svc.outboundFaults, { timeoutMs: deps.backendTimeoutMs ?? 2_000, connections: 4 }).compose(
    internalCredential(deps.internalToken),
  )
  svc.setHealth(() => ({ status: 'ok', version: store.version, streams: store.streamNames().length, backends: store.backends().length }))
  app.addHook('onClose', async () => {
    await store.flush()
    await outbound.close()
  })

  // --- back-ends ---------------------------------------------------------------------------

  app.put('/backends/:id', async (req) => {
    const id = valid.id((req.params as Params).id, 'id')
    const url = valid.url(valid.body(req.body).url)
    return store.registerBackend(id, url)
  })

  app.get('/backends', async () => ({ backends: store.backends() }))

  // --- streams -----------------------------------------------------------------------------

  app.post('/streams', async (req, reply) => {
    const body = valid.body(req.body)
    const name = valid.streamName(body.name)
    const shardCount = valid.shardCount(body.shardCount)
    const stream = await store.createStream(name, shardCount)
    req.log.info({ stream: name, shardCount, version: store.version }, 'stream created')
    reply.code(201)
    return stream
  })

  app.get('/streams', async () => ({ streams: store.streamNames() }))

  app.get('/streams/:name', async (req) => store.stream(valid.streamName((req.params as Params).name)))

  app.delete('/streams/:name', async (req) => {
    const stream = await store.deleteStream(valid.streamName((req.params as Params).name))
    req.log.info({ stream: stream.name, version: store.version }, 'stream deleted')
    await dropStreamOnOwners(stream, store.backends(), outbound, req.log)
    return { name: stream.name, deleted: true }
  })

  // --- fleet membership --------------------------------------------------------------------

  const fleetAndId = (req: { params: unknown }) => {
    const p = req.params as Params
    return { fleet: valid.id(p.fleet, 'fleet'), id: valid.id(p.id, 'id') }
  }

  app.put('/fleets/:fleet/members/:id', async (req) => {
    const { fleet, id } = fleetAndId(req)
    const body = valid.body(req.body)
    const member = await store.registerMember(fleet, id, valid.url(body.url), valid.optionalId(body.cell, 'cell') ?? null)
    return { fleet, version: store.version, member }
  })

  app.post('/fleets/:fleet/members/:id/heartbeat', async (req) => {
    const { fleet, id } = fleetAndId(req)
    return { fleet, version: store.version, member: store.heartbeat(fleet, id) }
  })

  app.delete('/fleets/:fleet/members/:id', async (req) => {
    const { fleet, id } = fleetAndId(req)
    const removed = await store.removeMember(fleet, id)
    return { fleet, version: store.version, removed }
  })

  app.get('/fleets/:fleet/members', async (req) => {
    const fleet = valid.id((req.params as Params).fleet, 'fleet')
    const cell = valid.optionalId((req.query as Params).cell, 'cell')
    return { fleet, version: store.version, members: store.members(fleet, cell) }
  })

  // Everything a front-end needs in one read: what bootstrapping from metadata costs.
  app.get('/shardmap', async (req) => {
    const q = req.query as Params
    if (q.fleet === undefined) throw AwsErrors.InvalidArgumentException('The query parameter fleet is required.')
    const fleet = valid.id(q.fleet, 'fleet')
    const cell = valid.optionalId(q.cell, 'cell')
    return {
      version: store.version,
      streams: store.streams(),
      backends: Object.fromEntries(store.backends().map((b) => [b.id, b.url])),
      members: store.members(fleet, cell),
    }
  })

  return app
}
