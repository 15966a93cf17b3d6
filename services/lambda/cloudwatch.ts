// The agent's way to CloudWatch: the stock @aws-sdk/client-cloudwatch, HTTP/1.1 via NodeHttpHandler
// with explicit timeouts, always against the configured local endpoint. One attempt per call: the
// agent's buffer is its retry (what failed stays buffered and goes again on the next flush), and SDK
// retries on top would only hold the flusher longer while CloudWatch is down.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { DEFAULT_REGION } from '../kit/index.js'
import { BatchRejected, type ShipDatums } from './agent.js'

/** Client faults that only mean "not now": kept and sent again, like unavailability. */
const RETRYABLE_CLIENT_ERRORS = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestThrottled',
])

export interface CloudWatchShipperOptions {
  endpoint: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  requestTimeoutMs: number
}

export function cloudWatchShipper(opts: CloudWatchShipperOptions): { ship: ShipDatums; close(): void } {
  const client = new CloudWatchClient({
    endpoint: opts.endpoint,
    region: DEFAULT_REGION,
    credentials: opts.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(opts.requestTimeoutMs, 1000),
      requestTimeout: opts.requestTimeoutMs,
      // Without it, @smithy/node-http-handler 4.x only logs a warning when requestTimeout passes and
      // keeps waiting: a CloudWatch that stops answering would hold the flusher forever.
      throwOnRequestTimeout: true,
    }),
  })
  return {
    ship: async (namespace, datums) => {
      try {
        await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: datums }))
      } catch (err) {
        const e = err as { $fault?: string; name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
        const status = e.$metadata?.httpStatusCode
        if (e.$fault === 'client' && status !== undefined && status >= 400 && status < 500 && !RETRYABLE_CLIENT_ERRORS.has(e.name ?? '')) {
          throw new BatchRejected(e.name ?? 'ClientError', e.message ?? '')
        }
        throw err
      }
    },
    close: () => client.destroy(),
  }
}
