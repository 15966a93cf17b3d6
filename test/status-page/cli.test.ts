// The backup posting tool (harness/status-page/post.ts) against the real status-page process.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { Command, CommanderError } from 'commander'
import { request } from 'undici'
import { postBackup, statusPagePost, registerStatusPage, StatusPagePostError, type PostCommandOptions } from '../../harness/status-page/post.js'
import { UsageError } from '../../harness/control/cli-support.js'
import { INTERNAL, spawnService, ROOT } from '../helpers/spawn.js'
import { startCognitoStandIn } from './jwks-stand-in.js'

// Several helpers share two cores: a process may take long to start.
const SLOW_START = { timeoutMs: 60_000 }
const KEY = 'backup-operator-key-0123456789abcdef'
const ENTRY = 'services/status-page/main.js'
const built = fs.existsSync(path.join(ROOT, 'dist', ENTRY))
const CLI = path.join(ROOT, 'dist/harness/cli.js')
const cliWired = fs.existsSync(CLI) && fs.readFileSync(CLI, 'utf8').includes('registerStatusPage')

function collector() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } }
}

const base = (o: Partial<PostCommandOptions>): PostCommandOptions => ({ endpointsFile: '/nonexistent/endpoints.json', timeout: 5_000, ...o })

t.test(
  'the backup tool posts to the running status page, which keeps the update across a SIGKILL',
  { skip: !built && 'run `npx tsc -p .` first' },
  async (t) => {
    const cognito = await startCognitoStandIn()
    t.teardown(() => cognito.close())
    const dir = t.testdir()
    const env = { COGNITO_URL: cognito.url, OUTAGE_LAB_OPERATOR_KEY: KEY, OUTAGE_LAB_DATA_DIR: path.join(dir, 'data') }
    let sp = await spawnService(ENTRY, env, SLOW_START)
    t.teardown(() => sp.stop())

    const health = await request(`${sp.url}/health`)
    t.match(await health.body.json(), { service: 'status-page', status: 'ok', updates: 0, backupPath: 'enabled' })

    const update = await postBackup({
      url: sp.url,
      operatorKey: KEY,
      message: 'We are investigating increased error rates in US-EAST-1.',
      component: 'kinesis',
      status: 'outage',
    })
    t.match(update, { id: 1, path: 'backup', operator: 'backup-key', component: 'kinesis', status: 'outage' })

    const wrong = await postBackup({ url: sp.url, operatorKey: 'not-the-key', message: 'x' }).catch((e) => e)
    t.ok(wrong instanceof StatusPagePostError)
    t.match(wrong, { type: 'NotAuthorizedException', statusCode: 401, message: 'wrong operator key', exitCode: 2 })

    // An acknowledged update was fsynced before the answer: a SIGKILL right after loses nothing.
    await sp.stop('SIGKILL')
    sp = await spawnService(ENTRY, env, SLOW_START)
    const page = await request(`${sp.url}/`)
    t.equal(page.statusCode, 200)
    t.match(await page.body.text(), /We are investigating increased error rates in US-EAST-1\./)
    const metrics = await (await request(`${sp.url}/metrics`, { headers: INTERNAL })).body.text()
    t.match(metrics, /status_page_last_update_timestamp_seconds\{[^}]*\} \d+\.?\d*\n/)
    t.notMatch(metrics, /status_page_last_update_timestamp_seconds\{[^}]*\} 0\n/)

    // The command, with the URL and key from the endpoints file `outage-lab up` writes.
    const endpointsFile = path.join(dir, 'endpoints.json')
    fs.writeFileSync(
      endpointsFile,
      JSON.stringify({ control: { url: 'http://127.0.0.1:1', token: 't' }, services: { 'status-page': sp.url, cognito: cognito.url }, operatorKey: KEY }),
    )
    const c = collector()
    t.equal(await statusPagePost(base({ backup: 'Posted with the scripted backup tool.', component: 'cognito', status: 'degraded', endpointsFile }), c.io), 0)
    t.match(
      c.out[0],
      /^posted update 2 at \d{4}-\d\d-\d\dT[\d:.]+Z via the backup path \(operator backup-key\) \[cognito: degraded\]: Posted with the scripted backup tool\.$/,
    )
    const json = collector()
    t.equal(await statusPagePost(base({ backup: 'as JSON', endpointsFile, json: true }), json.io), 0)
    t.match(JSON.parse(json.out[0]), { id: 3, message: 'as JSON', path: 'backup' })

    // --key-file and --url win over the endpoints file.
    const keyFile = path.join(dir, 'key')
    fs.writeFileSync(keyFile, 'wrong-key-from-file\n')
    const overridden = collector()
    t.equal(await statusPagePost(base({ backup: 'm', endpointsFile, keyFile }), overridden.io), 2)
    t.same(overridden.err, ['outage-lab: status-page post: NotAuthorizedException: wrong operator key'])
    fs.writeFileSync(keyFile, `${KEY}\n`)
    t.equal(await statusPagePost(base({ backup: 'with --url and --key-file only', url: sp.url, keyFile }), collector().io), 0)

    const invalid = collector()
    t.equal(await statusPagePost(base({ backup: 'm', component: 'dynamodb', url: sp.url, keyFile }), invalid.io), 2)
    t.match(
      invalid.err[0],
      /ValidationException: component: expected one of kinesis, cloudwatch, eventbridge, autoscaling, lambda, cognito, ecs, got "dynamodb"/,
    )

    // The status page gone: a failure of the system (1), not of the input.
    await sp.stop()
    const gone = collector()
    t.equal(await statusPagePost(base({ backup: 'm', url: sp.url, keyFile }), gone.io), 1)
    t.same(gone.err, [`outage-lab: status-page post: Unreachable: cannot reach the status page at ${sp.url} (ECONNREFUSED)`])
  },
)

t.test('bad input to the command is a usage error naming what is missing', async (t) => {
  const dir = t.testdir({
    'no-status-page.json': JSON.stringify({ control: { url: 'http://127.0.0.1:1', token: 't' }, services: {} }),
    'no-key.json': JSON.stringify({ control: { url: 'http://127.0.0.1:1', token: 't' }, services: { 'status-page': 'http://127.0.0.1:1' } }),
    empty: '',
  })
  const cases: [Partial<PostCommandOptions>, string][] = [
    [{}, 'status-page post: give the message with exactly one of --backup <message> or --primary <message>'],
    [{ backup: 'm' }, '--endpoints-file: no endpoints file at /nonexistent/endpoints.json: is `outage-lab up` running (with this --endpoints-file)?'],
    [
      { backup: 'm', endpointsFile: path.join(dir, 'no-status-page.json') },
      `--endpoints-file: ${path.join(dir, 'no-status-page.json')} has no services["status-page"]: is the status page part of the running topology? (or pass --url)`,
    ],
    [
      { backup: 'm', endpointsFile: path.join(dir, 'no-key.json') },
      `--endpoints-file: ${path.join(dir, 'no-key.json')} has no operatorKey (pass --key-file FILE or set OUTAGE_LAB_OPERATOR_KEY)`,
    ],
    [{ backup: 'm', url: 'http://127.0.0.1:1', keyFile: path.join(dir, 'empty') }, `--key-file: ${path.join(dir, 'empty')} is empty`],
    [{ backup: 'm', url: 'http://127.0.0.1:1', keyFile: path.join(dir, 'missing') }, `--key-file: cannot read ${path.join(dir, 'missing')}: ENOENT`],
    [
      { primary: 'm', url: 'http://127.0.0.1:1', endpointsFile: path.join(dir, 'no-key.json') },
      'status-page post --primary signs in through Cognito and needs --cognito-url, --client-id, --username, --password (or an endpoints file that has them)',
    ],
  ]
  for (const [opts, message] of cases) {
    const err = await statusPagePost(base(opts), collector().io).catch((e) => e)
    t.ok(err instanceof UsageError, JSON.stringify(opts))
    t.equal(err.message, message)
  }
  const remote = await postBackup({ url: 'http://192.0.2.1:8080', operatorKey: KEY, message: 'm' }).catch((e) => e)
  t.match(remote, {
    type: 'InvalidArgument',
    message: 'the status page URL must be http://127.0.0.1:PORT (this tool talks to this machine only), got "http://192.0.2.1:8080"',
  })
})

t.test('registerStatusPage adds `status-page post` with checked options', async (t) => {
  const parse = async (...args: string[]) => {
    const program = new Command('outage-lab').exitOverride()
    let errText = ''
    program.configureOutput({ writeErr: (s) => (errText += s), writeOut: () => {} })
    let code: Promise<number> | undefined
    registerStatusPage(program, (c) => (code = c))
    try {
      await program.parseAsync(['node', 'outage-lab', ...args])
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err
      return { errText, code: undefined }
    }
    return { errText, code: await code!.catch((e) => e) }
  }
  t.match(
    (await parse('status-page', 'post', '--backup', 'a', '--primary', 'b')).errText,
    /option '--(primary|backup) <message>' cannot be used with option '--(backup|primary) <message>'/,
  )
  t.match(
    (await parse('status-page', 'post', '--backup', 'a', '--status', 'down')).errText,
    /option '--status <status>' argument 'down' is invalid\. expected one of operational, degraded, outage/,
  )
  t.match(
    (await parse('status-page', 'post', '--backup', 'a', '--component', 'Kinesis!')).errText,
    /option '--component <name>' argument 'Kinesis!' is invalid/,
  )
  t.match(
    (await parse('status-page', 'post', '--backup', 'a', '--url', 'http://example.com')).errText,
    /option '--url <url>' argument 'http:\/\/example\.com' is invalid\. expected http:\/\/127\.0\.0\.1:PORT/,
  )
  const missing = await parse('status-page', 'post', '--backup', 'a', '--endpoints-file', '/nonexistent/e.json')
  t.ok(missing.code instanceof UsageError)
})

t.test(
  'the outage-lab command posts through the backup path',
  { skip: (!built && 'run `npx tsc -p .` first') || (!cliWired && 'harness/cli.ts does not register `status-page` yet') },
  async (t) => {
    const dir = t.testdir()
    const sp = await spawnService(ENTRY, { COGNITO_URL: 'http://127.0.0.1:9', OUTAGE_LAB_OPERATOR_KEY: KEY, OUTAGE_LAB_DATA_DIR: dir }, SLOW_START)
    t.teardown(() => sp.stop())
    const keyFile = path.join(dir, 'key')
    fs.writeFileSync(keyFile, KEY)
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'status-page', 'post', ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.once('exit', (code) => resolve({ code, stdout, stderr }))
      })
    const ok = await run(['--backup', 'Posted from the command line.', '--component', 'kinesis', '--status', 'outage', '--url', sp.url, '--key-file', keyFile])
    t.equal(ok.code, 0, ok.stderr)
    t.match(ok.stdout, /^posted update 1 at \S+ via the backup path \(operator backup-key\) \[kinesis: outage\]: Posted from the command line\.\n$/)
    const bad = await run(['--backup', 'x', '--status', 'down', '--url', sp.url, '--key-file', keyFile])
    t.equal(bad.code, 2)
    t.match(bad.stderr, /argument 'down' is invalid/)
    const noFile = await run(['--backup', 'x', '--endpoints-file', path.join(dir, 'none.json')])
    t.equal(noFile.code, 2)
    t.match(noFile.stderr, /--endpoints-file: no endpoints file at/)
  },
)

t.test('a bad environment stops the status page with exit 2, naming the variable', { skip: !built && 'run `npx tsc -p .` first' }, async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /status-page: environment variable COGNITO_URL: expected a non-empty string, got nothing/],
    [{ COGNITO_URL: 'http://127.0.0.1:9/pool' }, /environment variable COGNITO_URL: expected the base URL of Cognito \(http:\/\/host:port\)/],
    [
      { COGNITO_URL: 'http://127.0.0.1:9', OUTAGE_LAB_OPERATOR_KEY: 'short' },
      /environment variable OUTAGE_LAB_OPERATOR_KEY: expected at least 16 characters \(or unset: backup path disabled\), got "5 characters"/,
    ],
    [{ COGNITO_URL: 'http://127.0.0.1:9', JWKS_TIMEOUT_MS: 'soon' }, /environment variable JWKS_TIMEOUT_MS: expected an integer in \[1, 600000\]/],
  ]
  // A process that never listens: wait for its exit rather than for a "listening" line.
  const exitOf = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist', ENTRY)], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, PORT: '0', OUTAGE_LAB_DATA_DIR: t.testdir(), ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.once('exit', (code) => resolve({ code, stderr }))
    })
  const results = await Promise.all(cases.map(([env]) => exitOf(env)))
  results.forEach((r, i) => {
    t.equal(r.code, 2)
    t.match(r.stderr, cases[i][1])
  })
})
