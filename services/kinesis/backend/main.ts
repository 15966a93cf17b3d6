// Process entry of kinesis/backend: env -> replay the shard logs -> app -> serve -> register.
import path from 'node:path'
import { envString, envInt, envBool, serve, InvalidConfig } from '../../kit/index.js'
import { DEFAULT_RETENTION_MS, ShardStore } from './shard-store.js'
import { buildApp } from './app.js'

const env = process.env
const port = envInt(env, 'PORT', { min: 0, max: 65535 })
const host = envString(env, 'HOST', '127.0.0.1')
const id = envString(env, 'BACKEND_ID')
if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(id)) throw new InvalidConfig('BACKEND_ID', 'letters, digits, _ . - (1..128)', id)
const iteratorSecret = envString(env, 'ITERATOR_SECRET')
const metadataUrl = env.METADATA_URL || undefined
// Kinesis's retention (24 h by default, at most 365 days); the harness compresses it by the run's time scale.
const retentionMs = envInt(env, 'SHARD_RETENTION_MS', { fallback: DEFAULT_RETENTION_MS, min: 1000, max: 8760 * 3_600_000 })
const dataDir = path.resolve(envString(env, 'OUTAGE_LAB_DATA_DIR', './.outage-lab/data'), `backend-${id}`)

const started = performance.now()
const { store, recovered } = await ShardStore.open(dataDir, { retentionMs })
const app = buildApp({
  id,
  store,
  iteratorSecret,
  metadataUrl,
  advertiseUrl: env.ADVERTISE_URL || undefined,
  adminToken: env.OUTAGE_LAB_ADMIN_TOKEN || undefined,
  internalToken: env.OUTAGE_LAB_INTERNAL_TOKEN || undefined,
  logLevel: envString(env, 'LOG_LEVEL', 'info'),
})
for (const r of recovered) if (r.truncatedBytes > 0) app.log.warn(r, 'torn tail cut off a shard log')
app.log.info(
  { dataDir, retentionMs, shards: recovered.length, records: recovered.reduce((n, r) => n + r.records, 0), replayMs: Math.round(performance.now() - started) },
  'shard logs replayed',
)
await serve(app, { port, host, watchParent: envBool(env, 'OUTAGE_LAB_WATCH_PARENT', false) })
