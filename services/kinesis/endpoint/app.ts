// kinesis/endpoint: the load balancer in front of one fleet (or one cell of it). h1 and h2c in,
// round robin over healthy members out, active health checks deciding who is healthy.
import type { FastifyInstance } from 'fastify'
import { createOutbound, createService, internalCredential } from '../../kit/index.js'
import { adminRoutes } from './admin.js'
import type { EndpointConfig } from './config.js'
import { HealthChecker } from './health-check.js'
import { MemberTable, type Member } from './members.js'
import { metadataMembership, staticMembership, type MembershipSource } from './membership.js'
import { endpointMetrics } from './metrics.js'
import { startFleetRemoval } from './fleet-removal.js'
import { proxyRoutes } from './proxy.js'

export interface EndpointDeps {
  config: EndpointConfig
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logLevel?: string
  /** false silences logs (tests). */
  logger?: boolean
  instance?: string
}

export function buildApp(deps: EndpointDeps): FastifyInstance {
  const { config } = deps
  const scope = config.cell ? `fleet ${config.fleet}, cell ${config.cell}` : `fleet ${config.fleet}`
  const svc = createService({
    name: 'kinesis-endpoint',
    instance: deps.instance ?? (config.cell ? `endpoint-${config.fleet}-${config.cell}` : `endpoint-${config.fleet}`),
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    h2c: true,
    logLevel: deps.logLevel,
    logger: deps.logger,
  })
  const { app } = svc
  const metrics = endpointMetrics(svc.metrics)
  const table = new MemberTable({ healthyThreshold: config.healthyThreshold, unhealthyThreshold: config.unhealthyThreshold })
  // Both go through the kit's fault interceptor: chaos can make a member look slow or dead to this
  // load balancer alone (match on origin, or on HEALTH_PATH for the checks).
  const upstream = createOutbound(svc.outboundFaults, { connections: config.upstreamConnections, timeoutMs: config.upstreamTimeoutMs })
  // Metadata's membership routes are internal: those calls carry the credential (same connections);
  // proxied requests never do, so a front-end's internal routes stay closed to the endpoint's callers.
  const toMetadata = upstream.compose(internalCredential(deps.internalToken))
  // Checks get their own connections, so they never queue behind data-path requests.
  const checkDispatcher = createOutbound(svc.outboundFaults, { connections: 1, timeoutMs: config.healthTimeoutMs })

  const updateGauges = () => {
    metrics.members.set(table.size)
    metrics.healthyMembers.set(table.healthyCount)
  }
  const checker = new HealthChecker({
    dispatcher: checkDispatcher,
    path: config.healthPath,
    intervalMs: config.healthIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    onOutcome(member: Member, outcome) {
      metrics.healthChecks.inc({ member: member.id, result: outcome.ok ? 'pass' : 'fail' })
      const transition = table.record(member.id, outcome)
      if (!transition) return
      metrics.memberHealthy.set({ member: member.id }, transition === 'admitted' ? 1 : 0)
      if (transition === 'ejected') {
        metrics.ejections.inc({ member: member.id })
        app.log.warn({ member: member.id, url: member.url, lastError: outcome.error }, 'member ejected')
      } else {
        app.log.info({ member: member.id, url: member.url }, 'member admitted')
      }
      updateGauges()
    },
  })

  const source: MembershipSource =
    config.members.kind === 'static'
      ? staticMembership(config.members.urls)
      : metadataMembership({
          dispatcher: toMetadata,
          metadataUrl: config.members.metadataUrl,
          fleet: config.fleet,
          cell: config.cell,
          pollMs: config.members.pollMs,
          log: app.log,
          onError: () => metrics.membershipErrors.inc(),
        })

  svc.setHealth(() => ({ status: 'ok', fleet: config.fleet, cell: config.cell ?? null, members: table.size, healthyMembers: table.healthyCount }))

  let removal: { stop(): void } | undefined
  app.addHook('onReady', async () => {
    if (config.removeUnhealthyAfterMs > 0 && config.members.kind === 'metadata') {
      removal = startFleetRemoval({
        table,
        dispatcher: toMetadata,
        metadataUrl: config.members.metadataUrl,
        fleet: config.fleet,
        afterMs: config.removeUnhealthyAfterMs,
        log: app.log,
        onRemoved: (m) => {
          metrics.fleetRemovals.inc({ member: m.id })
          table.restartClock(m.id)
        },
      })
    }
    source.start((specs) => {
      const { added, removed } = table.sync(specs)
      for (const m of removed) {
        checker.unwatch(m)
        metrics.forget(m)
        app.log.info({ member: m.id, url: m.url }, 'member left')
      }
      for (const m of added) {
        metrics.memberHealthy.set({ member: m.id }, 0)
        checker.watch(m)
        app.log.info({ member: m.id, url: m.url }, 'member joined; unhealthy until it passes its checks')
      }
      if (added.length || removed.length) updateGauges()
    })
  })
  app.addHook('onClose', async () => {
    source.stop()
    removal?.stop()
    checker.stopAll()
    await Promise.allSettled([upstream.destroy(), checkDispatcher.destroy()])
  })

  app.register(adminRoutes, { prefix: '/admin', table, adminToken: deps.adminToken })
  app.register(proxyRoutes, { table, dispatcher: upstream, metrics, scope, timeoutMs: config.upstreamTimeoutMs })
  return app
}
