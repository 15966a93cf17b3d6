// Process entry of cognito: env -> user store -> app (with the Kinesis access-pattern stream) -> serve.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import { serve, InvalidConfig } from '../kit/index.js'
import { readConfig, type CognitoConfig } from './config.js'
import { UserStore } from './store.js'
import { AccessStream } from './kinesis-stream.js'
import { buildApp } from './app.js'

let cfg: CognitoConfig
try {
  cfg = readConfig(process.env)
} catch (err) {
  if (!(err instanceof InvalidConfig)) throw err
  process.stderr.write(`cognito: ${err.message}\n`)
  process.exit(2)
}

const store = await UserStore.open(cfg.storeFile, { seed: cfg.seed })
const app = buildApp({
  store,
  keys: cfg.keys,
  accessSink: (logger) =>
    new AccessStream({
      endpoint: cfg.kinesisEndpoint,
      region: cfg.region,
      credentials: cfg.credentials,
      streamName: cfg.accessLogStream,
      shardCount: cfg.accessLogShards,
      requestTimeoutMs: cfg.accessShipTimeoutMs,
      logger,
    }),
  accessBufferRecords: cfg.accessBufferRecords,
  accessFlushIntervalMs: cfg.accessFlushIntervalMs,
  sustainKinesisErrors: cfg.sustainKinesisErrors,
  publicUrl: cfg.publicUrl,
  adminToken: cfg.adminToken,
  internalToken: cfg.internalToken,
  logLevel: cfg.logLevel,
})
app.log.info(
  {
    file: store.file,
    userPools: store.poolCount,
    stream: cfg.accessLogStream,
    bufferRecords: cfg.accessBufferRecords,
    sustainKinesisErrors: cfg.sustainKinesisErrors,
  },
  'store loaded',
)
await serve(app, { port: cfg.port, host: cfg.host, watchParent: cfg.watchParent, onClose: () => store.flush() })
