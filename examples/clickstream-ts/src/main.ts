// Entry point: reads the environment, creates what the service needs (its stream, its users),
// then serves. CLICKSTREAM_VARIANT=naive|resilient chooses the variant (or run naive.js /
// resilient.js, which set it).
import { clients, ensureStream, ensureUsers, SignIn } from './aws.js'
import { createApp, type Variant } from './app.js'

// Node 20 makes every SDK client warn once; the service's log is not the place.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const variant = (process.env.CLICKSTREAM_VARIANT ?? 'naive') as Variant
if (variant !== 'naive' && variant !== 'resilient') {
  console.error(`clickstream: CLICKSTREAM_VARIANT must be naive or resilient, got ${JSON.stringify(variant)}`)
  process.exit(2)
}
const stream = process.env.STREAM ?? 'clickstream'
const users = Number(process.env.USERS ?? 20)
const c = clients(variant)
const app = createApp(c, {
  variant,
  stream,
  users,
  namespace: process.env.METRIC_NAMESPACE ?? 'Clickstream',
  // One spool per lab run (a run marks its processes with OUTAGE_LAB_RUN_ID): a new run's lab has
  // none of an older run's streams. By hand, spool/manual survives restarts and is replayed.
  spoolDir: process.env.SPOOL_DIR ?? `spool/${process.env.OUTAGE_LAB_RUN_ID ?? 'manual'}`,
  shipWaitMs: Number(process.env.SHIP_WAIT_MS ?? 500),
  spoolMaxBytes: Number(process.env.SPOOL_MAX_BYTES ?? 256 * 1024 * 1024),
})

const log = (msg: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ msg, variant, ...extra }))

async function setUp(): Promise<void> {
  // Setup goes through the SDK's default client (with retries) whatever the variant.
  const setup = clients('naive')
  try {
    await ensureStream(setup.kinesis, stream, Number(process.env.SHARDS ?? 1))
    log('stream active', { stream })
    const pool = await ensureUsers(setup.cognito, process.env.USER_POOL ?? 'clickstream', users, process.env.USER_PASSWORD ?? 'Clickstream-Passw0rd!')
    log('users ready', { userPool: pool.poolId, users })
    app.start(new SignIn(c.cognito, pool))
  } finally {
    setup.kinesis.destroy()
    setup.cloudwatch.destroy()
    setup.cognito.destroy()
  }
}

const port = Number(process.env.PORT ?? 8080)
app.server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  log('listening', { port, kinesis: process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL })
  setUp().catch((err: Error) => {
    console.error(`clickstream: setup failed: ${err.message}`)
    process.exit(3)
  })
})

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    log('stopping', { signal: sig })
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
