// The compose platform's own tuning: each container weighted against the harness's tasks as a
// process at a niceness would be, so the customers and the observer measure the cascade, not the
// CPU queue. Applied where it means that: cgroup v1 with the cgroupfs driver, by placing every
// container's cgroup at the root (`cgroup_parent: /`) with that `cpu_shares`. Elsewhere
// containers keep the engine's placement (the returned note says which).
import type { EngineCgroups } from './engine.js'

/**
 * Containers of a measured run are weighted like host tasks at nice 0, not at the local
 * platform's 5: their starts and their published ports go through dockerd, containerd and
 * docker-proxy, host tasks at nice 0 themselves, and at a lower weight the services fell behind
 * that plumbing during the capacity addition (bench/RESULTS.md, "flagship-compose").
 */
export const MEASURED_NICE = 0

export interface CpuPlacement {
  cpu?: { cgroupParent: string; shares: number }
  note: string
}

export function cpuPlacement(nice: number, engine: EngineCgroups): CpuPlacement {
  const { driver, version } = engine
  if (driver !== 'cgroupfs' || version !== '1') {
    return {
      note: `containers keep the engine's cgroup placement (${driver || 'unknown'} driver, cgroup v${version || '?'}): not weighted like services at nice ${nice}`,
    }
  }
  const shares = niceWeight(nice)
  return {
    cpu: { cgroupParent: '/', shares },
    note: `every container at the cpu cgroup root with cpu_shares ${shares}, the weight of a process at nice ${nice} (the harness: 1024)`,
  }
}

/** The kernel's CFS weight of a task at a niceness (kernel/sched/core.c, sched_prio_to_weight). */
export function niceWeight(nice: number): number {
  const table = [
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423,
    335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
  ]
  return table[Math.min(39, Math.max(0, Math.round(nice) + 20))]
}
