// Customer services: the user's own programs in a run, next to the lab's services. What every
// platform gives one is written here once: its access key (one per customer, accepted by every lab
// service, so the lab's per-caller counters name it), and the environment every current AWS SDK and
// the AWS CLI read (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, the region, the key), so an
// unmodified app in any language reaches the lab and nothing else. `outage-lab env` prints the same.
import { createHash } from 'node:crypto'
import { DOWNSTREAM, METADATA_SERVICE, SERVICES, type Downstream } from './catalogue.js'
import type { EnvSpec, EnvValue } from './model.js'

export interface AccessKey {
  accessKeyId: string
  secretAccessKey: string
}

/**
 * A customer's key, derived from its name: the same in every run (the journal and a re-analysis
 * find its calls by it), distinct between customers, upper-case letters and digits as AWS's are.
 * The lab runs on 127.0.0.1 with a published default key; these keys tell callers apart, they
 * guard nothing.
 */
export function customerAccessKey(name: string): AccessKey {
  const digest = createHash('sha256').update(`outage-lab customer ${name}`).digest('hex')
  const letters = name.toUpperCase().replace(/[^A-Z0-9]/g, '')
  return { accessKeyId: `AKIDCUST${letters.slice(0, 40)}${digest.slice(0, 6).toUpperCase()}`, secretAccessKey: `cust-${digest.slice(6, 46)}` }
}

/** `OUTAGE_LAB_CREDENTIALS` of every lab service: the lab's own key first (what the services sign with), then each customer's. */
export function credentialsList(lab: AccessKey, customers: readonly AccessKey[]): string {
  return [lab, ...customers].map((k) => `${k.accessKeyId}:${k.secretAccessKey}`).join(',')
}

/**
 * The SDKs' per-service endpoint variables (AWS_ENDPOINT_URL_ + the service id, upper-case, spaces
 * as underscores) for each lab service that speaks an AWS API; the status page speaks none.
 */
export const ENDPOINT_VARIABLES: Readonly<Partial<Record<'kinesis' | Downstream, string>>> = {
  kinesis: 'AWS_ENDPOINT_URL_KINESIS',
  cloudwatch: 'AWS_ENDPOINT_URL_CLOUDWATCH',
  eventbridge: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
  cognito: 'AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
  autoscaler: 'AWS_ENDPOINT_URL_ECS',
}

/**
 * The AWS configuration of a customer (or a shell): `url(service)` gives where that lab service is
 * reached from where the customer runs. AWS_ENDPOINT_URL, the fallback for services without a
 * variable of their own, is Kinesis's: a service the lab does not run fails there (an unknown
 * operation), it never reaches AWS.
 */
export function awsEnvironment<V>(opts: {
  url: (service: 'kinesis' | Downstream) => V
  services: readonly Downstream[]
  region: string
  key: AccessKey
}): Record<string, V | string> {
  const env: Record<string, V | string> = { AWS_ENDPOINT_URL: opts.url('kinesis'), AWS_ENDPOINT_URL_KINESIS: opts.url('kinesis') }
  for (const s of DOWNSTREAM) {
    const variable = ENDPOINT_VARIABLES[s]
    if (variable && opts.services.includes(s)) env[variable] = opts.url(s)
  }
  return {
    ...env,
    AWS_REGION: opts.region,
    AWS_DEFAULT_REGION: opts.region,
    AWS_ACCESS_KEY_ID: opts.key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: opts.key.secretAccessKey,
    // No instance metadata service to ask on this machine: an SDK that looked would stall on it.
    AWS_EC2_METADATA_DISABLED: 'true',
  }
}

/** The same as topology env (URLs as references each platform resolves). */
export function customerEnvSpec(opts: { kinesisEndpoint: string; services: readonly Downstream[]; region: string; key: AccessKey }): EnvSpec {
  return awsEnvironment<EnvValue>({
    url: (s) => ({ urlOf: s === 'kinesis' ? opts.kinesisEndpoint : s }),
    services: opts.services,
    region: opts.region,
    key: opts.key,
  })
}

/** Names a customer may not take: the lab's services and processes, and the harness's own series. */
export function reservedCustomerName(name: string): string | undefined {
  if ((SERVICES as readonly string[]).includes(name)) return `${name} is a service of the lab`
  if (name === METADATA_SERVICE || name.startsWith('kinesis-') || name === 'kinesis') return "names starting with kinesis- are the lab's processes"
  if (name === 'harness' || name === 'reaper') return `${name} is the harness's own`
  return undefined
}

/** The placeholders a customer workload's path and body may use, each call filling them in. */
export const CUSTOMER_TEMPLATE_VARIABLES = ['seq', 'random', 'now', 'customer'] as const
