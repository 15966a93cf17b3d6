// A Lambda invocation host process: env -> CloudWatch shipper (+ spill file) -> app -> serve.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
import { InvalidConfig, serve } from '../kit/index.js'
import { readConfig } from './config.js'
import { cloudWatchShipper } from './cloudwatch.js'
import { SpillFile } from './spill.js'
import { buildApp } from './app.js'

let cfg: ReturnType<typeof readConfig>
try {
  cfg = readConfig(process.env)
} catch (err) {
  // A mis-wired host says which variable is wrong and exits 2, like every outage-lab service.
  if (!(err instanceof InvalidConfig)) throw err
  process.stderr.write(`lambda: ${err.message}\n`)
  process.exit(2)
}
// The agent signs with the first accepted key pair: one set of credentials per run.
const [accessKeyId, secretAccessKey] = cfg.keys.entries().next().value as [string, string]
const shipper = cloudWatchShipper({ endpoint: cfg.cloudwatchUrl, credentials: { accessKeyId, secretAccessKey }, requestTimeoutMs: cfg.agent.requestTimeoutMs })
const spill = cfg.agent.bounded ? await SpillFile.open(cfg.agent.spillFile) : undefined

const app = buildApp({
  keys: cfg.keys,
  ship: shipper.ship,
  hostMemoryBudgetBytes: cfg.hostMemoryBudgetBytes,
  invocationMemoryBytes: cfg.invocationMemoryBytes,
  logBytesPerInvocation: cfg.logBytesPerInvocation,
  maxConcurrentInvocations: cfg.maxConcurrentInvocations,
  agentFlushIntervalMs: cfg.agent.flushIntervalMs,
  agentNamespace: cfg.agent.namespace,
  boundedAgentBuffer: spill ? { maxBytes: cfg.agent.bufferMaxBytes, spill } : undefined,
  hostId: cfg.hostId,
  describe: { cloudwatch_url: cfg.cloudwatchUrl },
  adminToken: cfg.adminToken,
  internalToken: cfg.internalToken,
  logLevel: cfg.logLevel,
})
if (spill && spill.hasData)
  app.log.info({ file: spill.file, bytes: spill.unshippedBytes, entries: spill.entries }, 'agent: replaying a spill left by a previous process')
await serve(app, { port: cfg.port, host: cfg.host, watchParent: cfg.watchParent, onClose: () => shipper.close() })
