// `outage-lab env`: the AWS configuration of a running `up` as shell lines, the same a customer
// service gets in a run (topology/customers.ts): every SDK's and the AWS CLI's endpoint variables,
// the region and a key. `eval "$(outage-lab env)"` points a shell, the CLI and any app started
// from it at the lab, and at nothing else.
import { DOWNSTREAM, type Downstream } from '../topology/catalogue.js'
import { awsEnvironment } from '../topology/customers.js'
import { readEndpointsFile, EndpointsFileError, type EndpointsFile } from './endpoints-file.js'
import { EXIT, UsageError } from './cli-support.js'

/**
 * Variables a shell may carry that would send the calls elsewhere or sign them with something
 * else: a profile (its own region, endpoint or credential process), a session token.
 */
export const UNSET = ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CREDENTIAL_EXPIRATION'] as const

/** Single-quoted for sh, bash and zsh: a quote inside becomes '\''. */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`
}

/** The variables for a running topology, from its endpoints file; `labKey` uses the lab's own key instead of the shell's. */
export function envOf(e: EndpointsFile, opts: { labKey?: boolean } = {}): Record<string, string> {
  const services = DOWNSTREAM.filter((s) => e.services[s] !== undefined)
  if (!e.kinesisEndpoint) throw new EndpointsFileError('the endpoints file names no Kinesis endpoint (kinesisEndpoint)')
  const kinesis = e.kinesisEndpoint
  return awsEnvironment<string>({
    url: (s: 'kinesis' | Downstream) => (s === 'kinesis' ? kinesis : e.services[s]),
    services,
    region: e.region,
    key: (!opts.labKey && e.shellCredentials) || e.credentials,
  }) as Record<string, string>
}

export function envLines(vars: Record<string, string>): string[] {
  return [`unset ${UNSET.join(' ')}`, ...Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`)]
}

export async function envCommand(opts: { endpointsFile: string; labKey?: boolean; json?: boolean }): Promise<number> {
  let vars: Record<string, string>
  try {
    vars = envOf(readEndpointsFile(opts.endpointsFile), opts)
  } catch (err) {
    if (err instanceof EndpointsFileError) throw new UsageError(`--endpoints-file: ${err.message}`)
    throw err
  }
  process.stdout.write(opts.json ? JSON.stringify(vars, null, 2) + '\n' : envLines(vars).join('\n') + '\n')
  return EXIT.ok
}
