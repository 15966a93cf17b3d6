// Boots the outage-lab Kinesis topology for a benchmark exactly as `outage-lab up` does (the local
// backend, pids cgroups when the OS has them), with its run directory under the checkout's
// .outage-lab/ as `up` has it (a disk with real fsync; a tmpfs /tmp would make fsync free). When
// the benchmark's cleanup runs the topology stops and its directory goes, except the logs of a
// failed run.
import fs from 'node:fs'
import path from 'node:path'
import { kinesisTopology, type KinesisTopologyOptions } from '../../harness/topology/model.js'
import { localPlatform, type StartedLocalTopology, type LocalContext } from '../../harness/platform/local/index.js'
import { PACKAGE_ROOT } from '../../harness/platform/paths.js'
import type { Cleanup } from './cleanup.js'

export interface BenchTopology {
  topo: StartedLocalTopology
  /** Wall time of localPlatform.start() alone: what `outage-lab up` waits before it says ready. */
  startMs: number
}

export async function startOutageLab(opts: KinesisTopologyOptions, cleanup: Cleanup, extra: Partial<LocalContext> = {}): Promise<BenchTopology> {
  const parent = path.join(PACKAGE_ROOT, '.outage-lab', 'bench-runs')
  fs.mkdirSync(parent, { recursive: true })
  const runDir = fs.mkdtempSync(path.join(parent, 'run-'))
  const removeDir = () => {
    if (cleanup.failed) {
      fs.rmSync(path.join(runDir, 'data'), { recursive: true, force: true })
      process.stderr.write(`logs of the failed run kept in ${path.join(runDir, 'logs')}\n`)
    } else {
      fs.rmSync(runDir, { recursive: true, force: true })
    }
  }
  const context: LocalContext = {
    runDir,
    // The benchmark's Cleanup owns Ctrl-C; an abort during boot stops what had started.
    signals: false,
    signal: cleanup.signal,
    ...extra,
  }
  let started: StartedLocalTopology
  const t0 = performance.now()
  try {
    started = await localPlatform.start(kinesisTopology(opts), context)
  } catch (err) {
    cleanup.failed = true
    removeDir()
    throw err
  }
  cleanup.add('outage-lab topology', async () => {
    await started.stop()
    removeDir()
  })
  return { topo: started, startMs: performance.now() - t0 }
}
