// From an experiment's `topology:` to the topology as data: the fleets and their limits, the
// remediation switches as each service's env. Simulated hours become run time through timeScale.
import type { Experiment } from '../experiment/types.js'
import { systemTopology } from '../topology/system.js'
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
    bootstrap: main.bootstrap,
    seed: exp.seed,
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
      lambda: { boundedAgentBuffer: t.switches.lambda.boundedAgentBuffer },
    },
    ...(partitioned ? { partitionedFleet: { frontends: partitioned.frontends, threadLimit: partitioned.threadLimit } } : {}),
  })
}
