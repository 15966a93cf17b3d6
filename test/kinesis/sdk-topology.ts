// A real Kinesis on one machine for the SDK tests: the compiled metadata service, two back-ends
// and one front-end as child processes on free ports (test/helpers/spawn.ts), data in a temp dir.
// Build first: npx tsc -p .
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { INTERNAL, spawnService, CREDENTIALS, type Spawned } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

// The SDK prints a NodeVersionSupportWarning once per process on Node < 22; the SDK honours this
// switch (@aws-sdk/core emitWarningIfUnsupportedVersion).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface Kinesis {
  metadata: Spawned
  backends: Spawned[]
  frontend: Spawned
  dir: string
  /** The stock client: HTTP/2 (default handler) or HTTP/1.1 (NodeHttpHandler). */
  client(protocol: 'h2' | 'h1', overrides?: Partial<KinesisClientConfig>): KinesisClient
}

export async function startKinesis(t: Tap.Test, opts: { frontendEnv?: Record<string, string> } = {}): Promise<Kinesis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-sdk-'))
  const procs: Spawned[] = []
  const clients: KinesisClient[] = []
  t.teardown(async () => {
    for (const c of clients) c.destroy()
    await Promise.all(procs.map((p) => p.stop()))
    await fs.rm(dir, { recursive: true, force: true })
  })
  const started = async (entry: string, env: Record<string, string>) => {
    const p = await spawnService(entry, { OUTAGE_LAB_DATA_DIR: dir, ...env })
    procs.push(p)
    return p
  }
  const metadata = await started('services/kinesis/metadata/main.js', {})
  const backends = await Promise.all(
    ['backend-1', 'backend-2'].map((id) =>
      started('services/kinesis/backend/main.js', { BACKEND_ID: id, METADATA_URL: metadata.url, ITERATOR_SECRET: 'sdk-test-secret' }),
    ),
  )
  await eventually(async () => ((await getJson(`${metadata.url}/backends`)).backends ?? []).length === 2, { what: 'both back-ends registered' })
  const frontend = await started('services/kinesis/frontend/main.js', {
    FRONTEND_ID: 'frontend-1',
    METADATA_URL: metadata.url,
    BOOTSTRAP: 'metadata',
    THREAD_LIMIT: '256',
    THREAD_LIMIT_ENFORCEMENT: 'process',
    ...opts.frontendEnv,
  })
  await eventually(async () => (await getJson(`${frontend.url}/health`)).shard_map_state === 'ready', { what: 'front-end shard-map ready' })
  return {
    metadata,
    backends,
    frontend,
    dir,
    client(protocol, overrides = {}) {
      const c = new KinesisClient({
        endpoint: frontend.url,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        ...(protocol === 'h1' ? { requestHandler: new NodeHttpHandler() } : {}),
        ...overrides,
      })
      clients.push(c)
      return c
    },
  }
}

async function getJson(url: string): Promise<any> {
  try {
    const res = await request(url, { headers: INTERNAL })
    return await res.body.json()
  } catch {
    return {}
  }
}
