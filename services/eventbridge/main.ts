// EventBridge process: env -> rules + checkpoints from disk -> app -> listen -> stream and consumer.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import path from 'node:path'
import { serve } from '../kit/index.js'
import { readConfig } from './config.js'
import { buildApp } from './app.js'
import { RuleStore } from './rules.js'
import { Checkpoints } from './checkpoint.js'
import { createKinesisClient } from './stream.js'

let cfg
try {
  cfg = readConfig(process.env)
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}
const [accessKeyId, secretAccessKey] = [...cfg.keys][0]
const kinesis = createKinesisClient({
  endpoint: cfg.kinesisEndpoint,
  region: cfg.region,
  credentials: { accessKeyId, secretAccessKey },
  timeoutMs: cfg.tuning.kinesisTimeoutMs,
})
const rules = await RuleStore.open(path.join(cfg.dataDir, 'rules.json'))
const checkpoints = await Checkpoints.open(cfg.tuning.stream, path.join(cfg.dataDir, `checkpoints-${cfg.tuning.stream}.json`), cfg.tuning.checkpointIntervalMs)

const app = buildApp({
  kinesis,
  rules,
  checkpoints,
  keys: cfg.keys,
  region: cfg.region,
  tuning: cfg.tuning,
  seed: cfg.seed,
  adminToken: cfg.adminToken,
  internalToken: cfg.internalToken,
  autoscalerUrl: cfg.autoscalerUrl,
  logLevel: cfg.logLevel,
})
app.addHook('onClose', async () => kinesis.destroy())
await serve(app, { port: cfg.port, host: cfg.host, watchParent: cfg.watchParent })
void app.eventbridge.start()
