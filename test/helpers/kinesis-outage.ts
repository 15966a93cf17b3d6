// A real Kinesis that a test can break the way it broke on 2020-11-25, for the downstream services'
// tests: metadata, two back-ends, a small front-end fleet under a real thread limit (a pids cgroup
// where the machine gives one, else the front-ends' own cap) and its endpoint, booted by the local
// backend from dist/. break() adds capacity until every front-end's shard-map is broken (the data
// plane answers 500); heal() removes it and restarts the fleet at a pace, as AWS did.
import fs from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { localPlatform, type StartedLocalTopology } from '../../harness/platform/local/index.js'
import { PACKAGE_ROOT } from '../../harness/platform/paths.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { eventually } from './eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const entries = ['metadata', 'backend', 'frontend', 'endpoint'].map((s) => path.join(PACKAGE_ROOT, 'dist/services/kinesis', s, 'main.js'))
const missing = entries.filter((e) => !fs.existsSync(e))

/** Pass as a test's `skip` option: why a real Kinesis cannot run here, or false. */
export const kinesisOutageSkip: string | false = missing.length
  ? `the Kinesis services are not built (${missing.map((m) => path.relative(PACKAGE_ROOT, m)).join(', ')}): run npx tsc -p .`
  : false

export interface KinesisOutage {
  /** The main fleet's load balancer: give it to services as KINESIS_ENDPOINT, to the SDK as `endpoint`. */
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  topo: StartedLocalTopology
  /** Adds front-ends past the thread limit; resolves once every member's shard-map is broken. */
  break(): Promise<{ atMs: number }>
  /** Removes the capacity and restarts the fleet one member at a time; resolves once Kinesis serves again. */
  heal(): Promise<{ atMs: number }>
  /** Every front-end's shard_map_state. */
  states(): Promise<string[]>
}

// A front-end runs ~11 threads plus one per peer. With a limit of 15, a fleet of 2 (12 threads)
// has room to spare for the odd extra thread a loaded machine shows, and 7 members (17) do not fit.
const HEALTHY = 2
const BROKEN = 7
const LIMIT = 15

export async function startKinesisOutage(t: Tap.Test, opts: { runDir?: string } = {}): Promise<KinesisOutage> {
  const topo = await localPlatform.start(kinesisTopology({ frontends: HEALTHY, threadLimit: LIMIT, bootstrap: 'metadata' }), {
    runDir: opts.runDir ?? t.testdir(),
    signals: false,
  })
  t.teardown(() => topo.stop())
  const e = topo.endpoints()
  const started = Date.now()
  const states = async () =>
    (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-')).map((h) => String(h.body?.shard_map_state ?? 'unreachable'))
  return {
    endpoint: e.kinesis!,
    region: e.region,
    credentials: e.credentials,
    topo,
    states,
    async break() {
      await topo.scaleFleet('main', BROKEN)
      await eventually(
        async () => {
          const s = await states()
          return s.length === BROKEN && s.every((x) => x === 'broken')
        },
        { what: 'every front-end broken', timeoutMs: 60_000, intervalMs: 250 },
      )
      return { atMs: Date.now() - started }
    },
    async heal() {
      await topo.scaleFleet('main', HEALTHY)
      await topo.restartFleet('main', { ratePerSec: 1 })
      await eventually(
        async () => {
          const s = await states()
          if (!(s.length === HEALTHY && s.every((x) => x === 'ready'))) return false
          const res = await request(`${e.kinesis}/health`).catch(() => undefined)
          const body: any = res ? await res.body.json().catch(() => ({})) : {}
          return (body.healthyMembers ?? 0) >= HEALTHY
        },
        { what: 'every front-end ready and the endpoint routing', timeoutMs: 60_000, intervalMs: 250 },
      )
      return { atMs: Date.now() - started }
    },
  }
}
