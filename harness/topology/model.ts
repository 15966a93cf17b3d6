// The topology as data: which services run, how many members each fleet has, their env and
// dependencies, the thread limit and the remediation switches. Nothing here knows how a service
// is started or where it listens: a backend (local processes, docker compose) turns this into
// running services and resolves the references (`urlOf`, `secret`) to its own addresses.
import { InvalidTopology } from './errors.js'
import {
  BOOTSTRAPS,
  MAIN_FLEET,
  MAX_BACKENDS,
  MAX_FLEET_SIZE,
  MAX_SHARD_MAP_CACHE_FRONTENDS,
  METADATA_SERVICE,
  KINESIS_RETENTION_HOURS,
  SHARD_MAP_CACHE_FLEET,
  backendName,
  endpointName,
  memberPrefix,
  type Bootstrap,
} from './catalogue.js'
import { credentialsList, type AccessKey } from './customers.js'

/**
 * An env value is a literal or a reference the backend resolves: the URL of another service as
 * this backend exposes it, or a per-run secret shared by every service that names it.
 */
export type EnvValue = string | { urlOf: string } | { secret: string }
export type EnvSpec = Record<string, EnvValue>

export interface ReadinessSpec {
  /** GET this path until it answers 2xx; absent (customer services without a health path): until the port accepts a connection. */
  path?: string
  timeoutMs: number
  /** And until these numeric fields of its JSON body reach at least these values. */
  atLeast?: Record<string, number>
}

export interface ServiceSpec {
  /** Unique in the topology; also the log file's and (local) the cgroup's name. */
  name: string
  /** What program this is ("kinesis-metadata"): a compose backend maps it to an image service. */
  kind: string
  /** Entry file under the build output (dist/), e.g. "services/kinesis/metadata/main.js". */
  entry: string
  env: EnvSpec
  /** Names of services, or `fleet:<name>`, that must be ready before this one starts. */
  dependsOn: string[]
  readiness: ReadinessSpec
  /** A customer service (the user's own program or image) rather than a lab service of dist/ (`entry` is then empty). */
  customer?: CustomerProgram
}

/** What a platform needs to run a customer service; its env (AWS configuration, the user's own) is the ServiceSpec's. */
export interface CustomerProgram {
  /** Local platform: argv, run in `cwd` (absolute). */
  command?: string[]
  cwd: string
  /** Compose: the image, or the build context (absolute) to build it from. */
  image?: string
  build?: string
  /** The port it listens on inside its container; the local platform gives it PORT instead. */
  port: number
  /** Its Prometheus metrics path, when it has one. */
  metricsPath?: string
  /** The access key its env carries: the lab's per-caller counters name it so. */
  accessKeyId: string
}

/** A customer service as the experiment declares it (topology.customers), without its workload. */
export interface CustomerOptions {
  name: string
  command?: string[]
  cwd: string
  env: Record<string, string>
  image?: string
  build?: string
  port: number
  health?: string
  metrics?: string
  readyTimeoutMs: number
}

export interface FleetSpec {
  /** "main"; later a partitioned fleet for CloudWatch, cells. */
  name: string
  /** Every member in this one cell. */
  cell?: string
  /**
   * Cellular front-end (remediation 7): members are placed in cells of at most this many, in
   * order (members 1..cellSize in cell-1, ...), so each member's shard-map work stays within one
   * cell whatever the fleet's size.
   */
  cellSize?: number
  kind: string
  entry: string
  count: number
  /** The OS limit on threads of one member (pids.max, docker pids_limit, or an in-process cap). */
  threadLimit: number
  /** Env every member gets; FRONTEND_ID, FLEET, CELL and THREAD_LIMIT are added per member. */
  env: EnvSpec
  dependsOn: string[]
  readiness: ReadinessSpec
  /** The service that vends membership: members are registered there before they start. */
  membership: string
  /** Prefix of member names: `<prefix>-<n>`, n from 1. */
  memberPrefix: string
  /** The load balancer in front of this fleet, if any. */
  endpoint?: string
}

export type { Bootstrap }

export interface Remediations {
  /** Where a starting front-end gets its shard-map: from every peer (2020) or the store. */
  bootstrap: Bootstrap
  /** Upper bound of the seeded delay before a front-end gives a newly seen peer its thread. */
  learnDelayMs: number
}

export interface Topology {
  name: string
  seed: number
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  remediations: Remediations
  services: ServiceSpec[]
  fleets: FleetSpec[]
  /** The service a customer's SDK talks to for Kinesis (the main fleet's endpoint). */
  kinesisEndpoint?: string
}

export const REGION = 'us-east-1'
export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' } as const

export function memberName(fleet: FleetSpec, n: number): string {
  return `${fleet.memberPrefix}-${n}`
}

/** The cell of the n-th member (n from 1), if the fleet has cells. */
export function memberCell(fleet: FleetSpec, n: number): string | undefined {
  if (fleet.cellSize !== undefined) return `cell-${Math.ceil(n / fleet.cellSize)}`
  return fleet.cell
}

/** The n-th member of a fleet as an ordinary service (n from 1). */
export function fleetMember(fleet: FleetSpec, n: number): ServiceSpec {
  const name = memberName(fleet, n)
  const env: EnvSpec = { ...fleet.env, FRONTEND_ID: name, FLEET: fleet.name, THREAD_LIMIT: String(fleet.threadLimit) }
  const cell = memberCell(fleet, n)
  if (cell !== undefined) env.CELL = cell
  return { name, kind: fleet.kind, entry: fleet.entry, env, dependsOn: fleet.dependsOn, readiness: fleet.readiness }
}

export function fleetOf(topology: Topology, name: string): FleetSpec | undefined {
  return topology.fleets.find((f) => f.name === name)
}

/** Member number of a service name in a fleet, or undefined. */
export function memberNumber(fleet: FleetSpec, name: string): number | undefined {
  const m = new RegExp(`^${fleet.memberPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(name)
  return m ? Number(m[1]) : undefined
}

export type BootNode = { service: ServiceSpec } | { fleet: FleetSpec }

/**
 * Boot order as waves: every node of a wave depends only on nodes of earlier waves, so a wave
 * starts in parallel. Throws InvalidTopology on unknown dependencies and cycles.
 */
export function bootWaves(topology: Topology): BootNode[][] {
  validateTopology(topology)
  const nodes = new Map<string, { node: BootNode; deps: string[] }>()
  for (const s of topology.services) nodes.set(s.name, { node: { service: s }, deps: s.dependsOn })
  for (const f of topology.fleets) nodes.set(`fleet:${f.name}`, { node: { fleet: f }, deps: f.dependsOn })
  const done = new Set<string>()
  const waves: BootNode[][] = []
  while (done.size < nodes.size) {
    const wave = [...nodes].filter(([key, n]) => !done.has(key) && n.deps.every((d) => done.has(d)))
    if (wave.length === 0) {
      const stuck = [...nodes.keys()].filter((k) => !done.has(k))
      throw new InvalidTopology('dependsOn', 'no dependency cycle', `a cycle among ${stuck.join(', ')}`)
    }
    for (const [key] of wave) done.add(key)
    waves.push(wave.map(([, n]) => n.node))
  }
  return waves
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/

/** Checks the whole topology before anything starts; errors name the path of what is wrong. */
export function validateTopology(topology: Topology): void {
  const names = new Set<string>()
  const check = (ok: boolean, path: string, expected: string, got: unknown) => {
    if (!ok) throw new InvalidTopology(path, expected, got)
  }
  const checkReadiness = (r: ReadinessSpec, path: string, optionalPath = false) => {
    if (!(optionalPath && r?.path === undefined))
      check(typeof r?.path === 'string' && r.path.startsWith('/'), `${path}.readiness.path`, 'a path starting with /', r?.path)
    check(Number.isInteger(r?.timeoutMs) && r.timeoutMs > 0, `${path}.readiness.timeoutMs`, 'a positive integer', r?.timeoutMs)
  }
  topology.services.forEach((s, i) => {
    const path = `services[${i}]`
    check(NAME.test(s.name), `${path}.name`, 'lower-case letters, digits and dashes', s.name)
    check(!names.has(s.name), `${path}.name`, 'a unique name', s.name)
    names.add(s.name)
    if (s.customer) {
      const c = s.customer
      check(!!c.command?.length || !!c.image || !!c.build, `${path}.customer`, 'a command, an image or a build context', c)
      check(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65_535, `${path}.customer.port`, 'a port in [1, 65535]', c.port)
    } else check(typeof s.entry === 'string' && s.entry.length > 0, `${path}.entry`, 'an entry file', s.entry)
    checkReadiness(s.readiness, path, !!s.customer)
  })
  topology.fleets.forEach((f, i) => {
    const path = `fleets[${i}]`
    check(NAME.test(f.name), `${path}.name`, 'lower-case letters, digits and dashes', f.name)
    check(!names.has(`fleet:${f.name}`), `${path}.name`, 'a unique fleet name', f.name)
    names.add(`fleet:${f.name}`)
    check(Number.isInteger(f.count) && f.count >= 0 && f.count <= MAX_FLEET_SIZE, `${path}.count`, `an integer in [0, ${MAX_FLEET_SIZE}]`, f.count)
    check(Number.isInteger(f.threadLimit) && f.threadLimit >= 1, `${path}.threadLimit`, 'a positive integer', f.threadLimit)
    if (f.cellSize !== undefined) check(Number.isInteger(f.cellSize) && f.cellSize >= 1, `${path}.cellSize`, 'a positive integer', f.cellSize)
    check(NAME.test(f.memberPrefix), `${path}.memberPrefix`, 'lower-case letters, digits and dashes', f.memberPrefix)
    checkReadiness(f.readiness, path)
  })
  for (const f of topology.fleets) {
    for (let n = 1; n <= Math.max(f.count, 1); n++) {
      check(!names.has(memberName(f, n)), `fleets.${f.name}.memberPrefix`, 'member names that no service uses', memberName(f, n))
    }
  }
  const refs = (env: EnvSpec, path: string) => {
    for (const [k, v] of Object.entries(env)) {
      if (typeof v === 'object' && 'urlOf' in v) check(names.has(v.urlOf), `${path}.env.${k}`, 'the URL of a service of this topology', v.urlOf)
    }
  }
  topology.services.forEach((s, i) => {
    refs(s.env, `services[${i}]`)
    s.dependsOn.forEach((d, j) => check(names.has(d), `services[${i}].dependsOn[${j}]`, 'a service or fleet:<name> of this topology', d))
  })
  topology.fleets.forEach((f, i) => {
    refs(f.env, `fleets[${i}]`)
    check(names.has(f.membership), `fleets[${i}].membership`, 'a service of this topology', f.membership)
    check(f.dependsOn.includes(f.membership), `fleets[${i}].dependsOn`, `to include its membership service ${f.membership}`, f.dependsOn)
    f.dependsOn.forEach((d, j) => check(names.has(d), `fleets[${i}].dependsOn[${j}]`, 'a service or fleet:<name> of this topology', d))
    if (f.endpoint !== undefined) check(names.has(f.endpoint), `fleets[${i}].endpoint`, 'a service of this topology', f.endpoint)
  })
  if (topology.kinesisEndpoint !== undefined)
    check(names.has(topology.kinesisEndpoint), 'kinesisEndpoint', 'a service of this topology', topology.kinesisEndpoint)
}

export interface KinesisTopologyOptions {
  frontends: number
  threadLimit: number
  backends?: number
  learnDelayMs?: number
  bootstrap?: Bootstrap
  seed?: number
  /**
   * How long a front-end may take to answer /health. Members boot together and every cold start
   * competes for the same cores, so the default grows with the fleet: 30 s + 2 s per member.
   */
  frontendReadinessTimeoutMs?: number
  /** Remediation 7: the main fleet in cells of at most this many members. */
  cellSize?: number
  /**
   * The fleet's health system: a member that passes no health check at its endpoint for this long
   * is removed from membership and must rejoin with a fresh cold start (0 or absent: never).
   */
  removeUnhealthyAfterMs?: number
  /**
   * Remediation 5: a dedicated fleet of this many members builds the shard-map (peering only among
   * themselves); the customer-facing fleets read it from them and run no peer threads.
   */
  shardMapCache?: { frontends: number }
  /** Remediation 6: more fleets on the same back-ends, each behind its own endpoint. */
  partitionedFleets?: { name: string; frontends: number; threadLimit: number }[]
  /** More keys every service accepts besides the lab's own (customers', a shell's), each counted under its own caller label. */
  callers?: readonly AccessKey[]
  /** The back-ends trim records older than this (SHARD_RETENTION_MS; absent: their default, 24 h). */
  shardRetentionMs?: number
}

/** The least retention a back-end takes (SHARD_RETENTION_MS's minimum). */
export const MIN_SHARD_RETENTION_MS = 1_000

/** Kinesis's 24 h in run time (timeScale: seconds of run per simulated hour): the back-ends' data stays bounded however long the lab runs. */
export function shardRetentionAt(timeScale: number): number {
  return Math.max(MIN_SHARD_RETENTION_MS, Math.round(KINESIS_RETENTION_HOURS * timeScale * 1000))
}

const ENTRY = {
  metadata: 'services/kinesis/metadata/main.js',
  backend: 'services/kinesis/backend/main.js',
  frontend: 'services/kinesis/frontend/main.js',
  endpoint: 'services/kinesis/endpoint/main.js',
} as const

/** The Kinesis part: metadata, the back-ends, the main fleet's front-ends, its endpoint. */
export function kinesisTopology(opts: KinesisTopologyOptions): Topology {
  const { frontends, threadLimit, backends = 2, learnDelayMs = 0, bootstrap = 'peers', seed = 1 } = opts
  const int = (v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new InvalidTopology(path, `an integer in [${min}, ${max}]`, v)
  }
  int(frontends, 'frontends', 1, MAX_FLEET_SIZE)
  int(threadLimit, 'threadLimit', 1)
  int(backends, 'backends', 1, MAX_BACKENDS)
  int(learnDelayMs, 'learnDelayMs', 0)
  int(seed, 'seed', 0)
  const removeAfter = opts.removeUnhealthyAfterMs ?? 0
  int(removeAfter, 'removeUnhealthyAfterMs', 0)
  if (opts.shardRetentionMs !== undefined) int(opts.shardRetentionMs, 'shardRetentionMs', MIN_SHARD_RETENTION_MS)
  if (!BOOTSTRAPS.includes(bootstrap)) throw new InvalidTopology('bootstrap', 'peers or metadata', bootstrap)

  const common: EnvSpec = {
    OUTAGE_LAB_SEED: String(seed),
    OUTAGE_LAB_CREDENTIALS: credentialsList(CREDENTIALS, opts.callers ?? []),
  }
  const readiness = { path: '/health', timeoutMs: 15_000 }
  const metadataUrl = { urlOf: METADATA_SERVICE }
  const backendNames = Array.from({ length: backends }, (_, i) => backendName(i + 1))
  const cache = opts.shardMapCache
  const fleet = (name: string, count: number, limit: number, cellSize?: number): FleetSpec => ({
    name,
    kind: 'kinesis-frontend',
    entry: ENTRY.frontend,
    count,
    threadLimit: limit,
    ...(cellSize !== undefined ? { cellSize } : {}),
    env: {
      ...common,
      METADATA_URL: metadataUrl,
      LEARN_DELAY_MS: String(learnDelayMs),
      BOOTSTRAP: bootstrap,
      ...(cache && name !== SHARD_MAP_CACHE_FLEET ? { SHARD_MAP_CACHE_FLEET } : {}),
    },
    dependsOn: [METADATA_SERVICE, ...backendNames, ...(cache && name !== SHARD_MAP_CACHE_FLEET ? [`fleet:${SHARD_MAP_CACHE_FLEET}`] : [])],
    readiness: { path: '/health', timeoutMs: opts.frontendReadinessTimeoutMs ?? 30_000 + 2_000 * count },
    membership: METADATA_SERVICE,
    memberPrefix: memberPrefix(name),
    endpoint: endpointName(name),
  })
  const endpoint = (name: string, count: number): ServiceSpec => ({
    name: endpointName(name),
    kind: 'kinesis-endpoint',
    entry: ENTRY.endpoint,
    env: { ...common, FLEET: name, METADATA_URL: metadataUrl, ...(removeAfter > 0 ? { REMOVE_UNHEALTHY_AFTER_MS: String(removeAfter) } : {}) },
    dependsOn: [METADATA_SERVICE, `fleet:${name}`],
    // A load balancer is ready when it can route: its health checks passed on a member (which
    // takes longer while a large fleet's cold start holds the cores).
    readiness: { path: '/health', timeoutMs: 15_000 + 1_000 * count, atLeast: { healthyMembers: 1 } },
  })
  const services: ServiceSpec[] = [
    { name: METADATA_SERVICE, kind: 'kinesis-metadata', entry: ENTRY.metadata, env: { ...common }, dependsOn: [], readiness },
    ...backendNames.map((name, i) => ({
      name,
      kind: 'kinesis-backend',
      entry: ENTRY.backend,
      env: {
        ...common,
        BACKEND_ID: `backend-${i + 1}`,
        METADATA_URL: metadataUrl,
        ITERATOR_SECRET: { secret: 'iterator' },
        ...(opts.shardRetentionMs !== undefined ? { SHARD_RETENTION_MS: String(opts.shardRetentionMs) } : {}),
      },
      dependsOn: [METADATA_SERVICE],
      readiness,
    })),
    endpoint(MAIN_FLEET, frontends),
  ]
  const extra = opts.partitionedFleets ?? []
  extra.forEach((f, i) => {
    if (f.name === MAIN_FLEET || f.name === SHARD_MAP_CACHE_FLEET || !/^[a-z][a-z0-9]{0,20}$/.test(f.name))
      throw new InvalidTopology(`partitionedFleets[${i}].name`, 'a short lower-case name other than main and cache', f.name)
    int(f.frontends, `partitionedFleets[${i}].frontends`, 1, MAX_FLEET_SIZE)
    int(f.threadLimit, `partitionedFleets[${i}].threadLimit`, 1)
  })
  if (opts.cellSize !== undefined) int(opts.cellSize, 'cellSize', 1, MAX_FLEET_SIZE)
  services.push(...extra.map((f) => endpoint(f.name, f.frontends)))
  if (cache) int(cache.frontends, 'shardMapCache.frontends', 1, MAX_SHARD_MAP_CACHE_FRONTENDS)
  const fleets = [fleet(MAIN_FLEET, frontends, threadLimit, opts.cellSize), ...extra.map((f) => fleet(f.name, f.frontends, f.threadLimit))]
  if (cache) {
    // The cache fleet serves no customer: no endpoint in front of it.
    const { endpoint: _none, ...cacheFleet } = fleet(SHARD_MAP_CACHE_FLEET, cache.frontends, threadLimit)
    fleets.push(cacheFleet)
  }
  const topology: Topology = {
    name: 'kinesis',
    seed,
    region: REGION,
    credentials: { ...CREDENTIALS },
    remediations: { bootstrap, learnDelayMs },
    services,
    fleets,
    kinesisEndpoint: endpointName(MAIN_FLEET),
  }
  validateTopology(topology)
  return topology
}
