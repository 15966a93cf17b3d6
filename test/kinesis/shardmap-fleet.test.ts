// The outage's root cause with real parts: a fleet of real processes (the shard-map dev host),
// each in its own real pids cgroup, real metadata, one real OS thread per peer. Growing the fleet
// past (N - 1) + B > L breaks every member with the kernel's EAGAIN; shrinking it back does not
// heal them; restarting a process does.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { INTERNAL, spawnService, type Spawned } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

const HOST = 'services/kinesis/frontend/shardmap/dev-host.js'
const CG_ROOT = `/sys/fs/cgroup/pids/outage-lab-test-${process.pid}`
const LEARN_DELAY_MS = 1500

const cgroupReason = (() => {
  try {
    fs.mkdirSync(CG_ROOT)
    return undefined
  } catch (err) {
    return `cannot create a pids cgroup (${(err as Error).message}): needs root and cgroup v1 pids at /sys/fs/cgroup/pids`
  }
})()
if (!cgroupReason) {
  // rmdir only succeeds once every process of the cgroup is gone; the fleet teardown runs first.
  t.teardown(() => {
    for (const d of fs.readdirSync(CG_ROOT, { withFileTypes: true })) if (d.isDirectory()) rmdirQuiet(path.join(CG_ROOT, d.name))
    rmdirQuiet(CG_ROOT)
  })
}

function rmdirQuiet(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    }
  }
}

async function json(url: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as any,
    headers: init.body === undefined ? INTERNAL : { ...INTERNAL, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined }
}

const health = async (fe: Spawned) => (await json(`${fe.url}/health`)).body

/** A metadata process with one back-end and one stream: something for the shard-map to hold. */
async function startMetadata(t: Tap.Test): Promise<Spawned> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-shardmap-'))
  const md = await spawnService('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir })
  t.teardown(async () => {
    await md.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  t.equal((await json(`${md.url}/backends/backend-a`, { method: 'PUT', body: { url: 'http://127.0.0.1:9' } })).status, 200)
  t.equal((await json(`${md.url}/streams`, { method: 'POST', body: { name: 'orders', shardCount: 8 } })).status, 201)
  return md
}

interface Fleet {
  start(id: string): Promise<Spawned>
  stop(id: string): Promise<void>
  members: Map<string, Spawned>
}

function fleet(t: Tap.Test, md: Spawned, env: Record<string, string>, opts: { pidsMax?: number } = {}): Fleet {
  const members = new Map<string, Spawned>()
  t.teardown(async () => {
    await Promise.all([...members.values()].map((m) => m.stop()))
  })
  return {
    members,
    async start(id) {
      // tap's process-info hook adds NODE_OPTIONS=--import=... to every child, and on Node 20 a
      // module hook runs on a thread of its own: a front-end the harness starts has no such thread,
      // so the host is started without it (or B would be one higher and unsteady).
      let wrap = (argv: string[]) => ['sh', '-c', 'unset NODE_OPTIONS; exec "$@"', 'sh', ...argv]
      if (opts.pidsMax !== undefined) {
        // The process joins its cgroup before node starts any thread: sh writes its own pid, then
        // execs node in place (same pid).
        const cg = path.join(CG_ROOT, `${env.FLEET}-${id}`)
        fs.mkdirSync(cg, { recursive: true })
        fs.writeFileSync(path.join(cg, 'pids.max'), String(opts.pidsMax))
        wrap = (argv) => ['sh', '-c', 'unset NODE_OPTIONS; echo $$ > "$0/cgroup.procs" && exec "$@"', cg, ...argv]
      }
      const fe = await spawnService(HOST, { FRONTEND_ID: id, METADATA_URL: md.url, LOG_LEVEL: 'info', ...env }, { wrap })
      members.set(id, fe)
      return fe
    },
    async stop(id) {
      await members.get(id)?.stop()
      members.delete(id)
    },
  }
}

const ENV = {
  BOOTSTRAP: 'peers',
  LEARN_DELAY_MS: String(LEARN_DELAY_MS),
  MEMBERSHIP_POLL_MS: '200',
  PEER_HEARTBEAT_MS: '300',
  SHARD_MAP_RETRY_MS: '300',
  OUTAGE_LAB_SEED: '7',
}

/** Threads of an idle dev host (B): measured on a lone member, never assumed. */
async function measureBase(t: Tap.Test, md: Spawned): Promise<number> {
  const f = fleet(t, md, { ...ENV, FLEET: 'probe', THREAD_LIMIT_ENFORCEMENT: 'process', THREAD_LIMIT: '1000' })
  const fe = await f.start('probe-1')
  const h = await eventually(() => health(fe), {
    what: 'the probe to be ready',
    timeoutMs: 20_000,
    intervalMs: 100,
    until: (h) => h.shard_map_state === 'ready',
  })
  await f.stop('probe-1')
  t.equal(h.peer_threads, 0, 'a fleet of one has no peer threads')
  return h.threads
}

t.test(
  'a fleet past its pids.max breaks on every member with EAGAIN, stays broken after the capacity is removed, and a restart heals',
  { skip: cgroupReason },
  async (t) => {
    const md = await startMetadata(t)
    const base = await measureBase(t, md)
    const N = 4
    const limit = base + (N - 1) // exactly room for N-1 peer threads
    t.comment(`base threads B=${base}, pids.max L=${limit}: a fleet of ${N} fits, ${N + 1} does not ((N-1)+B > L)`)
    const f = fleet(t, md, { ...ENV, FLEET: 'cg', THREAD_LIMIT_ENFORCEMENT: 'cgroup', THREAD_LIMIT: '9999' }, { pidsMax: limit })
    const ids = Array.from({ length: N }, (_, i) => `fe-${i + 1}`)
    for (const id of ids) await f.start(id)

    for (const id of ids) {
      const h = await eventually(() => health(f.members.get(id)!), {
        what: `${id} ready with ${N - 1} peer threads`,
        timeoutMs: 15_000,
        intervalMs: 100,
        until: (h) => h.shard_map_state === 'ready' && h.peer_threads === N - 1,
      })
      t.equal(h.thread_limit_enforcement, 'cgroup', `${id} reports the cgroup as the enforcer`)
      t.equal(h.thread_limit, limit, `${id} reports pids.max, not THREAD_LIMIT`)
      t.ok(h.threads <= limit, `${id} runs ${h.threads} threads under pids.max ${limit}`)
      t.equal((await json(`${f.members.get(id)!.url}/dev/require-usable`)).status, 200, `${id} serves`)
    }

    // The trigger: a small capacity addition. fe-5 knows everyone at once (its initial snapshot);
    // the others learn it within their learn delay and each needs one thread more than it may have.
    const extra = await f.start('fe-5')
    const broken = new Map<string, any>()
    for (const [id, fe] of f.members) {
      const h = await eventually(() => health(fe), {
        what: `${id} broken`,
        timeoutMs: LEARN_DELAY_MS + 10_000,
        intervalMs: 100,
        until: (h) => h.shard_map_state === 'broken',
      })
      broken.set(id, h)
      const cause =
        id === 'fe-5'
          ? /^cannot create peer thread for fe-\d \(ERR_WORKER_INIT_FAILED EAGAIN\)$/
          : /^cannot create peer thread for fe-5 \(ERR_WORKER_INIT_FAILED EAGAIN\)$/
      t.match(h.last_error, cause, `${id} failed with the kernel's EAGAIN: ${h.last_error}`)
      t.equal(h.thread_limit_enforcement, 'cgroup')
      t.equal(h.threads, limit, `${id} sits exactly at pids.max (${limit}): a failed spawn left no half-made thread`)
      t.equal(Number(fs.readFileSync(path.join(CG_ROOT, `cg-${id}`, 'pids.current'), 'utf8')), limit, `${id}'s cgroup is full`)
      const usable = await json(`${fe.url}/dev/require-usable`)
      t.equal(usable.status, 500)
      t.same(
        usable.body,
        { __type: 'InternalFailure', message: `shard-map construction failed: ${h.last_error}` },
        `${id}'s data plane answers InternalFailure naming the cause`,
      )
    }
    t.ok(
      Number(/max (\d+)/.exec(fs.readFileSync(path.join(CG_ROOT, 'cg-fe-1', 'pids.events'), 'utf8'))?.[1]) > 0,
      'the kernel counted refused forks in pids.events',
    )

    // The operators remove the added capacity. It does not help: every server still holds fe-5
    // among its learned peers and keeps retrying construction, failing the same way.
    t.equal((await json(`${md.url}/fleets/cg/members/fe-5`, { method: 'DELETE' })).status, 200)
    await f.stop('fe-5')
    void extra
    for (const id of ids) {
      const fe = f.members.get(id)!
      const before = broken.get(id).thread_create_failures
      const h = await eventually(() => health(fe), {
        what: `${id} to retry a few times after the removal`,
        timeoutMs: 10_000,
        intervalMs: 100,
        until: (h) => h.members === N - 1 && h.thread_create_failures >= before + 3,
      })
      t.equal(h.shard_map_state, 'broken', `${id} is still broken after the capacity was removed`)
      t.same(h.stale_peers, ['fe-5'], `${id} still holds the removed member among its learned peers`)
      t.match(h.last_error, /\(ERR_WORKER_INIT_FAILED EAGAIN\)$/)
    }

    // A restart (the fleet is back under the limit) heals the restarted member, only it.
    await f.stop('fe-1')
    const again = await f.start('fe-1')
    const healed = await eventually(() => health(again), {
      what: 'the restarted fe-1 to be ready',
      timeoutMs: 15_000,
      intervalMs: 100,
      until: (h) => h.shard_map_state === 'ready',
    })
    t.equal(healed.peer_threads, N - 1, 'fe-1 has one thread per current peer')
    t.equal(healed.thread_create_failures, 0)
    t.same(healed.stale_peers, [])
    t.equal((await json(`${again.url}/dev/require-usable`)).status, 200, 'the restarted member serves again')
    for (const id of ids.slice(1)) t.equal((await health(f.members.get(id)!)).shard_map_state, 'broken', `${id}, not restarted, is still broken`)
    // The broken members' threads for fe-1 follow it to its new port (same member id).
    await eventually(() => health(f.members.get('fe-2')!), {
      what: 'fe-2 to reconnect to the restarted fe-1',
      timeoutMs: 10_000,
      intervalMs: 100,
      until: (h) => h.connected_peers === N - 1,
    })
    t.pass('fe-2 streams from all of its live peers again, still broken')
  },
)

t.test('without an OS limit, the in-process cap refuses the thread with its own code and the map breaks the same way', async (t) => {
  const md = await startMetadata(t)
  const base = await measureBase(t, md)
  const N = 3
  const limit = base + (N - 1)
  const f = fleet(t, md, { ...ENV, FLEET: 'proc', THREAD_LIMIT_ENFORCEMENT: 'process', THREAD_LIMIT: String(limit) })
  const ids = Array.from({ length: N }, (_, i) => `fe-${i + 1}`)
  for (const id of ids) await f.start(id)
  for (const id of ids) {
    const h = await eventually(() => health(f.members.get(id)!), {
      what: `${id} ready`,
      timeoutMs: 15_000,
      intervalMs: 100,
      until: (h) => h.shard_map_state === 'ready' && h.peer_threads === N - 1,
    })
    t.equal(h.thread_limit, limit, `${id} reports THREAD_LIMIT`)
    t.equal(h.thread_limit_enforcement, 'process')
  }
  await f.start('fe-4')
  for (const [id, fe] of f.members) {
    const h = await eventually(() => health(fe), {
      what: `${id} broken`,
      timeoutMs: LEARN_DELAY_MS + 10_000,
      intervalMs: 100,
      until: (h) => h.shard_map_state === 'broken',
    })
    const peer = id === 'fe-4' ? 'fe-3' : 'fe-4'
    t.equal(
      h.last_error,
      `cannot create peer thread for ${peer} (ERR_THREAD_LIMIT_PROCESS_CAP in-process thread cap: ${limit} threads + 1 would exceed THREAD_LIMIT ${limit})`,
      `${id} names the in-process cap`,
    )
    t.equal(h.threads, limit, `${id} holds ${limit} threads, not one more`)
    const usable = await json(`${fe.url}/dev/require-usable`)
    t.same(usable.body, { __type: 'InternalFailure', message: `shard-map construction failed: ${h.last_error}` })
  }
})
