// Process entry of kinesis/metadata: env -> store -> app -> serve.
import path from 'node:path'
import { envString, envInt, envBool, serve } from '../../kit/index.js'
import { MetadataStore } from './store.js'
import { buildApp } from './app.js'

const env = process.env
const port = envInt(env, 'PORT', { min: 0, max: 65535 })
const host = envString(env, 'HOST', '127.0.0.1')
const dataDir = envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data')
const file = path.resolve(envString(env, 'METADATA_FILE', path.join(dataDir, 'metadata.json')))

const store = await MetadataStore.open(file)
const app = buildApp({
  store,
  adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
  internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
  logLevel: envString(env, 'LOG_LEVEL', 'info'),
})
app.log.info({ file, version: store.version, streams: store.streamNames().length }, 'store loaded')
await serve(app, { port, host, watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false), onClose: () => store.flush() })
