// The topology commands of the CLI: `up` (boot the Kinesis topology and keep it running, with a
// control API), and `scale` / `restart` (talk to that control API through the endpoints file).
import path from 'node:path'
import fs from 'node:fs'
import { Command, Option } from 'commander'
import { kinesisTopology, MAX_FLEET_SIZE, type Bootstrap } from '../topology/model.js'
import { LocalBackend, type StartedLocalTopology } from '../topology/local.js'
import { BootAborted, MissingProgram, ServiceNotReady, InvalidTopology } from '../topology/errors.js'
import type { TopologyEvent } from '../topology/started.js'
import { startControlServer } from './server.js'
import { ControlClient, ControlError } from './client.js'
import { DEFAULT_ENDPOINTS_FILE, endpointsFileContent, readEndpointsFile, writeEndpointsFile, EndpointsFileError } from './endpoints-file.js'
import { EXIT, UsageError, integer, choice, rate, fleetName, say } from './cli-support.js'

interface UpOptions {
  frontends: number
  threadLimit: number
  backends: number
  learnDelay: number
  bootstrap: Bootstrap
  seed: number
  endpointsFile: string
  runDir?: string
  controlPort: number
  cgroups: boolean
}

export function registerUp(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('up')
    .description('boot the Kinesis topology (metadata, back-ends, the main front-end fleet, its endpoint) and keep it running until Ctrl-C')
    .requiredOption('--frontends <n>', 'front-ends in the main fleet', integer(1, MAX_FLEET_SIZE))
    .requiredOption('--thread-limit <n>', 'OS thread limit of each front-end (pids.max)', integer(1, 100_000))
    .option('--backends <n>', 'back-end (shard storage) processes', integer(1, 64), 2)
    .option('--learn-delay <ms>', 'upper bound of the seeded delay before a front-end starts a thread for a new peer', integer(0, 86_400_000), 0)
    .addOption(new Option('--bootstrap <source>', 'where a starting front-end builds its shard-map').argParser(choice(['peers', 'metadata'] as const)).default('peers'))
    .option('--seed <n>', 'seed for every random choice', integer(0), 1)
    .option('--endpoints-file <file>', 'where to write the service URLs, control API and credentials as JSON', DEFAULT_ENDPOINTS_FILE)
    .option('--run-dir <dir>', 'logs and data of the run (default .outage-lab/runs/<run id>)')
    .option('--control-port <port>', 'port of the control API on 127.0.0.1 (0: any free port)', integer(0, 65535), 0)
    .option('--no-cgroups', 'do not use pids cgroups (front-ends cap their own threads)')
    .action((opts: UpOptions) => run(up(opts)))
}

function describeEvent(e: TopologyEvent): string | undefined {
  const d = e.detail as any
  switch (e.kind) {
    case 'service-ready':
      return `  ready     ${d.name} (pid ${d.pid})`
    case 'service-exited':
      return `  exited    ${d.name} (pid ${d.pid}, ${d.signal ?? `code ${d.code}`})`
    case 'fleet-scaled':
      return `  scaled    fleet ${d.fleet} ${d.from} -> ${d.to}${d.notReady.length ? `; not ready: ${d.notReady.map((n: any) => n.name).join(', ')}` : ''}`
    case 'fleet-restarted':
      return `  restarted fleet ${d.fleet}: ${d.restarted.length} members in ${d.durationMs} ms${d.notReady.length ? `; not ready: ${d.notReady.map((n: any) => n.name).join(', ')}` : ''}`
    case 'member-killed':
    case 'member-paused':
    case 'member-resumed':
      return `  ${e.kind.slice(7).padEnd(9)} ${d.name} (pid ${d.pid})`
    case 'cgroups':
      return d.removedStale ? `  removed stale cgroups: ${d.removedStale.join(', ')}` : undefined
    default:
      return undefined
  }
}

async function up(opts: UpOptions): Promise<number> {
  let topology
  try {
    topology = kinesisTopology({ frontends: opts.frontends, threadLimit: opts.threadLimit, backends: opts.backends, learnDelayMs: opts.learnDelay, bootstrap: opts.bootstrap, seed: opts.seed })
  } catch (err) {
    if (err instanceof InvalidTopology) throw new UsageError(err.message)
    throw err
  }
  const booting = new AbortController()
  let started: StartedLocalTopology | undefined
  let interrupted: NodeJS.Signals | undefined
  let stopRequested: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve))
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      // A second Ctrl-C: do not wait for graceful closes.
      say('stopping now (SIGKILL)')
      process.exit(EXIT.interrupted)
    }
    interrupted = signal
    say(`\n${signal}: stopping the topology...`)
    booting.abort()
    stopRequested()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const backend = new LocalBackend(topology, {
    runDir: opts.runDir,
    cgroups: opts.cgroups,
    signals: false,
    signal: booting.signal,
    onEvent: (e) => {
      const line = describeEvent(e)
      if (line) say(line)
    },
  })
  say(`outage-lab up: ${opts.frontends} front-ends, thread limit ${opts.threadLimit}, bootstrap from ${opts.bootstrap}, learn delay ${opts.learnDelay} ms`)
  try {
    started = await backend.start()
  } catch (err) {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    if (err instanceof BootAborted) {
      say('boot interrupted; everything that had started is stopped')
      return interrupted === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted
    }
    if (err instanceof MissingProgram || err instanceof ServiceNotReady) {
      say(`outage-lab up: ${err.message}`)
      return EXIT.failed
    }
    throw err
  }

  const topo = started
  const endpointsFile = path.resolve(opts.endpointsFile)
  const control = await startControlServer({
    topology: topo,
    token: topo.adminToken,
    onChange: () => writeEndpointsFile(endpointsFile, content()),
  })
  const content = () => endpointsFileContent(topo.endpoints(), { pid: process.pid, runDir: topo.runDir, control: { url: control.url, token: topo.adminToken }, threadLimitEnforcement: topo.threadLimitEnforcement })
  writeEndpointsFile(endpointsFile, content())

  const e = topo.endpoints()
  const rel = (p: string) => {
    const r = path.relative(process.cwd(), p)
    return r && !r.startsWith('..') ? r : p
  }
  const lines = [
    '',
    `run ${topo.runId} is up; logs in ${rel(path.join(topo.runDir, 'logs'))}`,
    `  Kinesis endpoint (AWS SDK): ${e.kinesis}  region ${e.region}  credentials ${e.credentials.accessKeyId} / ${e.credentials.secretAccessKey}`,
    `  thread limit ${opts.threadLimit} per front-end, enforced by ${topo.threadLimitEnforcement === 'cgroup' ? `cgroup pids.max (${topo.cgroupDir})` : topo.threadLimitEnforcement}`,
    ...(topo.enforcementNote ? [`  note: ${topo.enforcementNote}`] : []),
    `  control API: ${control.url} (token in ${rel(endpointsFile)})`,
    `  endpoints file: ${rel(endpointsFile)}`,
    `  try: outage-lab scale --fleet main --to ${opts.frontends + 1}    outage-lab restart --fleet main --rate 2`,
    'Ctrl-C stops everything.',
  ]
  for (const line of lines) say(line)
  if (interrupted) stopRequested()

  await stopped
  await control.app.close()
  await topo.stop()
  fs.rmSync(endpointsFile, { force: true })
  say('stopped; nothing left running')
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  return interrupted === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted
}

function clientFrom(file: string): ControlClient {
  try {
    const e = readEndpointsFile(file)
    return new ControlClient(e.control.url, e.control.token)
  } catch (err) {
    if (err instanceof EndpointsFileError) throw new UsageError(`--endpoints-file: ${err.message}`)
    throw err
  }
}

function controlFailure(err: unknown): number {
  if (err instanceof ControlError) {
    say(`outage-lab: ${err.type}: ${err.message}`)
    return err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? EXIT.badInput : EXIT.failed
  }
  throw err
}

function printResult(result: any, json: boolean, human: string[]): void {
  if (json) process.stdout.write(JSON.stringify(result) + '\n')
  else for (const line of human) process.stdout.write(line + '\n')
}

export function registerScale(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('scale')
    .description('scale a fleet of the running topology (`outage-lab up`) to N members')
    .requiredOption('--fleet <name>', 'the fleet', fleetName)
    .requiredOption('--to <n>', 'the new number of members', integer(0, MAX_FLEET_SIZE))
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--json', 'print the result as JSON')
    .action((opts: { fleet: string; to: number; endpointsFile: string; json?: boolean }) =>
      run(
        (async () => {
          const client = clientFrom(opts.endpointsFile)
          try {
            const r = await client.scale(opts.fleet, opts.to)
            printResult(r, !!opts.json, [
              `fleet ${r.fleet}: ${r.from} -> ${r.to}`,
              ...(r.added.length ? [`  added: ${r.added.join(', ')}`] : []),
              ...(r.removed.length ? [`  removed: ${r.removed.join(', ')}`] : []),
              ...r.notReady.map((n: any) => `  not ready: ${n.name}: ${n.reason}`),
            ])
            return EXIT.ok
          } catch (err) {
            return controlFailure(err)
          }
        })(),
      ),
    )
}

export function registerRestart(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('restart')
    .description('restart every member of a fleet at a pace (members per second) or all at once; each keeps its id and port')
    .requiredOption('--fleet <name>', 'the fleet', fleetName)
    .requiredOption('--rate <r>', 'members per second, or "all"', rate)
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--json', 'print the result as JSON')
    .action((opts: { fleet: string; rate: number | 'all'; endpointsFile: string; json?: boolean }) =>
      run(
        (async () => {
          const client = clientFrom(opts.endpointsFile)
          try {
            const r = await client.restart(opts.fleet, opts.rate)
            printResult(r, !!opts.json, [
              `fleet ${r.fleet}: restarted ${r.restarted.length} members in ${r.durationMs} ms`,
              ...r.notReady.map((n: any) => `  not ready: ${n.name}: ${n.reason}`),
            ])
            return EXIT.ok
          } catch (err) {
            return controlFailure(err)
          }
        })(),
      ),
    )
}
