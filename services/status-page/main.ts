// Process entry of status-page: env -> update log -> app -> serve.
import { InvalidConfig, serve } from '../kit/index.js'
import { UpdateLog } from './updates.js'
import { buildApp } from './app.js'
import { loadConfig, type StatusPageConfig } from './config.js'

let config: StatusPageConfig
try {
  config = loadConfig(process.env)
} catch (err) {
  if (!(err instanceof InvalidConfig)) throw err
  process.stderr.write(`status-page: ${err.message}\n`)
  process.exit(2)
}
const file = config.updatesFile
const log = await UpdateLog.open(file, { onSkippedLine: (line, reason) => process.stderr.write(`status-page: ${file} line ${line} skipped: ${reason}\n`) })
const app = buildApp({ log, ...config })
app.log.info({ file, updates: log.size, backupPath: config.operatorKey ? 'enabled' : 'disabled', cognitoUrl: config.cognitoUrl }, 'updates loaded')
await serve(app, { port: config.port, host: config.host, watchParent: config.watchParent })
