// Every service of the lab built in one process, each its own fastify app as main.ts builds it, wired
// to the others over 127.0.0.1: metadata, a back-end and a front-end (the Kinesis that CloudWatch,
// EventBridge and the status page's Cognito call), the endpoint, Cognito, CloudWatch, EventBridge,
// Lambda, the autoscaler, the status page, and the control API of `up` over a topology stand-in.
// What the fuzz test and bench/fuzz.ts throw bad input at; the test of registered routes walks it too.
// Nothing is spawned: no thread limit, no cgroup, no peer threads (the front-end's shard-map is a
// small reader of metadata, not the real one).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { AwsErrors } from '../../../services/kit/index.js'
import { buildApp as buildMetadata } from '../../../services/kinesis/metadata/app.js'
import { MetadataStore } from '../../../services/kinesis/metadata/store.js'
import { buildApp as buildBackend } from '../../../services/kinesis/backend/app.js'
import { ShardStore } from '../../../services/kinesis/backend/shard-store.js'
import { buildApp as buildFrontend } from '../../../services/kinesis/frontend/app.js'
import type { ShardMap, ShardMapStats, StreamInfo } from '../../../services/kinesis/frontend/shardmap/types.js'
import { buildApp as buildEndpoint } from '../../../services/kinesis/endpoint/app.js'
import { loadConfig as endpointConfig } from '../../../services/kinesis/endpoint/config.js'
import { buildApp as buildCognito, type AccessSink } from '../../../services/cognito/app.js'
import { UserStore } from '../../../services/cognito/store.js'
import { buildApp as buildCloudWatch } from '../../../services/cloudwatch/app.js'
import { createKinesisClient as cloudWatchKinesis } from '../../../services/cloudwatch/kinesis.js'
import { buildApp as buildEventBridge } from '../../../services/eventbridge/app.js'
import { RuleStore } from '../../../services/eventbridge/rules.js'
import { Checkpoints } from '../../../services/eventbridge/checkpoint.js'
import { createKinesisClient as eventBridgeKinesis } from '../../../services/eventbridge/stream.js'
import { buildApp as buildLambda } from '../../../services/lambda/app.js'
import { buildApp as buildAutoscaler } from '../../../services/autoscaler/app.js'
import { buildApp as buildStatusPage } from '../../../services/status-page/app.js'
import { UpdateLog } from '../../../services/status-page/updates.js'
import { buildControlApp } from '../../../harness/control/server.js'
import { InvalidOperation } from '../../../harness/topology/errors.js'
import type { StartedTopology } from '../../../harness/platform/started.js'

export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
export const KEYS = new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]])
export const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef'
export const OPERATOR_KEY = 'fuzz-operator-key-0123456789abcdef'
export const FLEET = 'main'

export interface LabApp {
  /** The catalogue's service name ("kinesis-frontend"), or "control" for the control API. */
  name: string
  app: FastifyInstance
  /** Its URL on 127.0.0.1, when it listens (the ones another service calls). */
  url?: string
}

export interface Lab {
  apps: LabApp[]
  get(name: string): FastifyInstance
  close(): Promise<void>
}

/** Builds every app; `dir` is scratch space (stores, logs), removed by close(). */
export async function startLab(opts: { dir?: string } = {}): Promise<Lab> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-fuzz-'))
  const apps: LabApp[] = []
  const listen = async (name: string, app: FastifyInstance) => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    apps.push({ name, app, url })
    return url
  }
  // Every app listens, as in a run: some start their work (streams, health checks) once listening.
  const add = listen
  const common = { adminToken: ADMIN_TOKEN, logger: false }
  try {
    const metadataUrl = await listen('kinesis-metadata', buildMetadata({ store: await MetadataStore.open(path.join(dir, 'metadata.json')), ...common }))
    const { store } = await ShardStore.open(path.join(dir, 'backend'))
    await listen('kinesis-backend', buildBackend({ id: 'backend-1', store, iteratorSecret: 'fuzz-iterator-secret', metadataUrl, ...common }))
    const frontendUrl = await listen(
      'kinesis-frontend',
      buildFrontend({ shardMap: new MetadataShardMap(metadataUrl), keys: KEYS, metadataUrl, throttle: false, instance: `${FLEET}-1`, ...common }),
    )
    await waitFor(
      async () => (await fetch(`${metadataUrl}/backends`).then((r) => r.json() as Promise<{ backends: unknown[] }>)).backends.length > 0,
      'the back-end registered',
    )
    // The stream the fuzzer's well-formed Kinesis calls name, so writes and reads reach the back-end.
    await fetch(`${metadataUrl}/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"fuzz","shardCount":2}' })
    const endpointUrl = await listen('kinesis-endpoint', buildEndpoint({ config: endpointConfig({ ENDPOINT_MEMBERS: frontendUrl, FLEET }), ...common }))
    const admin = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }
    await waitFor(
      async () => (await fetch(`${endpointUrl}/admin/members`, admin).then((r) => r.json() as Promise<Array<{ healthy: boolean }>>))[0]?.healthy === true,
      'the endpoint found its member healthy',
    )

    const sink: AccessSink = { ship: async () => [], ready: true, status: () => ({ name: 'cognito-access', ready: true }) as never }
    const cognitoUrl = await listen(
      'cognito',
      buildCognito({
        store: await UserStore.open(path.join(dir, 'cognito.json')),
        keys: KEYS,
        accessSink: sink,
        accessBufferRecords: 10_000,
        accessFlushIntervalMs: 100,
        sustainKinesisErrors: true,
        ...common,
      }),
    )
    const cwKinesis = cloudWatchKinesis({ endpoint: frontendUrl, credentials: CREDENTIALS, timeoutMs: 5_000, maxAttempts: 1 })
    await add(
      'cloudwatch',
      buildCloudWatch({
        keys: KEYS,
        kinesis: cwKinesis,
        stream: 'cloudwatch-metrics',
        streamShards: 1,
        retentionMs: 3 * 3600_000,
        consumerPollMs: 500,
        alarmEvaluationIntervalMs: 1_000,
        streamRetryMs: 500,
        shipRetryMs: 1_000,
        shipBatch: 1_000,
        actionHosts: new Set(['127.0.0.1']),
        actionTimeoutMs: 1_000,
        actionRetries: 0,
        ...common,
      }),
    )
    const ebKinesis = eventBridgeKinesis({ endpoint: frontendUrl, region: 'us-east-1', credentials: CREDENTIALS, timeoutMs: 5_000 })
    await add(
      'eventbridge',
      buildEventBridge({
        kinesis: ebKinesis,
        rules: await RuleStore.open(undefined),
        checkpoints: await Checkpoints.open('eventbridge-events', undefined),
        keys: KEYS,
        region: 'us-east-1',
        tuning: { targetHosts: ['127.0.0.1'] },
        ...common,
      }),
    )
    await add(
      'lambda',
      buildLambda({
        keys: KEYS,
        ship: async () => {},
        hostMemoryBudgetBytes: 256 * 1024 * 1024,
        invocationMemoryBytes: 1024 * 1024,
        logBytesPerInvocation: 1024,
        agentFlushIntervalMs: 1_000,
        startAgent: false,
        ...common,
      }),
    )
    // Its workflows are never started: scaled-out tasks wait in PROVISIONING, no task process starts.
    const eventBridge = new EventBridgeClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
    await add('autoscaler', buildAutoscaler({ eventBridge, keys: KEYS, maxTasks: 4, ...common }))
    await add(
      'status-page',
      buildStatusPage({ log: await UpdateLog.open(path.join(dir, 'updates.jsonl')), cognitoUrl, operatorKey: OPERATOR_KEY, jwksTimeoutMs: 1_000, ...common }),
    )
    await add('control', buildControlApp({ topology: topologyStandIn(), token: ADMIN_TOKEN }))
    // What their main.ts does once they listen: create and consume their Kinesis streams.
    apps.find((a) => a.name === 'cloudwatch')!.app.cloudwatch.start()
    void apps.find((a) => a.name === 'eventbridge')!.app.eventbridge.start()
    for (const name of ['cloudwatch', 'eventbridge']) {
      const url = apps.find((a) => a.name === name)!.url
      let last = ''
      await waitFor(
        async () => {
          last = await fetch(`${url}/health`).then((r) => r.text())
          return JSON.parse(last).stream_ready === true
        },
        `${name}'s stream ready`,
        30_000,
        () => last,
      )
    }
    return {
      apps,
      get(name) {
        const found = apps.find((a) => a.name === name)
        if (!found) throw new Error(`no app ${name} in the lab`)
        return found.app
      },
      async close() {
        // Those called by others last: the callers' loops stop first.
        for (const a of [...apps].reverse()) await a.app.close().catch(() => {})
        cwKinesis.destroy()
        ebKinesis.destroy()
        eventBridge.destroy()
        fs.rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    for (const a of [...apps].reverse()) await a.app.close().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, state: () => string = () => ''): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`fuzz lab: ${what} did not happen within ${timeoutMs} ms ${state()}`.trim())
}

/** The front-end's shard-map reduced to what the data plane asks of it, read from metadata (no peers, no threads). */
class MetadataShardMap implements ShardMap {
  readonly state = 'ready' as const
  #streams = new Map<string, StreamInfo>()
  #backends = new Map<string, string>()
  constructor(private readonly metadataUrl: string) {}
  requireUsable(): void {}
  async stream(name: string): Promise<StreamInfo | undefined> {
    if (!this.#streams.has(name)) await this.refresh()
    return this.#streams.get(name)
  }
  listStreams(): string[] {
    return [...this.#streams.keys()].sort()
  }
  backendUrl(owner: string): string {
    const url = this.#backends.get(owner)
    if (!url) throw AwsErrors.InternalFailure(`no back-end ${owner} in the shard-map`)
    return url
  }
  async refresh(): Promise<void> {
    const map = (await (await fetch(`${this.metadataUrl}/shardmap?fleet=${FLEET}`)).json()) as { streams: StreamInfo[]; backends: Record<string, string> }
    this.#streams = new Map(map.streams.map((s) => [s.name, s]))
    this.#backends = new Map(Object.entries(map.backends))
  }
  stats(): ShardMapStats {
    return {
      state: 'ready',
      version: 0,
      threads: 11,
      threadLimit: Infinity,
      enforcement: 'process',
      peers: 0,
      peerThreads: 0,
      pendingPeers: 0,
      threadCreateFailures: 0,
    }
  }
  async close(): Promise<void> {}
}

/** What the control API drives, answering as a running topology of one fleet (`main`, 1 member) does. */
function topologyStandIn(): StartedTopology {
  let size = 1
  const fleet = (name: string) => {
    if (name !== FLEET) throw new InvalidOperation('UNKNOWN_FLEET', `no fleet ${name} (fleets: ${FLEET})`)
  }
  const service = (name: string) => {
    if (name !== 'cloudwatch') throw new InvalidOperation('UNKNOWN_SERVICE', `no service ${name}`)
  }
  const stand = {
    runId: 'fuzz',
    adminToken: ADMIN_TOKEN,
    threadLimitEnforcement: 'process',
    endpoints: () => ({ runId: 'fuzz', region: 'us-east-1', credentials: CREDENTIALS, services: {}, fleets: {} }),
    logFileOf: (name: string) => `/dev/null/${name}`,
    secret: () => undefined,
    services: () => [{ name: 'cloudwatch', kind: 'cloudwatch', url: 'http://127.0.0.1:9', state: 'ready', restarts: 0 }],
    health: async () => [{ name: 'cloudwatch', status: 200 }],
    fleetSize: () => size,
    async scaleFleet(name: string, to: number) {
      fleet(name)
      if (to < 1 || to > 16) throw new InvalidOperation('INVALID_ARGUMENT', `to: expected 1..16, got ${to}`)
      const from = size
      size = to
      return { fleet: name, from, to, added: [], removed: [], notReady: [] }
    },
    async setThreadLimit(name: string, to: number) {
      fleet(name)
      return { fleet: name, from: 18, to, live: [] }
    },
    async restartFleet(name: string) {
      fleet(name)
      return { fleet: name, restarted: [], notReady: [], durationMs: 0 }
    },
    kill: async (name: string) => service(name),
    pause: async (name: string) => service(name),
    resume: async (name: string) => service(name),
    restart: async (name: string) => service(name),
    partition: async (name: string) => (service(name), { how: 'stand-in' }),
    healPartition: async (name: string) => (service(name), { how: 'stand-in' }),
    stop: async () => {},
    leftovers: async () => [],
    [Symbol.asyncDispose]: async () => {},
  }
  return stand as unknown as StartedTopology
}
