// Process entry of CloudWatch: env -> Kinesis client (+ local store) -> app -> serve -> background work.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import { InvalidConfig, serve } from '../kit/index.js'
import { readConfig } from './config.js'
import { buildApp } from './app.js'
import { createKinesisClient } from './kinesis.js'
import { LocalStore } from './local-store.js'

let cfg: ReturnType<typeof readConfig>
try {
  cfg = readConfig(process.env)
} catch (err) {
  if (!(err instanceof InvalidConfig)) throw err
  process.stderr.write(`cloudwatch: ${err.message}\n`)
  process.exit(2)
}

const kinesis = createKinesisClient({
  endpoint: cfg.kinesisEndpoint,
  credentials: cfg.credentials,
  timeoutMs: cfg.kinesisTimeoutMs,
  maxAttempts: cfg.kinesisMaxAttempts,
})
const localStore = cfg.localStore ? await LocalStore.open(cfg.localStoreFile, { retentionMs: cfg.localStoreRetentionMs }) : undefined

const app = buildApp({ ...cfg, kinesis, localStore })
app.log.info(
  {
    stream: cfg.stream,
    kinesisEndpoint: cfg.kinesisEndpoint,
    localStore: localStore ? { file: localStore.file, pending: localStore.pendingCount, stored: localStore.size } : false,
  },
  'cloudwatch configured',
)
await serve(app, {
  port: cfg.port,
  host: cfg.host,
  watchParent: cfg.watchParent,
  onClose: async () => {
    kinesis.destroy()
    await localStore?.close()
  },
})
app.cloudwatch.start()
