// `outage-lab up`: boot the Kinesis topology on a platform (local processes by default, or compose
// containers), serve the control API, write the endpoints file, and keep everything running until
// Ctrl-C (or SIGTERM), then tear down. The control commands (scale, restart, status-page, env) talk
// to the control API only, so a game day reads the same on every platform.
// Without flags it boots the flagship experiment's topology (its fleet, thread limit, learn delay,
// back-ends and services), read from the file, so the two never drift apart.
import path from 'node:path'
import fs from 'node:fs'
import type { Bootstrap } from '../topology/model.js'
import { systemTopology, DOWNSTREAM, type Downstream } from '../topology/system.js'
import { shardRetentionAt } from '../topology/model.js'
import { DEFAULT_TIME_SCALE } from '../experiment/defaults.js'
import { customerAccessKey } from '../topology/customers.js'
import { PACKAGE_ROOT } from '../platform/paths.js'
import { DEFAULT_PLATFORM, loadPlatform } from '../platform/registry.js'
import type { PlatformContext } from '../platform/platform.js'
import { BootAborted, MissingProgram, ServiceNotReady, InvalidTopology } from '../topology/errors.js'
import type { StartedTopology, TopologyEvent } from '../platform/started.js'
import { startControlServer } from './server.js'
import { DEFAULT_ENDPOINTS_FILE, endpointsFileContent, writeEndpointsFile } from './endpoints-file.js'
import { EXIT, UsageError, say } from './cli-support.js'

export interface UpOptions {
  /** Where the services run (harness/platform/registry.ts); default local. */
  platform?: string
  /** Each left out comes from the flagship experiment (FLAGSHIP_FILE). */
  frontends?: number
  threadLimit?: number
  backends?: number
  learnDelay?: number
  bootstrap?: Bootstrap
  seed: number
  endpointsFile: string
  runDir?: string
  controlPort: number
  cgroups: boolean
  readyTimeout?: number
  /** Downstream services to run beside Kinesis (default: all of them). */
  services?: Downstream[]
  cellSize?: number
  partitionedFleet?: number
}

/** The experiment whose topology `up` boots when not told otherwise. */
export const FLAGSHIP_FILE = path.join(PACKAGE_ROOT, 'experiments', 'kinesis-2020-11-25.yaml')

/** The name of the key `up` gives the user's shell (`outage-lab env`): a caller of its own in every service's counters. */
export const SHELL_CALLER = 'shell'

export interface UpTopology {
  frontends: number
  threadLimit: number
  backends: number
  learnDelay: number
  bootstrap: Bootstrap
  services: Downstream[]
  /** Run seconds per simulated hour, the flagship's (or the default when every flag is given): it compresses Kinesis's 24 h retention as a run does. */
  timeScale: number
  /** Where the values the flags left out came from, for the banner ('' when every one was given). */
  from: string
}

/** The flags given, the rest from the flagship experiment (read, validated, like a run reads it). */
export async function upTopology(opts: UpOptions, flagshipFile = FLAGSHIP_FILE): Promise<UpTopology> {
  const given = {
    frontends: opts.frontends,
    threadLimit: opts.threadLimit,
    backends: opts.backends,
    learnDelay: opts.learnDelay,
    bootstrap: opts.bootstrap,
    services: opts.services,
  }
  if (Object.values(given).every((v) => v !== undefined))
    return { ...(given as Omit<UpTopology, 'from' | 'timeScale'>), timeScale: DEFAULT_TIME_SCALE, from: '' }
  const { loadExperiment, InvalidExperiment } = await import('../experiment/index.js')
  let flagship
  try {
    flagship = await loadExperiment(flagshipFile)
  } catch (err) {
    const why = err instanceof InvalidExperiment ? err.message : (err as Error).message
    throw new UsageError(
      `the flags left out come from the flagship experiment, which cannot be read:\n${why}\n(give --frontends and --thread-limit, or fix the file)`,
    )
  }
  const main = flagship.topology.fleets.main
  return {
    frontends: given.frontends ?? main.frontends,
    threadLimit: given.threadLimit ?? main.threadLimit,
    backends: given.backends ?? flagship.topology.backends,
    learnDelay: given.learnDelay ?? main.learnDelayMs,
    bootstrap: given.bootstrap ?? main.bootstrap,
    services: given.services ?? flagship.topology.services,
    timeScale: flagship.timeScale,
    from: path.relative(process.cwd(), flagshipFile) || flagshipFile,
  }
}

function describeEvent(e: TopologyEvent): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each event kind has its own free-form detail
  const d = e.detail as any
  switch (e.kind) {
    case 'service-ready':
      return `  ready     ${d.name} (pid ${d.pid})`
    case 'service-exited':
      return `  exited    ${d.name} (pid ${d.pid}, ${d.signal ?? `code ${d.code}`})`
    case 'fleet-scaled':
      return `  scaled    fleet ${d.fleet} ${d.from} -> ${d.to}${d.notReady.length ? `; not ready: ${d.notReady.map((n: { name: string }) => n.name).join(', ')}` : ''}`
    case 'fleet-restarted':
      return `  restarted fleet ${d.fleet}: ${d.restarted.length} members in ${d.durationMs} ms${d.notReady.length ? `; not ready: ${d.notReady.map((n: { name: string }) => n.name).join(', ')}` : ''}`
    case 'member-killed':
    case 'member-paused':
    case 'member-resumed':
      return `  ${e.kind.slice(7).padEnd(9)} ${d.name} (pid ${d.pid})`
    case 'member-replaced':
      return `  replaced  ${d.name} (pid ${d.pid}, ${d.reason})`
    case 'cgroups':
      return d.removedStale ? `  removed stale cgroups: ${d.removedStale.join(', ')}` : undefined
    case 'internal-ports':
      return d.published
        ? `  internal services (metadata, back-ends, front-ends) published on 127.0.0.1 too: ${d.why}`
        : `  internal services (metadata, back-ends, front-ends) not published; the harness reaches them ${d.how}`
    default:
      return undefined
  }
}

function enforcedBy(topo: StartedTopology): string {
  const cgroupDir = (topo as { cgroupDir?: string }).cgroupDir
  switch (topo.threadLimitEnforcement) {
    case 'cgroup':
      return `cgroup pids.max${cgroupDir ? ` (${cgroupDir})` : ''}`
    case 'docker':
      return "each front-end container's pids_limit"
    default:
      return topo.threadLimitEnforcement
  }
}

export async function up(opts: UpOptions): Promise<number> {
  const t = await upTopology(opts)
  const shell = customerAccessKey(SHELL_CALLER)
  let topology
  try {
    topology = systemTopology({
      frontends: t.frontends,
      threadLimit: t.threadLimit,
      backends: t.backends,
      learnDelayMs: t.learnDelay,
      bootstrap: t.bootstrap,
      seed: opts.seed,
      shardRetentionMs: shardRetentionAt(t.timeScale),
      frontendReadinessTimeoutMs: opts.readyTimeout,
      services: t.services,
      cellSize: opts.cellSize,
      // The user's shell and apps (`outage-lab env`) call with a key of their own.
      callers: [shell],
      ...(opts.partitionedFleet
        ? { switches: { cloudwatch: { partitionedFleet: true } }, partitionedFleet: { frontends: opts.partitionedFleet, threadLimit: t.threadLimit } }
        : {}),
    })
  } catch (err) {
    if (err instanceof InvalidTopology) throw new UsageError(err.message)
    throw err
  }
  const booting = new AbortController()
  const platformName = opts.platform ?? DEFAULT_PLATFORM
  const platform = await loadPlatform(platformName).catch((err: Error) => {
    throw new UsageError(err.message)
  })
  const context: PlatformContext = {
    runDir: opts.runDir,
    osThreadLimit: opts.cgroups,
    signals: false,
    onEvent: (e) => {
      const line = describeEvent(e)
      if (line) say(line)
    },
  }
  const why = await platform.unavailable(context)
  if (why) {
    say(`outage-lab up: the ${platformName} platform cannot run here: ${why}`)
    return EXIT.failed
  }
  let started: StartedTopology | undefined
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

  context.signal = booting.signal
  say(
    `outage-lab up${platformName === DEFAULT_PLATFORM ? '' : ` --platform ${platformName}`}: ${t.frontends} front-ends, thread limit ${t.threadLimit}, bootstrap from ${t.bootstrap}, learn delay ${t.learnDelay} ms, shard retention ${shardRetentionAt(t.timeScale) / 1000} s (Kinesis's 24 h at ${t.timeScale} s an hour), services ${['kinesis', ...t.services].join(', ')}${t.from ? ` (what no flag says: from ${t.from})` : ''}`,
  )
  try {
    started = await platform.start(topology, context)
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
    port: opts.controlPort,
    topology: topo,
    token: topo.adminToken,
    onChange: () => writeEndpointsFile(endpointsFile, content()),
  })
  const content = () =>
    endpointsFileContent(topo.endpoints(), {
      pid: process.pid,
      runDir: topo.runDir,
      control: { url: control.url, token: topo.adminToken },
      threadLimitEnforcement: topo.threadLimitEnforcement,
      operatorKey: topo.secret('operator-key'),
      shellCredentials: shell,
      internalToken: topo.internalToken,
    })
  writeEndpointsFile(endpointsFile, content())

  const e = topo.endpoints()
  const rel = (p: string) => {
    const r = path.relative(process.cwd(), p)
    return r && !r.startsWith('..') ? r : p
  }
  const lines = [
    '',
    `run ${topo.runId} is up; logs in ${rel(path.join(topo.runDir, 'logs'))}`,
    `  Kinesis endpoint (AWS SDK): ${e.kinesis}  region ${e.region}  credentials ${shell.accessKeyId} / ${shell.secretAccessKey} (yours; the lab's own: ${e.credentials.accessKeyId} / ${e.credentials.secretAccessKey})`,
    ...Object.entries(e.services)
      .filter(([name]) => (DOWNSTREAM as readonly string[]).includes(name))
      .map(([name, url]) => `  ${name.padEnd(12)} ${url}${name === 'status-page' ? '  (open it in a browser)' : ''}`),
    `  thread limit ${t.threadLimit} per front-end, enforced by ${enforcedBy(topo)}`,
    ...(topo.enforcementNote ? [`  note: ${topo.enforcementNote}`] : []),
    `  control API: ${control.url} (token in ${rel(endpointsFile)})`,
    `  endpoints file: ${rel(endpointsFile)}`,
    `  point a shell, the AWS CLI and any SDK at it: eval "$(outage-lab env${endpointsFile === path.resolve(DEFAULT_ENDPOINTS_FILE) ? '' : ` --endpoints-file ${rel(endpointsFile)}`})"`,
    `  try: outage-lab scale --fleet main --to ${t.frontends + 6}    outage-lab scale --fleet main --to ${t.frontends}    outage-lab restart --fleet main`,
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
