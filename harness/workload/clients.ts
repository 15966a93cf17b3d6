// The customers' AWS SDK clients, stock, pointed at the run's services. Every client gets an
// explicit local endpoint (never the real AWS hostname), the experiment's client timeout and the
// SDK's own retry policy, because retry storms are part of the story.
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { ECSClient } from '@aws-sdk/client-ecs'

// Node 20 makes every SDK client warn once per process; in a chaos run's output that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface ClientPolicy {
  /** Per attempt: the SDK abandons an attempt after this long. */
  timeoutMs: number
  /** The SDK's maxAttempts (1 = no retry). */
  maxAttempts: number
  retryMode: 'standard' | 'adaptive' | 'legacy'
}

export interface CustomerClients {
  kinesis?: KinesisClient
  cloudwatch?: CloudWatchClient
  eventbridge?: EventBridgeClient
  cognito?: CognitoIdentityProviderClient
  lambda?: LambdaClient
  ecs?: ECSClient
  destroy(): void
}

/** The lab's own service names in docker-compose.yml the customers call: they resolve on the project's network only. */
export const COMPOSE_HOSTS: readonly string[] = [
  'kinesis-endpoint-main',
  'kinesis-endpoint-cloudwatch',
  'cognito',
  'cloudwatch',
  'eventbridge',
  'lambda',
  'autoscaler',
  'status-page',
]

const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/

/**
 * The rule of this project: customer traffic goes to this machine only, i.e. to 127.0.0.1, or
 * (the compose customers, in a container of the lab's own project) to one of `localHosts`, the lab's
 * compose service names, which resolve only on that project's network.
 */
export function localEndpoint(service: string, url: string | undefined, localHosts: readonly string[] = []): string {
  if (!url) throw new Error(`no URL for ${service}: is it in the topology?`)
  const host = /^https?:\/\/([a-z0-9-]+)(:\d+)?\/?$/.exec(url)?.[1]
  if (!LOCAL.test(url) && !(host !== undefined && localHosts.includes(host)))
    throw new Error(
      `${service} endpoint ${url} is not on 127.0.0.1${localHosts.length ? ` nor one of ${localHosts.join(', ')}` : ''}: refusing to send customer traffic there`,
    )
  return url
}

export function customerClients(
  urls: { kinesis?: string; cloudwatch?: string; eventbridge?: string; cognito?: string; lambda?: string; autoscaler?: string },
  auth: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  policy: ClientPolicy,
  localHosts: readonly string[] = [],
): CustomerClients {
  const base = (service: string, url: string) => ({
    endpoint: localEndpoint(service, url, localHosts),
    region: auth.region,
    credentials: auth.credentials,
    maxAttempts: policy.maxAttempts,
    retryMode: policy.retryMode,
    // HTTP/1.1 keep-alive with the experiment's timeout. (Kinesis's default HTTP/2 handler has no
    // per-request timeout of its own.)
    // throwOnRequestTimeout: without it the handler only logs a warning and the call hangs on.
    requestHandler: new NodeHttpHandler({ connectionTimeout: policy.timeoutMs, requestTimeout: policy.timeoutMs, throwOnRequestTimeout: true }),
  })
  const c: CustomerClients = {
    ...(urls.kinesis ? { kinesis: new KinesisClient(base('kinesis', urls.kinesis)) } : {}),
    ...(urls.cloudwatch ? { cloudwatch: new CloudWatchClient(base('cloudwatch', urls.cloudwatch)) } : {}),
    ...(urls.eventbridge ? { eventbridge: new EventBridgeClient(base('eventbridge', urls.eventbridge)) } : {}),
    ...(urls.cognito ? { cognito: new CognitoIdentityProviderClient(base('cognito', urls.cognito)) } : {}),
    ...(urls.lambda ? { lambda: new LambdaClient(base('lambda', urls.lambda)) } : {}),
    ...(urls.autoscaler ? { ecs: new ECSClient(base('autoscaler', urls.autoscaler)) } : {}),
    destroy() {
      for (const k of ['kinesis', 'cloudwatch', 'eventbridge', 'cognito', 'lambda', 'ecs'] as const) c[k]?.destroy()
    },
  }
  return c
}
