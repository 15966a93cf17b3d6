// The autoscaler process: env -> EventBridge client + app -> listen -> start its workflows.
import { serve, DEFAULT_REGION } from '../kit/index.js'
import { readConfig } from './config.js'
import { buildApp } from './app.js'
import { createEventBridgeClient } from './workflow.js'
import { createCloudWatchClient } from './alarms.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const cfg = readConfig(process.env)
const [accessKeyId, secretAccessKey] = [...cfg.keys.entries()][0]
const credentials = { accessKeyId, secretAccessKey }
const app = buildApp({
  cloudWatch: cfg.cloudWatchUrl
    ? createCloudWatchClient({ endpoint: cfg.cloudWatchUrl, region: DEFAULT_REGION, credentials, timeoutMs: cfg.cloudWatchTimeoutMs })
    : undefined,
  eventBridge: createEventBridgeClient({
    endpoint: cfg.eventBridgeUrl,
    region: DEFAULT_REGION,
    credentials: { accessKeyId, secretAccessKey },
    timeoutMs: cfg.eventBridgeTimeoutMs,
  }),
  keys: cfg.keys,
  instance: cfg.instance,
  ruleName: cfg.ruleName,
  eventBusName: cfg.eventBusName,
  maxTasks: cfg.maxTasks,
  taskStartTimeoutMs: cfg.taskStartTimeoutMs,
  retryBaseMs: cfg.retryBaseMs,
  retryMaxMs: cfg.retryMaxMs,
  eventTimeoutMs: cfg.eventTimeoutMs,
  tickMs: cfg.tickMs,
  seed: cfg.seed,
  adminToken: cfg.adminToken,
  internalToken: cfg.internalToken,
  logLevel: cfg.logLevel,
})

await serve(app, { port: cfg.port, host: cfg.host, watchParent: cfg.watchParent })
// EventBridge learns where to deliver only now: with PORT=0 the port is known after listen.
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : cfg.port
app.autoscaler.start(cfg.publicUrl ?? `http://127.0.0.1:${port}`)
