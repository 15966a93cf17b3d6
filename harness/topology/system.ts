// The whole system of the outage as data: the Kinesis part (kinesisTopology) plus the services
// that depend on it, wired the way they depended on it in 2020 (docs/fidelity.md, "The
// cascade"). Each remediation switch becomes env of the service it changes, so the same topology
// runs on every platform.
import { InvalidTopology } from './errors.js'
import { DEPENDENCIES, DOWNSTREAM, endpointName, needs, SHARD_MAP_CACHE_FRONTENDS, type Downstream } from './catalogue.js'
import { kinesisTopology, validateTopology, type CustomerOptions, type EnvSpec, type KinesisTopologyOptions, type ServiceSpec, type Topology } from './model.js'
import { credentialsList, customerAccessKey, customerEnvSpec } from './customers.js'

export { DOWNSTREAM, type Downstream } from './catalogue.js'

export interface Switches {
  cognito?: { sustainKinesisErrors?: boolean; bufferRecords?: number }
  cloudwatch?: { localStore?: boolean; localStoreRetentionMs?: number; partitionedFleet?: boolean }
  lambda?: {
    boundedAgentBuffer?: boolean
    /** The simulated invocation host's memory, and what each invocation's logs add to the agent's buffer. */
    hostMemoryMb?: number
    invocationMemoryMb?: number
    logBytesPerInvocation?: number
  }
}

export interface SystemTopologyOptions extends KinesisTopologyOptions {
  /** Which downstream services run (default: all). */
  services?: readonly Downstream[]
  switches?: Switches
  /** Remediation 6: CloudWatch's own front-end fleet (used when switches.cloudwatch.partitionedFleet). */
  partitionedFleet?: { frontends: number; threadLimit: number }
  /** Remediation 5 as a switch: a dedicated shard-map cache fleet of 3. */
  shardMapCacheFleet?: boolean
  /**
   * The user's own services, started after every lab service (they depend on all of it), each with
   * the AWS configuration of the lab in its env and its own key, which every lab service accepts.
   */
  customers?: readonly CustomerOptions[]
}

const readiness = { path: '/health', timeoutMs: 20_000 }
const bool = (v: boolean | undefined) => (v ? 'true' : 'false')

export function systemTopology(opts: SystemTopologyOptions): Topology {
  const services = opts.services ?? DOWNSTREAM
  services.forEach((s, i) => {
    if (!DOWNSTREAM.includes(s)) throw new InvalidTopology(`services[${i}]`, `one of ${DOWNSTREAM.join(', ')}`, s)
    for (const dep of needs(s)) {
      if (!services.includes(dep)) throw new InvalidTopology(`services[${i}]`, `${dep} in the services too (${s} calls it)`, services)
    }
  })
  const sw = opts.switches ?? {}
  const partitioned = !!sw.cloudwatch?.partitionedFleet
  if (partitioned && !services.includes('cloudwatch'))
    throw new InvalidTopology('switches.cloudwatch.partitionedFleet', 'cloudwatch among the services', services)
  const customers = opts.customers ?? []
  // Every lab service accepts the lab's key, then any other caller's given, then each customer's.
  const callers = [...(opts.callers ?? []), ...customers.map((c) => customerAccessKey(c.name))]
  const kinesis = kinesisTopology({
    ...opts,
    callers,
    ...(opts.shardMapCacheFleet ? { shardMapCache: { frontends: SHARD_MAP_CACHE_FRONTENDS } } : {}),
    partitionedFleets: partitioned
      ? [{ name: 'cloudwatch', frontends: opts.partitionedFleet?.frontends ?? 2, threadLimit: opts.partitionedFleet?.threadLimit ?? opts.threadLimit }]
      : [],
  })
  const common: EnvSpec = {
    OUTAGE_LAB_SEED: String(kinesis.seed),
    OUTAGE_LAB_CREDENTIALS: credentialsList(kinesis.credentials, callers),
  }
  const main = kinesis.kinesisEndpoint!
  const cloudwatchKinesis = partitioned ? endpointName('cloudwatch') : main
  // Where CloudWatch's alarm actions and EventBridge's deliveries may carry the internal credential:
  // the autoscaler's hooks, the only internal routes reached through URLs a caller names.
  const autoscalerUrl: EnvSpec = services.includes('autoscaler') ? { AUTOSCALER_URL: { urlOf: 'autoscaler' } } : {}
  // A service's dependsOn is its row of the catalogue's graph, Kinesis being the endpoint it calls.
  const spec = (name: Downstream, env: EnvSpec): ServiceSpec => ({
    name,
    kind: name,
    entry: `services/${name}/main.js`,
    env,
    dependsOn: DEPENDENCIES[name].map((d) => (d !== 'kinesis' ? d : name === 'cloudwatch' ? cloudwatchKinesis : main)),
    readiness,
  })
  const downstream: Record<Downstream, ServiceSpec> = {
    cognito: spec('cognito', {
      ...common,
      KINESIS_ENDPOINT: { urlOf: main },
      COGNITO_PUBLIC_URL: { urlOf: 'cognito' },
      SUSTAIN_KINESIS_ERRORS: bool(sw.cognito?.sustainKinesisErrors),
      ...(sw.cognito?.bufferRecords !== undefined ? { ACCESS_BUFFER_RECORDS: String(sw.cognito.bufferRecords) } : {}),
    }),
    cloudwatch: spec('cloudwatch', {
      ...common,
      ...autoscalerUrl,
      KINESIS_ENDPOINT: { urlOf: cloudwatchKinesis },
      LOCAL_STORE: bool(sw.cloudwatch?.localStore),
      ...(sw.cloudwatch?.localStoreRetentionMs !== undefined ? { LOCAL_STORE_RETENTION_MS: String(sw.cloudwatch.localStoreRetentionMs) } : {}),
    }),
    eventbridge: spec('eventbridge', { ...common, ...autoscalerUrl, KINESIS_ENDPOINT: { urlOf: main } }),
    autoscaler: spec('autoscaler', {
      ...common,
      CLOUDWATCH_URL: { urlOf: 'cloudwatch' },
      EVENTBRIDGE_URL: { urlOf: 'eventbridge' },
      AUTOSCALER_PUBLIC_URL: { urlOf: 'autoscaler' },
    }),
    lambda: spec('lambda', {
      ...common,
      CLOUDWATCH_URL: { urlOf: 'cloudwatch' },
      BOUNDED_AGENT_BUFFER: bool(sw.lambda?.boundedAgentBuffer),
      ...(sw.lambda?.hostMemoryMb !== undefined ? { HOST_MEMORY_BUDGET_MB: String(sw.lambda.hostMemoryMb) } : {}),
      ...(sw.lambda?.invocationMemoryMb !== undefined ? { INVOCATION_MEMORY_MB: String(sw.lambda.invocationMemoryMb) } : {}),
      ...(sw.lambda?.logBytesPerInvocation !== undefined ? { LOG_BYTES_PER_INVOCATION: String(sw.lambda.logBytesPerInvocation) } : {}),
    }),
    'status-page': spec('status-page', { ...common, COGNITO_URL: { urlOf: 'cognito' }, OUTAGE_LAB_OPERATOR_KEY: { secret: 'operator-key' } }),
  }
  const lab = [...kinesis.services, ...DOWNSTREAM.filter((s) => services.includes(s)).map((s) => downstream[s])]
  const everything = [...lab.map((s) => s.name), ...kinesis.fleets.map((f) => `fleet:${f.name}`)]
  const customerSpecs = customers.map((c): ServiceSpec => ({
    name: c.name,
    kind: 'customer',
    entry: '',
    // The user's env comes last: it may change the region or add its own settings.
    env: { ...customerEnvSpec({ kinesisEndpoint: main, services, region: kinesis.region, key: customerAccessKey(c.name) }), ...c.env },
    dependsOn: everything,
    readiness: { ...(c.health ? { path: c.health } : {}), timeoutMs: c.readyTimeoutMs },
    customer: {
      ...(c.command ? { command: [...c.command] } : {}),
      cwd: c.cwd,
      ...(c.image ? { image: c.image } : {}),
      ...(c.build ? { build: c.build } : {}),
      port: c.port,
      ...(c.metrics ? { metricsPath: c.metrics } : {}),
      accessKeyId: customerAccessKey(c.name).accessKeyId,
    },
  }))
  const topology: Topology = { ...kinesis, name: 'system', services: [...lab, ...customerSpecs] }
  validateTopology(topology)
  return topology
}
