// The endpoints file `outage-lab up` writes when its topology is ready: what a user (or a script,
// or `outage-lab scale`) needs to reach the run. It holds the run's admin token, so it is 0600.
import fs from 'node:fs'
import path from 'node:path'
import type { Endpoints, ThreadLimitEnforcement } from '../platform/started.js'
import { writeSecretFile } from '../platform/paths.js'

export const DEFAULT_ENDPOINTS_FILE = path.join('.outage-lab', 'endpoints.json')

export interface EndpointsFile {
  runId: string
  /** The harness process running the topology. */
  pid: number
  runDir: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Give this to the AWS SDK's Kinesis client as `endpoint`. */
  kinesisEndpoint: string | null
  control: { url: string; token: string }
  threadLimitEnforcement: ThreadLimitEnforcement
  services: Record<string, string>
  fleets: Endpoints['fleets']
  /** The status page's backup posting key (`outage-lab status-page post --backup`), when it runs. */
  operatorKey?: string
  /**
   * A key of its own for the user's shell and apps (`outage-lab env` exports it): every service
   * accepts it and counts its calls under it (lab_caller_calls_total), apart from the lab's own.
   */
  shellCredentials?: { accessKeyId: string; secretAccessKey: string }
}

export function endpointsFileContent(
  e: Endpoints,
  extra: {
    pid: number
    runDir: string
    control: { url: string; token: string }
    threadLimitEnforcement: ThreadLimitEnforcement
    operatorKey?: string
    shellCredentials?: { accessKeyId: string; secretAccessKey: string }
  },
): EndpointsFile {
  return {
    runId: e.runId,
    pid: extra.pid,
    runDir: extra.runDir,
    region: e.region,
    credentials: e.credentials,
    kinesisEndpoint: e.kinesis ?? null,
    control: extra.control,
    threadLimitEnforcement: extra.threadLimitEnforcement,
    services: e.services,
    fleets: e.fleets,
    ...(extra.operatorKey ? { operatorKey: extra.operatorKey } : {}),
    ...(extra.shellCredentials ? { shellCredentials: extra.shellCredentials } : {}),
  }
}

export function writeEndpointsFile(file: string, content: EndpointsFile): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  writeSecretFile(file, JSON.stringify(content, null, 2) + '\n')
}

export class EndpointsFileError extends Error {
  readonly code = 'ENDPOINTS_FILE'
}

export function readEndpointsFile(file: string): EndpointsFile {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new EndpointsFileError(
      e.code === 'ENOENT' ? `no endpoints file at ${file}: is \`outage-lab up\` running (with this --endpoints-file)?` : `cannot read ${file}: ${e.message}`,
    )
  }
  let data: { control?: { url?: unknown; token?: unknown } } | null
  try {
    data = JSON.parse(text)
  } catch {
    throw new EndpointsFileError(`${file} is not JSON`)
  }
  if (typeof data?.control?.url !== 'string' || typeof data?.control?.token !== 'string') {
    throw new EndpointsFileError(`${file}: expected control.url and control.token (an endpoints file written by \`outage-lab up\`)`)
  }
  return data as unknown as EndpointsFile
}
