// `outage-lab status-page post`: post an update to the Service Health Dashboard of a running
// topology. --backup is the scripted backup path (remediation 10: operators train on it): a local
// operator key and one HTTP call, nothing else. --primary is the 2020 posting tool: sign in through
// Cognito first, then post with the token; it fails when Cognito does.
import fs from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { request } from 'undici'
import { DEFAULT_ENDPOINTS_FILE, readEndpointsFile, EndpointsFileError, type EndpointsFile } from '../control/endpoints-file.js'
import { EXIT, UsageError, choice, integer, say } from '../control/cli-support.js'

/** The statuses the dashboard knows (its API refuses others with a 400). */
export const COMPONENT_STATUSES = ['operational', 'degraded', 'outage'] as const
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number]

export interface PostedUpdate {
  id: number
  postedAt: string
  postedAtMs: number
  message: string
  component: string | null
  status: ComponentStatus | null
  path: 'primary' | 'backup'
  operator: string
}

export interface UpdateInput {
  /** The status page's base URL (on 127.0.0.1). */
  url: string
  message: string
  component?: string
  status?: ComponentStatus
  /** The whole call, connection included. */
  timeoutMs?: number
}

/** A post that did not happen. `type` is the dashboard's error type, or Unreachable / Timeout. */
export class StatusPagePostError extends Error {
  readonly type: string
  readonly statusCode?: number
  constructor(type: string, message: string, statusCode?: number) {
    super(message)
    this.name = 'StatusPagePostError'
    this.type = type
    this.statusCode = statusCode
  }
  /** The poster's mistake (a wrong key, a bad component) or the system's? */
  get exitCode(): number {
    return this.statusCode !== undefined && this.statusCode >= 400 && this.statusCode < 500 ? EXIT.badInput : EXIT.failed
  }
}

const LOCAL_URL = /^http:\/\/127\.0\.0\.1(:\d{1,5})?\/?$/

export function statusPageUrl(raw: string): string {
  if (!LOCAL_URL.test(raw))
    throw new StatusPagePostError(
      'InvalidArgument',
      `the status page URL must be http://127.0.0.1:PORT (this tool talks to this machine only), got ${JSON.stringify(raw)}`,
      400,
    )
  return raw.replace(/\/$/, '')
}

/** The backup path: the operator key in X-Operator-Key, no Cognito involved. */
export function postBackup(opts: UpdateInput & { operatorKey: string }): Promise<PostedUpdate> {
  if (!opts.operatorKey) throw new StatusPagePostError('InvalidArgument', 'no operator key', 400)
  return postUpdate(opts, '/api/backup/updates', { 'x-operator-key': opts.operatorKey })
}

/** The primary path with a token the caller already has (signIn() gets one). */
export function postWithToken(opts: UpdateInput & { token: string }): Promise<PostedUpdate> {
  return postUpdate(opts, '/api/updates', { authorization: `Bearer ${opts.token}` })
}

/**
 * The primary path as the 2020 posting tool did it: sign in through Cognito, then post with the
 * ID token. Fails (Timeout, Unreachable, 503) whenever Cognito cannot sign the operator in.
 */
export async function postPrimary(
  opts: UpdateInput & {
    cognitoUrl: string
    clientId: string
    username: string
    password: string
    credentials?: { accessKeyId: string; secretAccessKey: string }
  },
): Promise<PostedUpdate> {
  const { signIn } = await import('./sign-in.js')
  const tokens = await signIn({
    cognitoUrl: opts.cognitoUrl,
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    timeoutMs: opts.timeoutMs,
    credentials: opts.credentials,
  })
  return postWithToken({ ...opts, token: tokens.idToken })
}

async function postUpdate(opts: UpdateInput, route: string, auth: Record<string, string>): Promise<PostedUpdate> {
  const url = statusPageUrl(opts.url)
  const timeoutMs = opts.timeoutMs ?? 10_000
  const body = JSON.stringify({
    message: opts.message,
    ...(opts.component ? { component: opts.component } : {}),
    ...(opts.status ? { status: opts.status } : {}),
  })
  let res
  try {
    res = await request(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
  } catch (err) {
    throw unreachable(url, timeoutMs, err)
  }
  let text: string
  try {
    text = await res.body.text()
  } catch (err) {
    throw unreachable(url, timeoutMs, err)
  }
  let data: { __type?: string; message?: string } | null
  try {
    data = JSON.parse(text)
  } catch {
    throw new StatusPagePostError('InternalFailure', `the status page answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`, res.statusCode)
  }
  if (res.statusCode !== 201) throw new StatusPagePostError(data?.__type ?? 'InternalFailure', data?.message ?? text, res.statusCode)
  return data as unknown as PostedUpdate
}

function unreachable(url: string, timeoutMs: number, err: unknown): StatusPagePostError {
  const e = err as Error & { code?: string }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return new StatusPagePostError('Timeout', `the status page at ${url} did not answer within ${timeoutMs} ms`)
  }
  return new StatusPagePostError('Unreachable', `cannot reach the status page at ${url} (${e.code ?? e.message})`)
}

// --- the command --------------------------------------------------------------------------------

export interface PostCommandOptions {
  backup?: string
  primary?: string
  component?: string
  status?: ComponentStatus
  endpointsFile: string
  url?: string
  keyFile?: string
  cognitoUrl?: string
  clientId?: string
  username?: string
  password?: string
  timeout: number
  json?: boolean
}

export interface Io {
  out(line: string): void
  err(line: string): void
}

const stdio: Io = { out: (line) => process.stdout.write(line + '\n'), err: say }

/** Runs `status-page post`; resolves to the exit code. Bad input throws UsageError (exit 2). */
export async function statusPagePost(opts: PostCommandOptions, io: Io = stdio): Promise<number> {
  if ((opts.backup === undefined) === (opts.primary === undefined))
    throw new UsageError('status-page post: give the message with exactly one of --backup <message> or --primary <message>')
  // The endpoints file is read only when an option leaves something to find there.
  let endpoints: EndpointsFile | undefined
  const fromFile = (): EndpointsFile & { statusPageOperator?: { username?: string; password?: string; clientId?: string } } => {
    try {
      endpoints ??= readEndpointsFile(opts.endpointsFile)
      return endpoints
    } catch (err) {
      if (err instanceof EndpointsFileError) throw new UsageError(`--endpoints-file: ${err.message}`)
      throw err
    }
  }
  const url = opts.url ?? fromFile().services?.['status-page']
  if (!url)
    throw new UsageError(
      `--endpoints-file: ${opts.endpointsFile} has no services["status-page"]: is the status page part of the running topology? (or pass --url)`,
    )
  const input: UpdateInput = { url, message: opts.backup ?? opts.primary!, component: opts.component, status: opts.status, timeoutMs: opts.timeout }

  let update: PostedUpdate
  try {
    if (opts.backup !== undefined) {
      update = await postBackup({ ...input, operatorKey: operatorKeyOf(opts, fromFile) })
    } else {
      const file = opts.cognitoUrl && opts.clientId && opts.username && opts.password ? undefined : fromFile()
      const operator = file?.statusPageOperator ?? {}
      const cognitoUrl = opts.cognitoUrl ?? file?.services?.cognito
      const clientId = opts.clientId ?? operator.clientId
      const username = opts.username ?? operator.username
      const password = opts.password ?? operator.password
      const missing = [!cognitoUrl && '--cognito-url', !clientId && '--client-id', !username && '--username', !password && '--password'].filter(Boolean)
      if (missing.length)
        throw new UsageError(`status-page post --primary signs in through Cognito and needs ${missing.join(', ')} (or an endpoints file that has them)`)
      update = await postPrimary({
        ...input,
        cognitoUrl: cognitoUrl!,
        clientId: clientId!,
        username: username!,
        password: password!,
        credentials: endpoints?.credentials,
      })
    }
  } catch (err) {
    if (err instanceof StatusPagePostError) {
      io.err(`outage-lab: status-page post: ${err.type}: ${err.message}`)
      return err.exitCode
    }
    throw err
  }
  io.out(opts.json ? JSON.stringify(update) : describe(update))
  return EXIT.ok
}

function operatorKeyOf(opts: PostCommandOptions, fromFile: () => EndpointsFile & { operatorKey?: string }): string {
  if (opts.keyFile !== undefined) {
    let key: string
    try {
      key = fs.readFileSync(opts.keyFile, 'utf8').trim()
    } catch (err) {
      throw new UsageError(`--key-file: cannot read ${opts.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    if (!key) throw new UsageError(`--key-file: ${opts.keyFile} is empty`)
    return key
  }
  let file: (EndpointsFile & { operatorKey?: string }) | undefined
  try {
    file = fromFile()
  } catch (err) {
    // Without an endpoints file, a key in the environment is enough for the backup path.
    if (!(err instanceof UsageError) || !process.env.OUTAGE_LAB_OPERATOR_KEY) throw err
  }
  const key = file?.operatorKey || process.env.OUTAGE_LAB_OPERATOR_KEY
  if (!key) throw new UsageError(`--endpoints-file: ${opts.endpointsFile} has no operatorKey (pass --key-file FILE or set OUTAGE_LAB_OPERATOR_KEY)`)
  return key
}

export function describe(u: PostedUpdate): string {
  const about = u.component ? ` [${u.component}${u.status ? `: ${u.status}` : ''}]` : ''
  return `posted update ${u.id} at ${u.postedAt} via the ${u.path} path (operator ${u.operator})${about}: ${u.message}`
}

function componentName(raw: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(raw)) throw new InvalidArgumentError('expected a component name (lower-case letters, digits, dashes), e.g. kinesis')
  return raw
}

function localUrl(raw: string): string {
  try {
    return statusPageUrl(raw)
  } catch {
    throw new InvalidArgumentError('expected http://127.0.0.1:PORT')
  }
}

/**
 * Adds `status-page post`. With `run` (the CLI's exit-code sink, as for the other commands) the
 * action hands over its exit code; without, it sets process.exitCode.
 */
export function registerStatusPage(program: Command, run?: (code: Promise<number>) => void): Command {
  const statusPage = program.command('status-page').description('the Service Health Dashboard of a running topology')
  statusPage
    .command('post')
    .description('post an update: --backup uses the local operator key (no Cognito); --primary signs in through Cognito first, like the 2020 posting tool')
    .addOption(new Option('--backup <message>', 'post through the backup path (operator key, no dependency on Cognito)').conflicts('primary'))
    .addOption(new Option('--primary <message>', 'post through the primary path (sign in through Cognito, post with the ID token)').conflicts('backup'))
    .option('--component <name>', 'the component the update is about (kinesis, cloudwatch, eventbridge, autoscaling, lambda, cognito, ecs)', componentName)
    .addOption(new Option('--status <status>', "the component's new status").argParser(choice(COMPONENT_STATUSES)))
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--url <url>', 'the status page (default: services["status-page"] of the endpoints file)', localUrl)
    .option('--key-file <file>', 'file holding the operator key (default: operatorKey of the endpoints file, then OUTAGE_LAB_OPERATOR_KEY)')
    .option('--cognito-url <url>', '--primary: Cognito (default: services.cognito of the endpoints file)', localUrl)
    .option('--client-id <id>', "--primary: the operators' app client id")
    .option('--username <name>', '--primary: the operator')
    .option('--password <password>', "--primary: the operator's password")
    .option('--timeout <ms>', 'give up on each call after this long', integer(1, 600_000), 10_000)
    .option('--json', 'print the posted update as JSON')
    .action((opts: PostCommandOptions) => {
      const code = statusPagePost(opts)
      // Bad input rejects at once, before the CLI awaits the code: mark it handled here so Node
      // does not report it as unhandled; the CLI still sees the rejection (exit 2).
      code.catch(() => {})
      if (run) {
        run(code)
        return
      }
      return code.then((c) => {
        process.exitCode = c
      })
    })
  return statusPage
}
