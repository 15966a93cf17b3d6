// The compiled back-end as a process: env wiring, registration with a real metadata process.
import t from 'tap'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { INTERNAL, spawnService } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await request(url, { headers: INTERNAL })
  return { status: res.statusCode, body: await res.body.json() }
}

t.test('a back-end process registers its URL with metadata and turns healthy', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-backend-proc-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const metadata = await spawnService('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir })
  t.teardown(() => metadata.stop())
  const common = { OUTAGE_LAB_DATA_DIR: dir, METADATA_URL: metadata.url, ITERATOR_SECRET: 'proc-secret' }
  const a = await spawnService('services/kinesis/backend/main.js', { ...common, BACKEND_ID: 'backend-a', SHARD_RETENTION_MS: '240000' })
  t.teardown(() => a.stop())
  const b = await spawnService('services/kinesis/backend/main.js', { ...common, BACKEND_ID: 'backend-b', ADVERTISE_URL: 'http://backend-b.example:4100' })
  t.teardown(() => b.stop())

  // A soft wait: the assertion below says what is wrong if it never turns healthy.
  const health = await eventually(() => get(`${b.url}/health`), {
    what: 'backend-b healthy',
    timeoutMs: 5_000,
    intervalMs: 50,
    until: (h) => h.status === 200,
  }).catch(() => get(`${b.url}/health`))
  t.match(health, { status: 200, body: { status: 'ok', backend: 'backend-b', registered: true, retentionMs: 86_400_000 } }, "Kinesis's 24 h by default")
  await eventually(async () => (await get(`${a.url}/health`)).status === 200, { what: 'backend-a healthy', timeoutMs: 5_000, intervalMs: 50 }).catch(
    () => undefined,
  )
  t.same((await get(`${metadata.url}/backends`)).body, {
    backends: [
      { id: 'backend-a', url: a.url },
      { id: 'backend-b', url: 'http://backend-b.example:4100' },
    ],
  })
  t.equal((await get(`${a.url}/health`)).body.retentionMs, 240_000, 'SHARD_RETENTION_MS sets the retention')
  t.ok((await fs.readdir(dir)).includes('backend-backend-a'), 'data lives under $OUTAGE_LAB_DATA_DIR/backend-<id>')
  t.equal(await a.stop(), 0, 'SIGTERM closes cleanly')
})

t.test('a back-end with a missing or bad setting refuses to start and says why', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-backend-proc-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  await t.rejects(
    spawnService('services/kinesis/backend/main.js', { OUTAGE_LAB_DATA_DIR: dir, BACKEND_ID: 'backend-a' }),
    /environment variable ITERATOR_SECRET: expected a non-empty string, got nothing/,
  )
  await t.rejects(
    spawnService('services/kinesis/backend/main.js', { OUTAGE_LAB_DATA_DIR: dir, BACKEND_ID: 'a/b', ITERATOR_SECRET: 's' }),
    /environment variable BACKEND_ID: expected letters, digits, _ \. - \(1\.\.128\), got "a\/b"/,
  )
  await t.rejects(
    spawnService('services/kinesis/backend/main.js', { OUTAGE_LAB_DATA_DIR: dir, BACKEND_ID: 'backend-a', ITERATOR_SECRET: 's', SHARD_RETENTION_MS: '500' }),
    /environment variable SHARD_RETENTION_MS: expected an integer in \[1000, 31536000000\], got "500"/,
  )
})
