// Cognito in the Kinesis outage of 2020-11-25, for real: a cognito process ships its access
// patterns to a real Kinesis whose front-end fleet is then broken past its thread limit. With the
// 2020 buffering code, sign-ins keep working while the buffer absorbs, then hang and time out at
// the client; with SUSTAIN_KINESIS_ERRORS (remediation 9) a second process against the same
// broken Kinesis stays fast and sheds records; after the heal, the first one recovers. The delays
// are printed, never asserted (bench/ owns timing).
import t from 'tap'
import path from 'node:path'
import { request } from 'undici'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  CreateUserPoolClientCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider'
import { INTERNAL, spawnService, CREDENTIALS } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const PASSWORD = 'Correct-Horse-9'
const BUFFER_RECORDS = 50
const SIGN_IN_EVERY_MS = 200 // 5 sign-ins a second: the buffer holds ~10 s of them
// Generous for a loaded 2-core machine (a healthy sign-in must never hit it); a blocked one hangs for good.
const CLIENT_TIMEOUT_MS = 5_000

interface Attempt {
  startedAtMs: number
  durationMs: number
  error?: string
}

async function health(url: string): Promise<any> {
  const res = await request(`${url}/health`)
  return res.body.json()
}

/** A cognito process with a pool, an app client and a user, and a sign-in whose SDK client gives up after CLIENT_TIMEOUT_MS. */
async function cognitoWithUser(t: Tap.Test, dir: string, endpoint: string, env: Record<string, string>) {
  const proc = await spawnService(
    'services/cognito/main.js',
    {
      KINESIS_ENDPOINT: endpoint,
      OUTAGE_LAB_DATA_DIR: path.join(dir, env.SUSTAIN_KINESIS_ERRORS === 'true' ? 'cognito-sustain' : 'cognito-default'),
      ACCESS_BUFFER_RECORDS: String(BUFFER_RECORDS),
      ACCESS_FLUSH_INTERVAL_MS: '100',
      ACCESS_SHIP_TIMEOUT_MS: '2000',
      ...env,
    },
    { timeoutMs: 60_000 },
  )
  t.teardown(() => proc.stop('SIGKILL'))
  const sdk = new CognitoIdentityProviderClient({
    endpoint: proc.url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    // throwOnRequestTimeout: otherwise the SDK only warns at requestTimeout and keeps waiting.
    requestHandler: new NodeHttpHandler({ connectionTimeout: CLIENT_TIMEOUT_MS, requestTimeout: CLIENT_TIMEOUT_MS, throwOnRequestTimeout: true }),
  })
  // Seeding (an RSA key pair per pool, scrypt per password) gets its own, patient client.
  const admin = new CognitoIdentityProviderClient({ endpoint: proc.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => sdk.destroy())
  t.teardown(() => admin.destroy())
  const { UserPool } = await admin.send(new CreateUserPoolCommand({ PoolName: 'operators' }))
  const { UserPoolClient } = await admin.send(
    new CreateUserPoolClientCommand({
      UserPoolId: UserPool!.Id,
      ClientName: 'console',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  )
  await admin.send(new AdminCreateUserCommand({ UserPoolId: UserPool!.Id, Username: 'oncall', MessageAction: 'SUPPRESS' }))
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: UserPool!.Id, Username: 'oncall', Password: PASSWORD, Permanent: true }))
  const signIn = async (): Promise<Attempt> => {
    const startedAtMs = Date.now()
    try {
      await sdk.send(
        new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: UserPoolClient!.ClientId, AuthParameters: { USERNAME: 'oncall', PASSWORD } }),
      )
      return { startedAtMs, durationMs: Date.now() - startedAtMs }
    } catch (err) {
      return { startedAtMs, durationMs: Date.now() - startedAtMs, error: (err as Error).name }
    }
  }
  return { proc, signIn }
}

/** An open-loop sign-in load: one every SIGN_IN_EVERY_MS whatever the answers, until stopped or maxCalls. */
function signInLoop(signIn: () => Promise<Attempt>, maxCalls: number) {
  const attempts: Attempt[] = []
  const pending = new Set<Promise<void>>()
  let calls = 0
  const timer = setInterval(() => {
    if (++calls > maxCalls) return clearInterval(timer)
    const p = signIn().then((a) => void attempts.push(a))
    pending.add(p)
    void p.finally(() => pending.delete(p))
  }, SIGN_IN_EVERY_MS)
  return {
    attempts,
    async stop() {
      clearInterval(timer)
      await Promise.all(pending)
    },
  }
}

// Boot, break, fill, a second server, heal: a few minutes on a loaded 2-core machine.
t.setTimeout(480_000)

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`

t.test(
  'sign-ins block and time out once the access buffer fills behind a broken Kinesis; SUSTAIN_KINESIS_ERRORS keeps them fast',
  { skip: kinesisOutageSkip },
  async (t) => {
    // One test dir: tap's t.testdir() starts a fresh (empty) one on every call.
    const dir = t.testdir()
    const kinesis = await startKinesisOutage(t, { runDir: path.join(dir, 'kinesis') })
    const blocking = await cognitoWithUser(t, dir, kinesis.endpoint, {})
    await eventually(async () => (await health(blocking.proc.url)).stream.ready, {
      what: 'the access-pattern stream ready',
      timeoutMs: 30_000,
      intervalMs: 100,
    })

    // Healthy Kinesis: the buffer ships as fast as it fills.
    const loop = signInLoop(blocking.signIn, 3_000)
    t.teardown(() => loop.stop())
    await eventually(async () => loop.attempts.length >= 10, { what: '10 sign-ins', timeoutMs: 60_000, intervalMs: 100 })
    t.same(
      loop.attempts.filter((a) => a.error),
      [],
      'every sign-in works while Kinesis is healthy',
    )
    t.comment(`healthy: ${loop.attempts.length} sign-ins, slowest ${Math.max(...loop.attempts.map((a) => a.durationMs))} ms`)
    t.ok((await health(blocking.proc.url)).accessBuffer.records < BUFFER_RECORDS, 'the buffer is not filling')

    // The trigger: capacity added to the Kinesis front-end fleet, past its thread limit.
    const breakAtMs = Date.now()
    let kinesisFailedAtMs: number | undefined
    let blockedAtMs: number | undefined
    const watch = setInterval(async () => {
      const h = await health(blocking.proc.url).catch(() => undefined)
      if (kinesisFailedAtMs === undefined && h?.accessBuffer.shipFailures > 0) kinesisFailedAtMs = Date.now()
      if (blockedAtMs === undefined && h?.accessBuffer.blockedRequests > 0) blockedAtMs = Date.now()
    }, 100)
    t.teardown(() => clearInterval(watch))
    await kinesis.break()
    t.comment(`Kinesis broken: every front-end's shard-map is broken ${secs(Date.now() - breakAtMs)} after break()`)

    const firstFailure = await eventually(
      async () => loop.attempts.filter((a) => a.error && a.startedAtMs >= breakAtMs).sort((a, b) => a.startedAtMs - b.startedAtMs)[0],
      { what: 'a sign-in that fails', timeoutMs: 180_000, intervalMs: 100 },
    )
    t.ok(kinesisFailedAtMs, 'cognito saw PutRecords fail')
    t.equal(firstFailure.error, 'TimeoutError', 'the sign-in did not get an error answer: it hung until the client gave up')
    const absorbed = loop.attempts.filter((a) => !a.error && a.startedAtMs >= kinesisFailedAtMs!)
    t.ok(absorbed.length > 0, `sign-ins kept working after Kinesis failed (${absorbed.length} of them): the buffer absorbed their records`)
    const stuck = await health(blocking.proc.url)
    t.equal(stuck.accessBuffer.records, BUFFER_RECORDS, 'the buffer is full')
    t.ok(stuck.accessBuffer.blockedRequests > 0, `request handlers wait for buffer space (${stuck.accessBuffer.blockedRequests})`)
    t.equal(stuck.status, 'ok', '/health itself still answers: only the API calls hang')
    await new Promise((r) => setTimeout(r, 2 * CLIENT_TIMEOUT_MS))
    // Counted from the first handler seen blocked: on a loaded machine an earlier sign-in can time
    // out from CPU contention alone while the buffer still has room.
    const since = blockedAtMs ?? firstFailure.startedAtMs
    const late = loop.attempts.filter((a) => a.startedAtMs >= since)
    const notTimedOut = late.filter((a) => a.error !== 'TimeoutError').map((a) => a.error ?? 'ok')
    t.ok(
      late.length > 5 && notTimedOut.length === 0,
      `every sign-in since the buffer filled times out (${late.length}; others: ${notTimedOut.join(', ') || 'none'})`,
    )
    await loop.stop()
    t.ok(blockedAtMs, 'the watcher saw handlers blocked')
    t.comment(
      `default buffer of ${BUFFER_RECORDS} records at ${1000 / SIGN_IN_EVERY_MS} sign-ins/s, times from break(): first PutRecords failure +${secs(kinesisFailedAtMs! - breakAtMs)}, ` +
        `first handler blocked on the full buffer +${secs(blockedAtMs! - breakAtMs)} (${secs(blockedAtMs! - kinesisFailedAtMs!)} after Kinesis failed), ` +
        `first failed sign-in started +${secs(firstFailure.startedAtMs - breakAtMs)} and timed out at +${secs(firstFailure.startedAtMs + firstFailure.durationMs - breakAtMs)} ` +
        `(${secs(firstFailure.startedAtMs + firstFailure.durationMs - kinesisFailedAtMs!)} after Kinesis failed); ${absorbed.length} sign-ins absorbed in between`,
    )

    // Remediation 9: another Cognito server, against the same broken Kinesis, with a shedding buffer.
    const sustaining = await cognitoWithUser(t, dir, kinesis.endpoint, { SUSTAIN_KINESIS_ERRORS: 'true' })
    const steady = signInLoop(sustaining.signIn, 1_000)
    t.teardown(() => steady.stop())
    // Long enough to fill its buffer twice over.
    await new Promise((r) => setTimeout(r, (2 * BUFFER_RECORDS + 20) * SIGN_IN_EVERY_MS))
    await steady.stop()
    const sustained = await health(sustaining.proc.url)
    const failed = steady.attempts.filter((a) => a.error)
    t.same(failed, [], `every sign-in worked with SUSTAIN_KINESIS_ERRORS (${steady.attempts.length})`)
    t.equal(sustained.sustainKinesisErrors, true)
    t.equal(sustained.accessBuffer.records, BUFFER_RECORDS, 'its buffer is full too')
    t.equal(sustained.accessBuffer.blockedRequests, 0, 'and no handler waits on it')
    t.ok(sustained.accessBuffer.shed > 0, `records were shed instead (${sustained.accessBuffer.shed})`)
    t.match(
      await (await request(`${sustaining.proc.url}/metrics`, { headers: INTERNAL })).body.text(),
      new RegExp(`cognito_access_records_shed_total\\{[^}]*\\} ${sustained.accessBuffer.shed}`),
    )
    const slowest = Math.max(...steady.attempts.map((a) => a.durationMs))
    t.comment(
      `SUSTAIN_KINESIS_ERRORS: ${steady.attempts.length} sign-ins against the broken Kinesis, none failed, slowest ${slowest} ms, ${sustained.accessBuffer.shed} records shed`,
    )

    // The heal: capacity removed, the fleet restarted at a pace. The blocked server drains its backlog.
    const healStartedMs = Date.now()
    await kinesis.heal()
    const drained = await eventually(
      async () => {
        const h = await health(blocking.proc.url)
        return h.accessBuffer.blockedRequests === 0 && h.accessBuffer.records < BUFFER_RECORDS && h
      },
      { what: 'the blocked handlers released and the buffer drained', timeoutMs: 120_000, intervalMs: 100 },
    )
    const recovered = await blocking.signIn()
    t.notOk(recovered.error, 'a sign-in works again on the server that was blocked')
    t.ok(drained.accessBuffer.shipped > 0)
    t.comment(
      `heal(): Kinesis served again after ${secs(Date.now() - healStartedMs)}; the default server's ${stuck.accessBuffer.blockedRequests}+ waiting handlers were released and sign-ins work again`,
    )
  },
)
