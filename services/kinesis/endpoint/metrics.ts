// The endpoint's Prometheus series. Member labels are the member ids, removed when a member
// leaves so a long run with churn does not grow the registry without bound.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Member } from './members.js'

export interface EndpointMetrics {
  requests: Counter<'member' | 'status'>
  proxyDuration: Histogram<'member'>
  memberHealthy: Gauge<'member'>
  ejections: Counter<'member'>
  fleetRemovals: Counter<'member'>
  healthChecks: Counter<'member' | 'result'>
  members: Gauge
  healthyMembers: Gauge
  membershipErrors: Counter
  forget(member: Member): void
}

export function endpointMetrics(registry: Registry): EndpointMetrics {
  const registers = [registry]
  const requests = new Counter({
    name: 'kinesis_endpoint_requests_total',
    help: 'Proxied requests by member and response status (member "none": no healthy member)',
    labelNames: ['member', 'status'] as const,
    registers,
  })
  const proxyDuration = new Histogram({
    name: 'kinesis_endpoint_proxy_duration_seconds',
    help: 'Time from a request reaching the endpoint to the member response headers (or the proxy error)',
    labelNames: ['member'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  })
  const memberHealthy = new Gauge({
    name: 'kinesis_endpoint_member_healthy',
    help: '1 when the member receives traffic, 0 when it is new or ejected',
    labelNames: ['member'] as const,
    registers,
  })
  const ejections = new Counter({
    name: 'kinesis_endpoint_ejections_total',
    help: 'Members ejected after UNHEALTHY_THRESHOLD failed health checks in a row',
    labelNames: ['member'] as const,
    registers,
  })
  const fleetRemovals = new Counter({
    name: 'kinesis_endpoint_fleet_removals_total',
    help: 'Members removed from fleet membership after REMOVE_UNHEALTHY_AFTER_MS without a passing check',
    labelNames: ['member'] as const,
    registers,
  })
  const healthChecks = new Counter({
    name: 'kinesis_endpoint_health_checks_total',
    help: 'Active health checks by member and result (pass|fail)',
    labelNames: ['member', 'result'] as const,
    registers,
  })
  const members = new Gauge({ name: 'kinesis_endpoint_members', help: 'Members known to the endpoint', registers })
  const healthyMembers = new Gauge({ name: 'kinesis_endpoint_healthy_members', help: 'Members currently receiving traffic', registers })
  const membershipErrors = new Counter({ name: 'kinesis_endpoint_membership_errors_total', help: 'Failed membership polls of the metadata service', registers })
  return {
    requests,
    proxyDuration,
    memberHealthy,
    ejections,
    fleetRemovals,
    healthChecks,
    members,
    healthyMembers,
    membershipErrors,
    forget(member) {
      memberHealthy.remove({ member: member.id })
      // Request and ejection counters stay: a removed member's history still belongs to the run.
    },
  }
}
