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

function printResult(result: any, json: boolean, human: string[]): void {
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
      ...r.notReady.map((n: any) => `  not ready: ${n.name}: ${n.reason}`),
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
      ...r.notReady.map((n: any) => `  not ready: ${n.name}: ${n.reason}`),
    ])
    return EXIT.ok
  } catch (err) {
    return controlFailure(err)
  }
}
