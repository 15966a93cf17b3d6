// The topology as compose sees it: which services of docker-compose.yml run, with what env, how
// many replicas and which host ports. docker-compose.yml holds what is fixed (image, commands,
// dependencies, where ports are published); everything the experiment decides comes from the
// topology model and goes into a generated override file, so the model stays the one truth for
// counts, thread limits, switches and secrets.
//
// Naming: a single service of the topology is the compose service of the same name
// ("kinesis-metadata"); a fleet is one scaled compose service named after its member prefix
// ("kinesis-frontend-main"), whose replica n is `<prefix>-<n>` to the harness (as on the local
// backend) and registers in metadata as `<prefix>-<container id>` (docker/entry.mjs).
import fs from 'node:fs'
import { parse, stringify } from 'yaml'
import { InvalidTopology } from '../../topology/errors.js'
import { INTERNAL_KINDS } from '../../topology/catalogue.js'
import { SERVICE_LOG_MAX_BYTES, writeSecretFile } from '../paths.js'
import type { CustomerProgram, EnvSpec, FleetSpec, Topology } from '../../topology/model.js'

/** Every service listens on this port inside its own container. */
export const CONTAINER_PORT = 8080

export interface ComposeFileServices {
  /** Compose service name -> its profiles (empty: always active). */
  services: Map<string, string[]>
}

export function readComposeFile(file: string): ComposeFileServices {
  let doc: { services?: Record<string, { profiles?: unknown } | null> } | null
  try {
    doc = parse(fs.readFileSync(file, 'utf8'), { merge: true })
  } catch (err) {
    throw new InvalidTopology('compose file', `a readable YAML file at ${file}`, (err as Error).message)
  }
  if (!doc || typeof doc.services !== 'object') throw new InvalidTopology('compose file', `a "services" map in ${file}`, doc?.services)
  const services = new Map<string, string[]>()
  for (const [name, svc] of Object.entries(doc.services ?? {})) services.set(name, Array.isArray(svc?.profiles) ? svc.profiles.map(String) : [])
  return { services }
}

/** `OUTAGE_LAB_PORT_KINESIS_METADATA`: the variable docker-compose.yml publishes a service's port with. */
export function portVariable(service: string): string {
  return `OUTAGE_LAB_PORT_${service.toUpperCase().replace(/-/g, '_')}`
}

/** How one container reaches a single service: compose's DNS name for it. */
export function internalUrl(service: string): string {
  return `http://${service}:${CONTAINER_PORT}`
}

export function fleetService(fleet: FleetSpec): string {
  return fleet.memberPrefix
}

/** The engine keeps each container's log for a game day of any length in two files, as the local platform's LogRetention does. */
export const LOG_RETENTION = { logging: { driver: 'json-file', options: { 'max-size': `${SERVICE_LOG_MAX_BYTES / 1024 / 1024}m`, 'max-file': '2' } } }

export interface ComposePlanOptions {
  runId: string
  adminToken: string
  /** The run's internal credential: the lab's services only (customers get their own env, without it). */
  internalToken: string
  /** The value of a per-run secret (created on first use). */
  secret: (name: string) => string
  /** Host port of each single service published on 127.0.0.1 (internal ones only with publishInternal). */
  hostPorts: Record<string, number>
  /**
   * Publish the internal services (isInternal) on 127.0.0.1 too: only where the harness cannot
   * reach a container's own address (Docker Desktop, a rootless or remote engine; reach.ts).
   */
  publishInternal?: boolean
  /** Extra env for every service (LOG_LEVEL...). */
  env?: Record<string, string>
  /** Keep the image's Docker health checks (default: off; the harness waits on /health itself). */
  healthchecks?: boolean
  /** Every container's cgroup parent and cpu_shares (compose.ts: the services' niceness). */
  cpu?: { cgroupParent: string; shares: number }
}

export interface ComposePlan {
  /** Compose services the topology uses (singles and fleets). */
  services: string[]
  /** Profiles those services need. */
  profiles: string[]
  /** Variables docker-compose.yml interpolates: the host ports. */
  variables: Record<string, string>
  /** The override document (docker-compose.yml + this = the experiment's system). */
  override: { version: string; services: Record<string, Record<string, unknown>> }
  /** Replicas of each fleet's service. */
  scale: Record<string, number>
}

export const RUN_LABEL = 'dev.outage-lab.run-id'

/** A part of Kinesis AWS keeps inside its own network: docker-compose.yml publishes no port of it. */
export function isInternal(spec: { kind: string }): boolean {
  return INTERNAL_KINDS.includes(spec.kind)
}

export function planCompose(topology: Topology, file: ComposeFileServices, opts: ComposePlanOptions): ComposePlan {
  const need = (service: string, path: string) => {
    if (!file.services.has(service)) {
      throw new InvalidTopology(path, `a service of docker-compose.yml (it has ${[...file.services.keys()].join(', ')})`, service)
    }
  }
  const singles = new Set(topology.services.map((s) => s.name))
  const resolve = (env: EnvSpec, path: string): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) {
      if (typeof v === 'string') out[k] = v
      else if ('urlOf' in v) {
        if (!singles.has(v.urlOf)) throw new InvalidTopology(`${path}.env.${k}`, 'the URL of a single service (fleet members have no shared name)', v.urlOf)
        out[k] = internalUrl(v.urlOf)
      } else out[k] = opts.secret(v.secret)
    }
    return out
  }
  const common = { OUTAGE_LAB_ADMIN_TOKEN: opts.adminToken, OUTAGE_LAB_INTERNAL_TOKEN: opts.internalToken, ...(opts.env ?? {}) }
  const labels = { [RUN_LABEL]: opts.runId }
  const services: Record<string, Record<string, unknown>> = {}
  const variables: Record<string, string> = {}
  const profiles = new Set<string>()
  const scale: Record<string, number> = {}
  const cpu = opts.cpu ? { cgroup_parent: opts.cpu.cgroupParent, cpu_shares: opts.cpu.shares } : {}
  const off = { ...(opts.healthchecks ? {} : { healthcheck: { disable: true } }), ...cpu, ...LOG_RETENTION }

  topology.services.forEach((s, i) => {
    const published = !isInternal(s) || opts.publishInternal
    const port = opts.hostPorts[s.name]
    if (published && port === undefined) throw new InvalidTopology(`services[${i}]`, 'a host port', s.name)
    if (s.customer) {
      // The user's own service is not in docker-compose.yml: the override defines all of it.
      if (file.services.has(s.name)) throw new InvalidTopology(`services[${i}].name`, 'a customer name docker-compose.yml does not use', s.name)
      services[s.name] = customerService(s.name, s.customer, resolve(s.env, `services[${i}]`), port, labels, cpu, `services[${i}]`)
      return
    }
    need(s.name, `services[${i}].name`)
    // docker-compose.yml publishes the AWS-facing services with their variable; an internal one
    // only gets a port here, and only where the harness has no other way to reach it.
    if (!isInternal(s)) variables[portVariable(s.name)] = String(port)
    const ports = isInternal(s) && opts.publishInternal ? { ports: [`127.0.0.1:${port}:${CONTAINER_PORT}`] } : {}
    for (const p of file.services.get(s.name)!) profiles.add(p)
    services[s.name] = { environment: { ...resolve(s.env, `services[${i}]`), ...common }, labels, ...ports, ...off }
  })
  topology.fleets.forEach((f, i) => {
    const name = fleetService(f)
    need(name, `fleets[${i}].memberPrefix`)
    // Cells of a cellular fleet come per replica, from its number (compose.ts writes a placement file).
    for (const p of file.services.get(name)!) profiles.add(p)
    scale[name] = f.count
    // With a fleet health system, a front-end it removes exits (code 75) and Docker starts it again,
    // as the local backend replaces it; without one, a front-end that exits stays down.
    const healthSystem = topology.services.some((s) => s.name === f.endpoint && s.env.REMOVE_UNHEALTHY_AFTER_MS !== undefined)
    services[name] = {
      environment: { ...resolve(f.env, `fleets[${i}]`), ...fleetEnv(f), ...common },
      pids_limit: f.threadLimit,
      labels,
      ...(opts.publishInternal ? { ports: [`127.0.0.1::${CONTAINER_PORT}`] } : {}),
      ...cpu,
      ...LOG_RETENTION,
      ...(healthSystem ? { restart: 'on-failure' } : {}),
    }
  })
  return { services: Object.keys(services), profiles: [...profiles], variables, override: { version: '2.4', services }, scale }
}

/**
 * A customer service as compose runs it: its image (or a build of its context), the lab's AWS
 * configuration with URLs on the project's network, its port published on 127.0.0.1 only, the
 * run's label. Its `command` of the local platform means nothing inside an image and is not used.
 */
export function customerService(
  name: string,
  c: CustomerProgram,
  env: Record<string, string>,
  hostPort: number,
  labels: Record<string, string>,
  cpu: Record<string, unknown>,
  path: string,
): Record<string, unknown> {
  if (!c.image && !c.build) throw new InvalidTopology(`${path}.customer`, `an image or a build context to run customer ${name} on compose`, c)
  return {
    ...(c.image ? { image: c.image } : {}),
    // Labelled with the run: the image built for it is removed with it (docker.ts removeRunImages).
    ...(c.build ? { build: { context: c.build, labels } } : {}),
    environment: { ...env, PORT: String(c.port), HOST: '0.0.0.0', OUTAGE_LAB_CUSTOMER: name },
    ports: [`127.0.0.1:${hostPort}:${c.port}`],
    labels,
    // docker-init as PID 1: the app gets SIGTERM at teardown whatever it is written in.
    init: true,
    extra_hosts: ['host.docker.internal:host-gateway'],
    ...cpu,
    ...LOG_RETENTION,
  }
}

/** What the local backend adds per member (model.fleetMember), in the form a replica can use. */
export function fleetEnv(f: FleetSpec): Record<string, string> {
  return {
    FLEET: f.name,
    THREAD_LIMIT: String(f.threadLimit),
    THREAD_LIMIT_ENFORCEMENT: 'docker',
    MEMBER_PREFIX: f.memberPrefix,
    ...(f.cell !== undefined ? { CELL: f.cell } : {}),
  }
}

/** The override holds the run's admin token and secrets (the services' environment): its owner's only, like the endpoints file. */
export function writeOverride(file: string, plan: ComposePlan): void {
  writeSecretFile(file, `# Generated by outage-lab for one run: docker-compose.yml + this file.\n${stringify(plan.override)}`)
}
