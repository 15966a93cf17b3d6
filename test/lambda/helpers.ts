// What the Lambda process tests share: a small simulated host, an open-loop customer of Invoke,
// and readers of the process's /health and /metrics.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { INTERNAL, CREDENTIALS, type Spawned } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// A small simulated host so the buffer crosses it after a few hundred invocations even on a loaded
// machine: 16 MiB shared by 4 MiB invocations (the workload keeps at most 2 running, 8 MiB) and a
// 64 KiB log record per invocation.
export const HOST_ENV = {
  HOST_MEMORY_BUDGET_MB: '16',
  INVOCATION_MEMORY_MB: '4',
  LOG_BYTES_PER_INVOCATION: '65536',
  AGENT_FLUSH_INTERVAL_MS: '200',
  AGENT_REQUEST_TIMEOUT_MS: '1000',
}

export interface Outcome {
  atMs: number
  ok: boolean
  error?: string
  status?: number
  message?: string
}

/**
 * An open-loop customer: one `sleep` invocation every intervalMs (at most maxInFlight outstanding),
 * until stop(). Every outcome is kept with its time.
 */
export function startWorkload(url: string, intervalMs = 5, maxInFlight = 2) {
  const client = new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 10_000, throwOnRequestTimeout: true }),
  })
  const outcomes: Outcome[] = []
  let inFlight = 0
  const payload = Buffer.from('{"ms": 5}')
  const timer = setInterval(() => {
    if (inFlight >= maxInFlight) return
    inFlight++
    client
      .send(new InvokeCommand({ FunctionName: 'sleep', Payload: payload }))
      .then(() => outcomes.push({ atMs: Date.now(), ok: true }))
      .catch((err) => outcomes.push({ atMs: Date.now(), ok: false, error: err.name, status: err.$metadata?.httpStatusCode, message: err.message }))
      .finally(() => inFlight--)
  }, intervalMs)
  return {
    outcomes,
    async stop() {
      clearInterval(timer)
      await eventually(() => inFlight === 0, { what: 'the invocations in flight', timeoutMs: Infinity, intervalMs: 10 })
      client.destroy()
    },
  }
}

export async function health(lambda: Spawned): Promise<any> {
  return (await fetch(`${lambda.url}/health`)).json()
}

export async function metric(lambda: Spawned, name: string): Promise<number> {
  const text = await (await fetch(`${lambda.url}/metrics`, { headers: INTERNAL })).text()
  // name: a metric name, or a name with the start of its labels ('x_total{function="sleep"').
  const line = text.split('\n').find((l) => l.startsWith(name.includes('{') ? name : `${name}{`) || l.startsWith(`${name} `))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN
}
