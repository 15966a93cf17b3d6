// Boot time of the whole system (the Kinesis part and every downstream service of systemTopology)
// on the compose backend, beside the same topology on the local backend, boots alternating
// (local, compose, local, compose...) so both see the same machine.
//   make image && npx tsc -p . && node dist/bench/compose-boot.js [--record] [--frontends 6] [--reps 3]
// Per boot, from the start of start():
//   started    start() resolved: every service answered /health 200 in dependency order through its
//              address (compose: the port published on 127.0.0.1) and the endpoint routes;
//   converged  every front-end's shard-map 'ready' with N-1 live peer threads;
//   stopped    how long stop() took (compose: `down` and the check that nothing is left).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { systemTopology, DOWNSTREAM } from '../harness/topology/system.js'
import { localPlatform } from '../harness/platform/local/index.js'
import { PACKAGE_ROOT } from '../harness/platform/paths.js'
import { composePlatform } from '../harness/platform/compose/index.js'
import { detectDocker } from '../harness/platform/compose/engine.js'
import type { StartedTopology } from '../harness/platform/started.js'
import { Cleanup } from './lib/cleanup.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table } from './lib/markdown.js'
import { recordSection } from './lib/results.js'
import { median } from './lib/procfs.js'

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    frontends: { type: 'string', default: '6' },
    reps: { type: 'string', default: '3' },
    'thread-limit': { type: 'string', default: '64' },
    'timeout-s': { type: 'string', default: '240' },
    image: { type: 'string', default: 'outage-lab:latest' },
  },
})
const N = Number(args.frontends)
const REPS = Number(args.reps)
const TIMEOUT_MS = Number(args['timeout-s']) * 1000

type Backend = 'local' | 'compose'
interface Boot {
  backend: Backend
  startedMs: number
  convergedMs: number
  stoppedMs: number
  load: string
}

async function converged(topo: StartedTopology, deadline: number): Promise<boolean> {
  while (performance.now() < deadline) {
    const fes = (await topo.health()).filter((h) => h.name.startsWith('kinesis-frontend-'))
    if (fes.length === N && fes.every((h) => h.body?.shard_map_state === 'ready' && h.body?.peer_threads === N - 1)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

async function boot(backend: Backend, cleanup: Cleanup): Promise<Boot> {
  const topology = systemTopology({ frontends: N, threadLimit: Number(args['thread-limit']) })
  const parent = path.join(PACKAGE_ROOT, '.outage-lab', 'bench-runs')
  fs.mkdirSync(parent, { recursive: true })
  const runDir = fs.mkdtempSync(path.join(parent, `${backend}-`))
  const common = { runDir, signals: false, signal: cleanup.signal }
  const t0 = performance.now()
  const topo: StartedTopology =
    backend === 'local' ? await localPlatform.start(topology, common) : await composePlatform.start(topology, { ...common, image: args.image, keepLogs: false })
  const startedMs = performance.now() - t0
  cleanup.add('topology', () => topo.stop())
  const ok = await converged(topo, t0 + TIMEOUT_MS)
  const convergedMs = ok ? performance.now() - t0 : NaN
  const s0 = performance.now()
  await cleanup.stopOne('topology')
  const stoppedMs = performance.now() - s0
  fs.rmSync(runDir, { recursive: true, force: true })
  return { backend, startedMs, convergedMs, stoppedMs, load: loadNow() }
}

const cleanup = new Cleanup()
const m = machine()
const began = performance.now()
try {
  const docker = await detectDocker()
  if (!docker.ok) throw new Error(`compose-boot needs Docker: ${docker.reason}`)
  console.log(`compose-boot: ${describeMachine(m)}; Docker ${docker.engineVersion}, compose ${docker.compose} ${docker.composeVersion}`)
  const boots: Boot[] = []
  for (let rep = 1; rep <= REPS; rep++) {
    for (const backend of ['local', 'compose'] as const) {
      const b = await boot(backend, cleanup)
      boots.push(b)
      process.stderr.write(
        `  ${backend} boot ${rep}: started ${(b.startedMs / 1000).toFixed(2)} s, converged ${(b.convergedMs / 1000).toFixed(2)} s, stopped in ${(b.stoppedMs / 1000).toFixed(2)} s (load ${b.load})\n`,
      )
      if (cleanup.signal.aborted) throw new Error('interrupted')
    }
  }
  const s = (x: number) => (Number.isFinite(x) ? (x / 1000).toFixed(2) : 'timed out')
  const rows = boots.map((b, i) => [Math.floor(i / 2) + 1, b.backend, s(b.startedMs), s(b.convergedMs), s(b.stoppedMs), b.load])
  for (const backend of ['local', 'compose'] as const) {
    const mine = boots.filter((b) => b.backend === backend)
    rows.push([
      `**median**`,
      `**${backend}**`,
      `**${s(median(mine.map((b) => b.startedMs)))}**`,
      s(median(mine.map((b) => b.convergedMs))),
      s(median(mine.map((b) => b.stoppedMs))),
      '',
    ])
  }
  const services = 1 + 2 + N + 1 + DOWNSTREAM.length
  const body = [
    '## compose-boot',
    '',
    `Machine: ${describeMachine(m)}; Docker ${docker.engineVersion}, compose ${docker.compose} ${docker.composeVersion}; load average at the end ${loadNow()}. Wall time ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    '',
    `Each boot: \`systemTopology\` (the whole system: metadata, 2 back-ends, ${N} front-ends, the endpoint and ${DOWNSTREAM.join(', ')}; ${services} services), ` +
      `thread limit ${args['thread-limit']}, bootstrap from peers, booted by \`localPlatform.start()\` or \`ComposeBackend.start()\` (image ${args.image}; ` +
      "compose creates every container with one `up --no-start`, starts the first wave with `up` through DockerComposeEnvironment and the later waves through the engine's API and waits on each one's /health through its published port), then a full stop; " +
      'local and compose boots alternate. *start() resolved* = every service answered /health 200 in dependency order and the endpoint admitted a member; ' +
      `*all shard-maps ready* = every front-end reports shard_map_state \`ready\` with ${N - 1} peer threads; *stop()* = teardown (compose: \`down\`, then the check that no container or network of the project is left).`,
    '',
    table(['boot', 'backend', 'start() resolved s', 'all shard-maps ready s', 'stop() s', 'load average after'], rows),
  ].join('\n')
  console.log(`\n${body}\n`)
  if (args.record) {
    recordSection('compose-boot', body)
    console.log('recorded in bench/RESULTS.md')
  }
} catch (err) {
  cleanup.failed = true
  process.exitCode = 1
  console.error(`compose-boot failed: ${(err as Error).stack ?? err}`)
} finally {
  await cleanup.run()
}
