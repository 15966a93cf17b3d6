// Shared by the CloudWatch tests: the stock CloudWatch client, either over a real port or wired
// straight into an app's inject() (same signing, serialisation and error parsing, no socket).
import { Readable } from 'node:stream'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { AwsJson1_0Protocol, AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols'
import type { FastifyInstance } from 'fastify'
import { decodeRecord, type Datapoint } from '../../services/cloudwatch/datapoints.js'
import { readWholeStream } from '../../harness/run/delivery.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

/** Loading the AWS SDK takes a few CPU-seconds: on a loaded 2-core machine start-up took up to 18 s. */
export const SPAWN = { timeoutMs: 60_000 }

export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }

/**
 * The wire protocols the stock client can speak: its default (AWS JSON 1.0), and the two others
 * CloudWatch's model lists, with the SDK's own serializers (the `protocol` option of every v3 client).
 */
export const CLIENT_PROTOCOLS = { awsJson: AwsJson1_0Protocol, rpcv2Cbor: AwsSmithyRpcV2CborProtocol, awsQuery: AwsQueryProtocol } as const
export type ClientProtocol = keyof typeof CLIENT_PROTOCOLS

export function cloudWatchClient(
  endpoint: string,
  opts: { maxAttempts?: number; protocol?: ClientProtocol; credentials?: typeof CREDENTIALS } = {},
): CloudWatchClient {
  return new CloudWatchClient({
    endpoint,
    region: 'us-east-1',
    credentials: opts.credentials ?? CREDENTIALS,
    maxAttempts: opts.maxAttempts ?? 1,
    ...(opts.protocol ? { protocol: CLIENT_PROTOCOLS[opts.protocol] } : {}),
  })
}

/** A client whose requests go to app.inject(): the SDK's whole pipeline without a port. */
export function injectedClient(app: FastifyInstance, opts: { protocol?: ClientProtocol; credentials?: typeof CREDENTIALS } = {}): CloudWatchClient {
  const requestHandler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(req: any) {
      const query = new URLSearchParams(req.query ?? {}).toString()
      const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : Buffer.from(req.body)
      const res = await app.inject({ method: req.method, url: `${req.path}${query ? `?${query}` : ''}`, headers: req.headers, payload: body })
      return {
        response: {
          statusCode: res.statusCode,
          reason: res.statusMessage,
          headers: res.headers as Record<string, string>,
          body: Readable.from([res.rawPayload]),
        },
      }
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  }
  return new CloudWatchClient({
    endpoint: 'http://cloudwatch.local',
    region: 'us-east-1',
    credentials: opts.credentials ?? CREDENTIALS,
    maxAttempts: 1,
    requestHandler: requestHandler as any,
    ...(opts.protocol ? { protocol: CLIENT_PROTOCOLS[opts.protocol] } : {}),
  })
}

/** The error a call fails with, as the fields a CloudWatch user branches on. */
export async function failure(client: CloudWatchClient, command: any): Promise<{ name: string; code?: string; status?: number; message: string }> {
  try {
    await client.send(command)
  } catch (err: any) {
    return { name: err.name, code: err.Code, status: err.$metadata?.httpStatusCode, message: err.message }
  }
  throw new Error('the call succeeded')
}

/**
 * A scratch directory removed at teardown. Not t.testdir(): that one is shared with (and wiped
 * under) the Kinesis topology startKinesisOutage() keeps its logs in.
 */
export function scratchDir(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `outage-lab-cw-${name}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every datapoint of `namespace` on the metric stream (every shard from TRIM_HORIZON, read as the harness reads a stream), decoded as a consumer does. */
export async function datapointsOnStream(
  kinesis: { endpoint: string; region: string; credentials: typeof CREDENTIALS },
  stream: string,
  namespace: string,
): Promise<Datapoint[]> {
  const k = new KinesisClient({ endpoint: kinesis.endpoint, region: kinesis.region, credentials: kinesis.credentials, requestHandler: new NodeHttpHandler() })
  try {
    return (await readWholeStream(k, stream)).flatMap((data) => decodeRecord(data)?.datapoints.filter((d) => d.namespace === namespace) ?? [])
  } finally {
    k.destroy()
  }
}
