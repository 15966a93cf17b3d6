// The shard-map's Prometheus series, on the service's registry. Gauges are read at scrape time
// from stats(), so /metrics and /health can never disagree.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { THREAD_LIMIT_ENFORCEMENTS } from '../../../kit/outage-facts.js'
import type { ShardMapState, ShardMapStats } from './types.js'

const STATES: ShardMapState[] = ['building', 'ready', 'broken']

export interface ShardMapMetrics {
  threadCreateFailures: Counter
  fleetRemovals: Counter
  peerBootstrapSeconds: Histogram
}

export function registerShardMapMetrics(registry: Registry, stats: () => ShardMapStats): ShardMapMetrics {
  const registers = [registry]
  const gauge = (name: string, help: string, read: (s: ShardMapStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(stats()))
      },
    })
  gauge('kinesis_frontend_threads', 'OS threads of this process (/proc/self/task)', (s) => s.threads)
  gauge('kinesis_frontend_thread_limit', 'Thread limit in force (pids.max under cgroup/docker, else THREAD_LIMIT)', (s) =>
    Number.isFinite(s.threadLimit) ? s.threadLimit : -1,
  )
  gauge('kinesis_frontend_peer_threads', 'Live peer threads (one worker_thread per learned peer)', (s) => s.peerThreads)
  gauge('kinesis_frontend_peers', 'Peers learned by the shard-map (kept until restart)', (s) => s.peers)
  gauge('kinesis_frontend_pending_peers', 'Members seen but still inside their learn delay', (s) => s.pendingPeers)
  gauge('kinesis_frontend_shard_map_version', 'Metadata version the shard-map was built from', (s) => s.version)
  new Gauge({
    name: 'kinesis_frontend_shard_map_state',
    help: 'Shard-map state: 1 for the current one',
    labelNames: ['state'],
    registers,
    collect() {
      const now = stats().state
      for (const s of STATES) this.set({ state: s }, s === now ? 1 : 0)
    },
  })
  new Gauge({
    name: 'kinesis_frontend_thread_limit_enforcement',
    help: 'Who enforces the thread limit: 1 for the one in force (cgroup, docker or process)',
    labelNames: ['enforcement'],
    registers,
    collect() {
      const now = stats().enforcement
      for (const e of THREAD_LIMIT_ENFORCEMENTS) this.set({ enforcement: e }, e === now ? 1 : 0)
    },
  })
  return {
    threadCreateFailures: new Counter({ name: 'kinesis_frontend_thread_create_failures_total', help: 'Peer threads that could not be created', registers }),
    fleetRemovals: new Counter({
      name: 'kinesis_frontend_fleet_removals_total',
      help: 'Times this member found itself removed from fleet membership and rejoined with a fresh bootstrap',
      registers,
    }),
    peerBootstrapSeconds: new Histogram({
      name: 'kinesis_frontend_peer_bootstrap_seconds',
      help: "Time a peer thread took to fetch and process one peer's whole shard-map (bootstrap from peers)",
      labelNames: ['phase'],
      buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  }
}
