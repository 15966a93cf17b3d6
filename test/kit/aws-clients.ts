// The stock AWS clients this machine has, found and run as a user would run them: the AWS CLI v1
// (pip's awscli, on botocore), the AWS CLI v2 (Debian's awscli, its own botocore), and boto3 under
// each Python that has it. Each one's botocore says which wire protocol it picks for a service
// (ServiceModel.resolved_protocol: the first of botocore's own priority list, json before
// smithy-rpc-v2-cbor, that the model lists; older botocore: the model's `protocol`), so a test knows
// what to expect on the wire. A botocore that has the RPC v2 CBOR serializer is run once more with
// that protocol first in its priority list: botocore's own CBOR codec, as a service whose model lists
// only CBOR would get it.
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export type BotocoreProtocol = 'smithy-rpc-v2-cbor' | 'json' | 'query'
/** The kit's name of each botocore protocol (the `protocol` label of lab_caller_calls_total). */
export const KIT_PROTOCOL: Record<BotocoreProtocol, string> = { 'smithy-rpc-v2-cbor': 'rpcv2Cbor', json: 'awsJson', query: 'awsQuery' }

export interface StockClient {
  /** "AWS CLI 2.9.19 (botocore 2.0.0dev155)" */
  name: string
  kind: 'cli' | 'boto3'
  /** What to execute: the `aws` command, or the Python interpreter (for boto3). */
  command: string
  python: string
  botocore: string
  /** The wire protocol its model picks, per service ("cloudwatch", "kinesis"). */
  protocols: Record<string, BotocoreProtocol>
  /** boto3 run with this protocol first in botocore's priority list. */
  prefer?: BotocoreProtocol
}

// Asks a Python's botocore (or the CLI v2's awscli.botocore) which protocol it picks per service.
const PROBE = `
import importlib, json, sys
mod = sys.argv[1]
out = {'version': importlib.import_module(mod).__version__, 'protocols': {}}
session = importlib.import_module(mod + '.session').get_session()
serializers = importlib.import_module(mod + '.serialize').SERIALIZERS
out['cbor'] = 'smithy-rpc-v2-cbor' in serializers
for name in sys.argv[2:]:
    model = session.get_service_model(name)
    out['protocols'][name] = getattr(model, 'resolved_protocol', None) or model.metadata['protocol']
print(json.dumps(out))
`
// Put first in botocore's priority list (model.resolved_protocol reads it when a client is made).
const preferring = (protocol: BotocoreProtocol) => `
import botocore.model
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ('${protocol}',) + tuple(p for p in botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p != '${protocol}')
`
const SERVICES = ['cloudwatch', 'kinesis']

async function run(file: string, args: string[], timeoutMs = 60_000): Promise<string | undefined> {
  try {
    return (await exec(file, args, { timeout: timeoutMs, env: clientEnv({}) })).stdout.trim()
  } catch {
    return undefined
  }
}

async function probe(python: string, module: string): Promise<{ version: string; cbor: boolean; protocols: Record<string, BotocoreProtocol> } | undefined> {
  const out = await run(python, ['-c', PROBE, module, ...SERVICES])
  return out ? JSON.parse(out) : undefined
}

/** Every stock client found, and a sentence for each kind that is missing. */
export async function stockClients(): Promise<{ found: StockClient[]; missing: string[] }> {
  const found: StockClient[] = []
  const pythons = new Map<string, { awscli?: string; boto3?: string }>()
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const out = await run(candidate, [
      '-c',
      'import json, sys\nv = {"exe": sys.executable}\nfor m in ("boto3", "awscli"):\n    try:\n        v[m] = __import__(m).__version__\n    except Exception:\n        pass\nprint(json.dumps(v))',
    ])
    if (!out) continue
    const v = JSON.parse(out) as { exe: string; boto3?: string; awscli?: string }
    if (!pythons.has(v.exe)) pythons.set(v.exe, v)
  }
  for (const [python, v] of pythons) {
    if (!v.boto3) continue
    const p = await probe(python, 'botocore')
    if (!p) continue
    found.push({
      name: `boto3 ${v.boto3} (botocore ${p.version}, ${python})`,
      kind: 'boto3',
      command: python,
      python,
      botocore: p.version,
      protocols: p.protocols,
    })
    if (p.cbor) {
      const cbor = { ...p.protocols, cloudwatch: 'smithy-rpc-v2-cbor' as const }
      found.push({
        name: `boto3 ${v.boto3} preferring RPC v2 CBOR (botocore ${p.version}, ${python})`,
        kind: 'boto3',
        command: python,
        python,
        botocore: p.version,
        protocols: cbor,
        prefer: 'smithy-rpc-v2-cbor',
      })
    }
  }
  const seenCli = new Set<string>()
  for (const candidate of ['aws', '/usr/bin/aws', '/usr/local/bin/aws']) {
    const version = /^aws-cli\/(\S+)/.exec((await run(candidate, ['--version'])) ?? '')?.[1]
    if (!version || seenCli.has(version)) continue
    seenCli.add(version)
    // The Python that holds this CLI's package: v1 runs on botocore, v2 carries awscli.botocore.
    const owner = [...pythons].find(([, v]) => v.awscli === version)?.[0]
    const p = owner && (await probe(owner, version.startsWith('1.') ? 'botocore' : 'awscli.botocore'))
    if (owner && p)
      found.push({
        name: `AWS CLI ${version} (botocore ${p.version})`,
        kind: 'cli',
        command: candidate,
        python: owner,
        botocore: p.version,
        protocols: p.protocols,
      })
  }
  const missing: string[] = []
  if (!found.some((c) => c.kind === 'cli' && c.name.startsWith('AWS CLI 1.'))) missing.push('the AWS CLI v1 (pip install awscli) is not here')
  if (!found.some((c) => c.kind === 'cli' && c.name.startsWith('AWS CLI 2.'))) missing.push('the AWS CLI v2 (apt-get install awscli) is not here')
  if (!found.some((c) => c.kind === 'boto3')) missing.push('no Python here has boto3 (apt-get install python3-boto3)')
  return { found, missing }
}

/** The environment a client runs in: its credentials, no shared config, no pager, one attempt. */
export function clientEnv(credentials: { accessKeyId?: string; secretAccessKey?: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
    AWS_CONFIG_FILE: '/nonexistent/outage-lab/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/outage-lab/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    ...(credentials.accessKeyId ? { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey } : {}),
  }
}

export interface Ran {
  code: number | null
  stdout: string
  stderr: string
  /** stdout as JSON (the CLI's --output json, the scripts' print(json.dumps(...))). */
  json(): any
}

/** Runs a client command to its end (a CLI's arguments, or a Python script given to boto3's interpreter). */
export function runClient(
  client: StockClient,
  args: string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Ran> {
  const argv = client.kind === 'boto3' ? ['-c', (client.prefer ? preferring(client.prefer) : '') + args[0], ...args.slice(1)] : args
  return new Promise((resolve, reject) => {
    const child = spawn(client.command, argv, { env: { ...clientEnv(credentials), ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) })
    })
  })
}
