// From an experiment's `topology:` to the topology as data: the fleets and their limits, the
// remediation switches as each service's env. Simulated hours become run time through timeScale.
import type { Experiment } from '../experiment/types.js'
import { systemTopology } from '../topology/system.js'
import { shardRetentionAt } from '../topology/model.js'
import type { Topology } from '../topology/model.js'

export function topologyOf(exp: Experiment): Topology {
  const t = exp.topology
  const main = t.fleets.main
  const cw = t.switches.cloudwatch
  const partitioned = cw.partitionedFleet ? t.fleets.cloudwatch : undefined
  return systemTopology({
    frontends: main.frontends,
    threadLimit: main.threadLimit,
    backends: t.backends,
    learnDelayMs: main.learnDelayMs,
    removeUnhealthyAfterMs: main.removeUnhealthyAfterMs,
    bootstrap: main.bootstrap,
    seed: exp.seed,
    shardRetentionMs: shardRetentionAt(exp.timeScale),
    // Cells of a fixed size: a capacity addition adds cells instead of growing every member's work.
    ...(main.cells > 1 ? { cellSize: Math.ceil(main.frontends / main.cells) } : {}),
    ...(t.shardMapCache ? { shardMapCacheFleet: true } : {}),
    services: t.services,
    switches: {
      cognito: { sustainKinesisErrors: t.switches.cognito.sustainKinesisErrors, bufferRecords: t.switches.cognito.bufferRecords },
      cloudwatch: {
        localStore: cw.localStore,
        localStoreRetentionMs: Math.round(cw.localStoreHours * exp.timeScale * 1000),
        partitionedFleet: !!partitioned,
      },
      lambda: { boundedAgentBuffer: t.switches.lambda.boundedAgentBuffer, ...lambdaHost(exp) },
    },
    ...(partitioned ? { partitionedFleet: { frontends: partitioned.frontends, threadLimit: partitioned.threadLimit } } : {}),
    customers: t.customers,
  })
}

// In 2020 Lambda's invocation errors began about an hour after CloudWatch's (06:15 vs 05:15): the
// time the metrics agent's growing buffer took to crowd invocations out of the host's memory. The
// simulated host is sized so that the experiment's own invocation rate fills it in one simulated
// hour (timeScale seconds): each invocation leaves its share of logs in the agent's buffer.
export const LAMBDA_HOST_MB = 16
export const LAMBDA_INVOCATION_MB = 2

export function lambdaHost(exp: Experiment): { hostMemoryMb: number; invocationMemoryMb: number; logBytesPerInvocation: number } {
  const rate = exp.workload.rates.lambdaInvoke || 1
  const free = (LAMBDA_HOST_MB - LAMBDA_INVOCATION_MB) * 1024 * 1024
  return {
    hostMemoryMb: LAMBDA_HOST_MB,
    invocationMemoryMb: LAMBDA_INVOCATION_MB,
    logBytesPerInvocation: Math.max(1024, Math.round(free / (rate * exp.timeScale))),
  }
}

/**
 * The most members each fleet will have during the run: its size, or the largest target of a
 * scale-fleet action (method or rollback). The compose backend creates that many replicas up
 * front so that the capacity addition starts containers rather than running compose.
 */
export function fleetPeaks(exp: Experiment, topology: Topology): Record<string, number> {
  const peaks: Record<string, number> = Object.fromEntries(topology.fleets.map((f) => [f.name, f.count]))
  for (const a of [...exp.method, ...exp.rollbacks]) {
    if (a.type === 'action' && a.args.provider === 'scale-fleet') peaks[a.args.fleet] = Math.max(peaks[a.args.fleet] ?? 0, a.args.to)
  }
  return peaks
}
