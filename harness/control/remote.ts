// `outage-lab scale` and `outage-lab restart`: read the endpoints file of a running `up` and
// call its control API.
import { ControlClient, ControlError } from './client.js'
import { readEndpointsFile, EndpointsFileError } from './endpoints-file.js'
import { EXIT, UsageError, say } from './cli-support.js'

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

function printResult(result: unknown, json: boolean, human: string[]): void {
  if (json) process.stdout.write(JSON.stringify(result) + '\n')
  else for (const line of human) process.stdout.write(line + '\n')
}

export async function scale(opts: { fleet: string; to: number; endpointsFile: string; json?: boolean }): Promise<number> {
  const client = clientFrom(opts.endpointsFile)
  try {
    const r = await client.scale(opts.fleet, opts.to)
    printResult(r, !!opts.json, [
      `fleet ${r.fleet}: ${r.from} -> ${r.to}`,
      ...(r.added.length ? [`  added: ${r.added.join(', ')}`] : []),
      ...(r.removed.length ? [`  removed: ${r.removed.join(', ')}`] : []),
      ...r.notReady.map((n) => `  not ready: ${n.name}: ${n.reason}`),
    ])
    return EXIT.ok
  } catch (err) {
    return controlFailure(err)
  }
}

export async function restart(opts: { fleet: string; rate: number | 'all'; endpointsFile: string; json?: boolean }): Promise<number> {
  const client = clientFrom(opts.endpointsFile)
  try {
    const r = await client.restart(opts.fleet, opts.rate)
    printResult(r, !!opts.json, [
      `fleet ${r.fleet}: restarted ${r.restarted.length} members in ${r.durationMs} ms`,
      ...r.notReady.map((n) => `  not ready: ${n.name}: ${n.reason}`),
    ])
    return EXIT.ok
  } catch (err) {
    return controlFailure(err)
  }
}

/** Stops a running `up` the way Ctrl-C would: SIGINT to its pid, then wait until it has torn down. */
export async function down(opts: { endpointsFile: string }): Promise<number> {
  let pid: number
  try {
    pid = readEndpointsFile(opts.endpointsFile).pid
  } catch (err) {
    if (err instanceof EndpointsFileError) throw new UsageError(`--endpoints-file: ${err.message}`)
    throw err
  }
  const alive = () => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!alive()) {
    say(`outage-lab: the run of ${opts.endpointsFile} (pid ${pid}) is not running`)
    return EXIT.ok
  }
  process.kill(pid, 'SIGINT')
  const deadline = Date.now() + 60_000
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  if (alive()) {
    say(`outage-lab: pid ${pid} did not stop within 60 s`)
    return EXIT.failed
  }
  say(`stopped the run of pid ${pid}`)
  return EXIT.ok
}
