// Process entry of kinesis/endpoint: read the environment, build the app, serve.
import { envBool, envInt, envString, InvalidConfig, serve } from '../../kit/index.js'
import { buildApp } from './app.js'
import { loadConfig, type EndpointConfig } from './config.js'

const env = process.env
let port: number, host: string, config: EndpointConfig
try {
  port = envInt(env, 'PORT', { min: 0, max: 65535 })
  host = envString(env, 'HOST', '127.0.0.1')
  config = loadConfig(env)
} catch (err) {
  if (!(err instanceof InvalidConfig)) throw err
  process.stderr.write(`kinesis-endpoint: ${err.message}\n`)
  process.exit(2)
}
const app = buildApp({
  config,
  adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
  internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
  logLevel: envString(env, 'LOG_LEVEL', 'info'),
})
await serve(app, { port, host, watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false) })
