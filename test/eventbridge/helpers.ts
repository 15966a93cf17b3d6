// Shared by the EventBridge tests: the spawned service, an SDK client for it, a scripted HTTP target
// on 127.0.0.1 that records what it receives, and sleep(). Polling is eventually() (../helpers/eventually.ts).
import http from 'node:http'
import { request } from 'undici'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { INTERNAL, spawnService, CREDENTIALS, type Spawned } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export async function startEventBridge(t: Tap.Test, env: Record<string, string>): Promise<Spawned> {
  // A loaded machine (other tests, a booting topology) can take well over 15 s to start a process.
  // OUTAGE_LAB_WATCH_PARENT: a test process killed by tap's timeout takes its EventBridge along.
  const eb = await spawnService('services/eventbridge/main.js', { OUTAGE_LAB_WATCH_PARENT: '1', ...env }, { timeoutMs: 60_000 })
  t.teardown(() => eb.stop())
  await eventually(async () => (await getJson(`${eb.url}/health`)).stream_ready === true, { what: 'the events stream ready', timeoutMs: 60_000 })
  return eb
}

export function eventsClient(t: Tap.Test, url: string): EventBridgeClient {
  // maxAttempts 1: the tests see each answer as the service gave it, not after SDK retries.
  const c = new EventBridgeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }),
  })
  t.teardown(() => c.destroy())
  return c
}

export interface Received {
  path: string
  body: any
  atMs: number
}

/** An HTTP target: `script(path, attempt)` returns the status to answer (200 unless told). */
export async function startTarget(
  t: Tap.Test,
  script: (path: string, attempt: number) => number = () => 200,
): Promise<{ url: string; received: Received[]; attempts: Map<string, number> }> {
  const received: Received[] = []
  const attempts = new Map<string, number>()
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (d) => (raw += d))
    req.on('end', () => {
      const path = req.url ?? '/'
      const n = (attempts.get(path) ?? 0) + 1
      attempts.set(path, n)
      const status = script(path, n)
      if (status >= 200 && status < 300) received.push({ path, body: JSON.parse(raw), atMs: Date.now() })
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}`, received, attempts }
}

export async function getJson(url: string): Promise<any> {
  try {
    const res = await request(url)
    return await res.body.json()
  } catch {
    return {}
  }
}

/** The value of one Prometheus sample, labels as written in the exposition ('{outcome="success"}'), 0 if absent. */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await request(`${url}/metrics`, { headers: INTERNAL })).body.text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    // Default labels (service, instance) come first; match the asked ones anywhere in the set.
    const set = rest[0] === '{' ? rest.slice(0, rest.indexOf('}') + 1) : ''
    if (
      labels &&
      !labels
        .slice(1, -1)
        .split(',')
        .every((l) => set.includes(l))
    )
      continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
