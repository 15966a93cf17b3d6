// The experiment's shape, checked in two passes like Chaos Toolkit's ensure_experiment_is_valid:
// first every key's type and range (all issues of the file), then, only on a well-formed file, the
// cross-references (offsets within duration, fleets and services that exist in this run, expect
// consistent with itself). Messages speak in the experiment's terms and name the path.
import fs from 'node:fs'
import path from 'node:path'
import { Checker, at, isMap, join, type Obj } from './checker.js'
import type { Issue } from './errors.js'
import { formatDuration } from './duration.js'
import * as D from './defaults.js'
import { PROVIDERS, PROVIDER_NAMES, type RunReferences } from '../faults/index.js'
import {
  BOOTSTRAPS,
  FLEETS,
  KINESIS_RETENTION_HOURS,
  MAX_BACKENDS,
  MAX_CELLS,
  MAX_FLEET_SIZE,
  MAX_THREAD_LIMIT,
  METADATA_SERVICE,
  NEEDS,
} from '../topology/catalogue.js'
import { CUSTOMER_TEMPLATE_VARIABLES, reservedCustomerName } from '../topology/customers.js'
import {
  AGGREGATES,
  DOWNSTREAM,
  HTTP_METHODS,
  MEASURES,
  RATE_KEYS,
  RETRY_MODES,
  SERVICES,
  type Action,
  type ActionArgs,
  type Activity,
  type CustomerConfig,
  type Experiment,
  type Expectations,
  type FleetConfig,
  type MetricSelector,
  type Probe,
  type Rates,
  type RunService,
  type Slo,
  type TopologyConfig,
  type WorkloadConfig,
} from './types.js'

export const TOP_LEVEL_KEYS = [
  'title',
  'description',
  'tags',
  'extends',
  'timeScale',
  'duration',
  'seed',
  'topology',
  'workload',
  'slo',
  'steady-state-hypothesis',
  'method',
  'rollbacks',
  'expect',
] as const

const ACTION_KEYS = ['type', 'name', 'at', 'provider', 'args']
const ROLLBACK_KEYS = ['type', 'name', 'provider', 'args']
const PROBE_KEYS = ['type', 'name', 'at', 'service', 'measure', 'metric', 'aggregate', 'window', 'tolerance']
const HYPOTHESIS_PROBE_KEYS = PROBE_KEYS.filter((k) => k !== 'at')
const NAME = /^[a-z][a-z0-9-]{0,62}$/
const PROCESS_EXPECTED = 'a service of this run or a Kinesis process (kinesis-metadata, kinesis-backend-N, kinesis-endpoint-FLEET, kinesis-frontend-FLEET-N)'
const CUSTOMER_KEYS = ['name', 'command', 'cwd', 'env', 'image', 'build', 'port', 'health', 'metrics', 'readyTimeout', 'workload']
const CUSTOMER_WORKLOAD_KEYS = ['rate', 'method', 'path', 'body', 'headers', 'clientTimeout']
const CUSTOMER_SHAPE = 'a customer service {name, command (local) | image | build (compose), workload: {rate, method?, path?, body?}}'
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const TEMPLATE = /\{\{\s*([^}]*?)\s*\}\}/g
export const DEFAULT_CUSTOMER_PORT = 8080
export const DEFAULT_CUSTOMER_READY_TIMEOUT_MS = 30_000

/**
 * Where the file that names a customer lives: the loader marks each customers entry of each file
 * of an `extends:` chain with it (a symbol: no key of the file), so `cwd` and `build` are relative
 * to that file. An entry without the mark (a test's tree) is relative to the working directory.
 */
export const BASE_DIR = Symbol.for('outage-lab.experiment.baseDir')

export type ValidationResult = { ok: true; experiment: Omit<Experiment, 'file' | 'files'> } | { ok: false; issues: Issue[] }

/** Checks a merged experiment tree (extends resolved, --set applied) and fills in defaults. */
export function validateExperiment(raw: unknown): ValidationResult {
  const c = new Checker()
  const doc = c.map(raw, '', TOP_LEVEL_KEYS, 'a map of experiment keys (title, method, ...)')
  if (!doc) return { ok: false, issues: c.issues }

  const title = c.string(doc, 'title', '', { required: true }) ?? ''
  const description = typeof doc.description === 'string' ? doc.description : (c.string(doc, 'description', '', { default: '' }) ?? '')
  const tags = c.stringList<string>(doc, 'tags', '') ?? []
  const timeScale = c.number(doc, 'timeScale', '', { min: 0, exclusiveMin: true }, D.DEFAULT_TIME_SCALE)!
  const durationMs = c.duration(doc, 'duration', '', { default: D.DEFAULT_DURATION_MS, positive: true })!
  const seed = c.integer(doc, 'seed', '', 0, 2 ** 31 - 1, D.DEFAULT_SEED)!
  const topology = readTopology(c, doc.topology)
  const workload = readWorkload(c, doc.workload)
  topology.customers = readCustomers(c, isMap(doc.topology) ? doc.topology.customers : undefined, workload.clientTimeoutMs)
  const customerNames = topology.customers.map((x) => x.name)
  const runServices: readonly string[] = [...SERVICES, ...customerNames]
  const slo = readSlo(c, doc.slo, customerNames)

  let steadyStateHypothesis: Experiment['steadyStateHypothesis']
  if (doc['steady-state-hypothesis'] !== undefined && doc['steady-state-hypothesis'] !== null) {
    const h = c.map(doc['steady-state-hypothesis'], 'steady-state-hypothesis', ['title', 'probes'])
    if (h) {
      const htitle = c.string(h, 'title', 'steady-state-hypothesis', { default: 'steady state' })!
      const list = c.list(h.probes ?? undefined, 'steady-state-hypothesis.probes', 'a non-empty list of probes')
      if (list && list.length === 0) c.bad('steady-state-hypothesis.probes', 'a non-empty list of probes', list)
      const probes = (list ?? []).flatMap((p, i) => {
        const probe = readProbe(c, p, at('steady-state-hypothesis.probes', i), false, runServices)
        return probe ? [probe] : []
      })
      steadyStateHypothesis = { title: htitle, probes }
    }
  }

  const method: Activity[] = []
  const methodList = c.list(doc.method, 'method', 'a non-empty list of actions and probes')
  if (methodList && methodList.length === 0) c.bad('method', 'a non-empty list of actions and probes', methodList)
  methodList?.forEach((a, i) => {
    const path = at('method', i)
    const m = isMap(a) ? a : undefined
    if (!m) return c.bad(path, 'an action or a probe (a map with type: action|probe)', a)
    const type = c.oneOf(m, 'type', path, ['action', 'probe'] as const)
    const activity = type === 'action' ? readAction(c, m, path, true) : type === 'probe' ? readProbe(c, m, path, true, runServices) : undefined
    if (activity) method.push(activity)
  })

  const rollbacks: Action[] = []
  if (doc.rollbacks !== undefined && doc.rollbacks !== null) {
    c.list(doc.rollbacks, 'rollbacks', 'a list of actions')?.forEach((a, i) => {
      const path = at('rollbacks', i)
      const m = isMap(a) ? a : undefined
      if (!m) return c.bad(path, 'an action (a map with type: action)', a)
      if (c.oneOf(m, 'type', path, ['action'] as const) !== 'action') return
      const action = readAction(c, m, path, false)
      if (action) rollbacks.push(action)
    })
  }

  const expect = readExpect(c, doc.expect, runServices)
  if (c.issues.length > 0) return { ok: false, issues: c.issues }

  const experiment = { title, description, tags, timeScale, durationMs, seed, topology, workload, slo, steadyStateHypothesis, method, rollbacks, expect }
  checkReferences(c, experiment)
  return c.issues.length > 0 ? { ok: false, issues: c.issues } : { ok: true, experiment }
}

function readTopology(c: Checker, v: unknown): TopologyConfig {
  const path = 'topology'
  const o = c.map(v ?? {}, path, ['fleets', 'backends', 'shardMapCache', 'services', 'switches', 'threadAlarm', 'customers']) ?? {}
  const fleets: Record<string, FleetConfig> = {}
  const fo = c.map(o.fleets ?? undefined, join(path, 'fleets'), FLEETS, 'a map of fleets with at least main: {frontends, threadLimit}')
  if (fo) {
    if (fo.main === undefined) c.bad('topology.fleets.main', 'the main fleet {frontends, threadLimit}', undefined)
    for (const [name, f] of Object.entries(fo)) {
      if (!(FLEETS as readonly string[]).includes(name)) continue
      const fp = `topology.fleets.${name}`
      const m = c.map(
        f,
        fp,
        ['frontends', 'threadLimit', 'bootstrap', 'learnDelay', 'cells', 'removeUnhealthyAfter'],
        'a map {frontends, threadLimit, bootstrap?, learnDelay?, cells?, removeUnhealthyAfter?}',
      )
      if (!m) continue
      fleets[name] = {
        frontends: c.integer(m, 'frontends', fp, 1, MAX_FLEET_SIZE) ?? 1,
        threadLimit: c.integer(m, 'threadLimit', fp, 1, MAX_THREAD_LIMIT) ?? 1,
        bootstrap: c.oneOf(m, 'bootstrap', fp, BOOTSTRAPS, 'peers')!,
        learnDelayMs: c.duration(m, 'learnDelay', fp, { default: 0 })!,
        cells: c.integer(m, 'cells', fp, 1, MAX_CELLS, 1)!,
        removeUnhealthyAfterMs: c.duration(m, 'removeUnhealthyAfter', fp, { default: 0 })!,
      }
    }
  }
  const sw = c.map(o.switches ?? {}, join(path, 'switches'), ['cognito', 'cloudwatch', 'lambda']) ?? {}
  const sp = 'topology.switches'
  const cog = c.map(sw.cognito ?? {}, `${sp}.cognito`, ['sustainKinesisErrors', 'bufferRecords']) ?? {}
  const cw = c.map(sw.cloudwatch ?? {}, `${sp}.cloudwatch`, ['localStore', 'localStoreHours', 'partitionedFleet']) ?? {}
  const la = c.map(sw.lambda ?? {}, `${sp}.lambda`, ['boundedAgentBuffer']) ?? {}
  const ta = c.map(o.threadAlarm ?? {}, join(path, 'threadAlarm'), ['enabled', 'threshold']) ?? {}
  return {
    fleets,
    backends: c.integer(o, 'backends', path, 1, MAX_BACKENDS, D.DEFAULT_BACKENDS)!,
    shardMapCache: c.boolean(o, 'shardMapCache', path, false),
    services: c.stringList(o, 'services', path, DOWNSTREAM) ?? [...DOWNSTREAM],
    switches: {
      cognito: {
        sustainKinesisErrors: c.boolean(cog, 'sustainKinesisErrors', `${sp}.cognito`, D.DEFAULT_SWITCHES.cognito.sustainKinesisErrors),
        bufferRecords: c.integer(cog, 'bufferRecords', `${sp}.cognito`, 1, 10_000_000, D.DEFAULT_SWITCHES.cognito.bufferRecords)!,
      },
      cloudwatch: {
        localStore: c.boolean(cw, 'localStore', `${sp}.cloudwatch`, D.DEFAULT_SWITCHES.cloudwatch.localStore),
        localStoreHours: c.number(
          cw,
          'localStoreHours',
          `${sp}.cloudwatch`,
          { min: 0, exclusiveMin: true, max: 24 },
          D.DEFAULT_SWITCHES.cloudwatch.localStoreHours,
        )!,
        partitionedFleet: c.boolean(cw, 'partitionedFleet', `${sp}.cloudwatch`, D.DEFAULT_SWITCHES.cloudwatch.partitionedFleet),
      },
      lambda: { boundedAgentBuffer: c.boolean(la, 'boundedAgentBuffer', `${sp}.lambda`, D.DEFAULT_SWITCHES.lambda.boundedAgentBuffer) },
    },
    threadAlarm: {
      enabled: c.boolean(ta, 'enabled', 'topology.threadAlarm', D.DEFAULT_THREAD_ALARM.enabled),
      threshold: c.number(ta, 'threshold', 'topology.threadAlarm', { min: 0, max: 1, exclusiveMin: true }, D.DEFAULT_THREAD_ALARM.threshold)!,
    },
    // Read once the workload's defaults are known (validateExperiment).
    customers: [],
  }
}

/** `topology.customers`: the user's own services, each with its program or image, workload, readiness and metrics. */
function readCustomers(c: Checker, v: unknown, defaultTimeoutMs: number): CustomerConfig[] {
  if (v === undefined || v === null) return []
  const list = c.list(v, 'topology.customers', `a list of customer services, each ${CUSTOMER_SHAPE}`)
  if (!list) return []
  const seen = new Map<string, string>()
  const out: CustomerConfig[] = []
  list.forEach((item, i) => {
    const p = at('topology.customers', i)
    const m = c.map(item, p, CUSTOMER_KEYS, CUSTOMER_SHAPE)
    if (!m) return
    const base = typeof (m as Record<symbol, unknown>)[BASE_DIR] === 'string' ? ((m as Record<symbol, unknown>)[BASE_DIR] as string) : process.cwd()
    const name = c.string(m, 'name', p, { required: true }) ?? ''
    if (name) {
      const reserved = reservedCustomerName(name)
      if (!NAME.test(name)) c.bad(join(p, 'name'), 'a name of lower-case letters, digits and dashes, starting with a letter (at most 63)', name)
      else if (reserved) c.badText(join(p, 'name'), `a name of the user's own (${reserved})`, JSON.stringify(name))
      else if (seen.has(name)) c.badText(join(p, 'name'), `a name no other customer uses (${seen.get(name)} has it)`, JSON.stringify(name))
      else seen.set(name, p)
    }
    const command = readCommand(c, m.command, join(p, 'command'))
    const cwd = m.cwd === undefined || m.cwd === null ? '.' : c.string(m, 'cwd', p)
    const image = c.string(m, 'image', p)
    const build = c.string(m, 'build', p)
    if (m.command === undefined && m.image === undefined && m.build === undefined)
      c.badText(p, 'command (to run it on the local platform), image or build (compose)', 'none of them')
    const health = readPath(c, m, 'health', p)
    const metrics = m.metrics === true ? '/metrics' : readPath(c, m, 'metrics', p)
    // Folders a customer runs in or is built from must exist before anything starts.
    const folder = (key: string, given: string | undefined) => {
      if (given === undefined) return undefined
      const abs = path.resolve(base, given)
      if (!isFolder(abs))
        c.badText(
          join(p, key),
          'a folder (relative to the experiment file that names the customer)',
          `${JSON.stringify(given)} (${abs}), which is not a folder`,
        )
      return abs
    }
    const customer: CustomerConfig = {
      name,
      ...(command ? { command } : {}),
      cwd: folder('cwd', cwd ?? '.')!,
      env: readEnv(c, m.env, join(p, 'env')),
      ...(image ? { image } : {}),
      ...(build ? { build: folder('build', build) } : {}),
      port: c.integer(m, 'port', p, 1, 65_535, DEFAULT_CUSTOMER_PORT)!,
      ...(health ? { health } : {}),
      ...(metrics ? { metrics } : {}),
      readyTimeoutMs: c.duration(m, 'readyTimeout', p, { default: DEFAULT_CUSTOMER_READY_TIMEOUT_MS, positive: true })!,
      workload: readCustomerWorkload(c, m.workload, join(p, 'workload'), defaultTimeoutMs),
    }
    out.push(customer)
  })
  return out
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** argv as a list; a string runs through /bin/sh -c (as compose reads a string command). */
function readCommand(c: Checker, v: unknown, path: string): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string' && v.trim() !== '') return ['/bin/sh', '-c', v]
  const expected = 'a command: a list [program, arguments...] or a shell command line'
  if (!Array.isArray(v) || v.length === 0) {
    c.bad(path, expected, v)
    return undefined
  }
  const argv: string[] = []
  v.forEach((a, i) => {
    if (typeof a === 'number' || typeof a === 'boolean') argv.push(String(a))
    else if (typeof a !== 'string' || (i === 0 && a.trim() === '')) c.bad(at(path, i), i === 0 ? 'a program (a non-empty string)' : 'an argument (a string)', a)
    else argv.push(a)
  })
  return argv.length === v.length ? argv : undefined
}

function readPath(c: Checker, m: Obj, key: string, p: string): string | undefined {
  const v = c.string(m, key, p)
  if (v !== undefined && !v.startsWith('/')) {
    c.bad(join(p, key), 'a path starting with / (like /health)', v)
    return undefined
  }
  return v
}

function readEnv(c: Checker, v: unknown, p: string): Record<string, string> {
  if (v === undefined || v === null) return {}
  const m = c.freeMap(v, p, 'a map of environment variables (NAME: value)')
  if (!m) return {}
  const env: Record<string, string> = {}
  for (const [k, value] of Object.entries(m)) {
    if (!ENV_NAME.test(k)) c.bad(join(p, k), 'an environment variable name (letters, digits, _)', k)
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[k] = String(value)
    else c.bad(join(p, k), 'a string, number or boolean', value)
  }
  return env
}

function readTemplate(c: Checker, m: Obj, key: string, p: string, dflt?: string): string | undefined {
  const v = m[key] === undefined || m[key] === null ? dflt : c.string(m, key, p)
  if (v === undefined) return undefined
  for (const t of v.matchAll(TEMPLATE)) {
    if (!(CUSTOMER_TEMPLATE_VARIABLES as readonly string[]).includes(t[1]))
      c.badText(join(p, key), `placeholders among ${CUSTOMER_TEMPLATE_VARIABLES.map((x) => `{{${x}}}`).join(', ')}`, JSON.stringify(t[0]))
  }
  return v
}

function readCustomerWorkload(c: Checker, v: unknown, p: string, defaultTimeoutMs: number): CustomerConfig['workload'] {
  const shape = 'a workload {rate, method?, path?, body?, headers?, clientTimeout?}'
  const m = c.map(v, p, CUSTOMER_WORKLOAD_KEYS, shape)
  if (!m) return { ratePerSec: 1, method: 'GET', path: '/', headers: {}, clientTimeoutMs: defaultTimeoutMs }
  const method = c.oneOf(m, 'method', p, HTTP_METHODS, 'GET')!
  const path = readTemplate(c, m, 'path', p, '/')!
  if (!path.startsWith('/')) c.bad(join(p, 'path'), 'a path starting with /', path)
  const body = readTemplate(c, m, 'body', p)
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) c.badText(join(p, 'body'), 'a method that sends a body (POST, PUT, PATCH, DELETE)', method)
  const headers = m.headers === undefined || m.headers === null ? {} : readHeaders(c, m.headers, join(p, 'headers'))
  return {
    ratePerSec: c.number(m, 'rate', p, { min: 0, max: 10_000, exclusiveMin: true }) ?? 1,
    method,
    path,
    ...(body !== undefined ? { body } : {}),
    headers,
    clientTimeoutMs: c.duration(m, 'clientTimeout', p, { default: defaultTimeoutMs, positive: true })!,
  }
}

/** HTTP headers: a map of names to strings. */
function readHeaders(c: Checker, v: unknown, p: string): Record<string, string> {
  const m = c.freeMap(v, p, 'a map of HTTP headers (name: value)')
  if (!m) return {}
  const out: Record<string, string> = {}
  for (const [k, value] of Object.entries(m)) {
    if (!/^[A-Za-z0-9-]+$/.test(k)) c.bad(join(p, k), 'a header name (letters, digits, dashes)', k)
    else if (typeof value === 'string' || typeof value === 'number') out[k] = String(value)
    else c.bad(join(p, k), 'a string', value)
  }
  return out
}

function readWorkload(c: Checker, v: unknown): WorkloadConfig {
  const path = 'workload'
  const o = c.map(v ?? {}, path, ['clientTimeout', 'retries', 'rates', 'streamShards']) ?? {}
  const r = c.map(o.retries ?? {}, 'workload.retries', ['maxAttempts', 'mode']) ?? {}
  const ro = c.map(o.rates ?? {}, 'workload.rates', RATE_KEYS) ?? {}
  const rates = { ...D.DEFAULT_RATES } as Rates
  for (const k of RATE_KEYS) rates[k] = c.number(ro, k, 'workload.rates', { min: 0, max: 10_000 }, D.DEFAULT_RATES[k])!
  return {
    clientTimeoutMs: c.duration(o, 'clientTimeout', path, { default: D.DEFAULT_CLIENT_TIMEOUT_MS, positive: true })!,
    retries: {
      maxAttempts: c.integer(r, 'maxAttempts', 'workload.retries', 1, 10, D.DEFAULT_RETRIES.maxAttempts)!,
      mode: c.oneOf(r, 'mode', 'workload.retries', RETRY_MODES, D.DEFAULT_RETRIES.mode)!,
    },
    rates,
    streamShards: c.integer(o, 'streamShards', path, 1, 100_000, D.DEFAULT_STREAM_SHARDS)!,
  }
}

function readSlo(c: Checker, v: unknown, customers: readonly string[]): Experiment['slo'] {
  const slo: Record<string, Slo> = Object.fromEntries(SERVICES.map((s) => [s, { ...D.DEFAULT_SLO[s] }]))
  for (const name of customers) slo[name] = { ...D.DEFAULT_CUSTOMER_SLO }
  const o = c.map(v ?? {}, 'slo', [...SERVICES, ...customers]) ?? {}
  for (const s of [...SERVICES, ...customers]) {
    if (o[s] === undefined) continue
    const p = `slo.${s}`
    const m = c.map(o[s], p, ['minSuccessRatio', 'maxP99Ms'], 'a map {minSuccessRatio?, maxP99Ms?}')
    if (!m) continue
    slo[s] = {
      minSuccessRatio: c.number(m, 'minSuccessRatio', p, { min: 0, max: 1 }, slo[s].minSuccessRatio)!,
      maxP99Ms: c.number(m, 'maxP99Ms', p, { min: 0, exclusiveMin: true }, slo[s].maxP99Ms)!,
    }
  }
  return slo as Experiment['slo']
}

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:.]*)(?:\{(.*)\})?$/
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*$/

/** `kinesis_frontend_shard_map_state{state="broken"}` -> name and labels; undefined when malformed. */
export function parseMetricSelector(s: string): MetricSelector | undefined {
  const m = SELECTOR.exec(s.trim())
  if (!m) return undefined
  const labels: Record<string, string> = {}
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const l = LABEL.exec(part)
      if (!l) return undefined
      labels[l[1]] = l[2]
    }
  }
  return { name: m[1], labels }
}

function readProbe(c: Checker, v: unknown, path: string, inMethod: boolean, services: readonly string[]): Probe | undefined {
  const m = c.map(v, path, inMethod ? PROBE_KEYS : HYPOTHESIS_PROBE_KEYS, 'a probe {name, service, measure|metric, tolerance}')
  if (!m) return undefined
  if (m.type !== undefined && m.type !== 'probe') c.bad(join(path, 'type'), 'probe', m.type)
  const name = c.string(m, 'name', path, { required: true }) ?? ''
  const atMs = inMethod ? c.duration(m, 'at', path, { default: 0 }) : undefined
  let measure: Probe['measure'] = 'successRatio'
  let metric: MetricSelector | undefined
  if (m.measure !== undefined && m.metric !== undefined) c.badText(path, 'measure (successRatio or p99Ms) or metric, not both', 'both')
  else if (m.metric !== undefined) {
    measure = 'metric'
    metric = typeof m.metric === 'string' ? parseMetricSelector(m.metric) : undefined
    if (!metric) c.bad(join(path, 'metric'), 'a Prometheus series like kinesis_frontend_threads or name{label="value"}', m.metric)
  } else if (m.measure !== undefined) measure = c.oneOf(m, 'measure', path, MEASURES) ?? 'successRatio'
  else c.badText(path, 'measure (successRatio or p99Ms) or metric', 'neither')
  let service: string
  if (measure === 'metric') {
    service = c.string(m, 'service', path, { required: true }) ?? ''
    if (service && !NAME.test(service)) c.bad(join(path, 'service'), 'a service or process name (lower-case letters, digits, dashes)', service)
  } else service = c.oneOf(m, 'service', path, services) ?? 'kinesis'
  if (m.aggregate !== undefined && measure !== 'metric') c.badText(join(path, 'aggregate'), 'aggregate only on metric probes', describeValue(m.aggregate))
  const aggregate = c.oneOf(m, 'aggregate', path, AGGREGATES, 'mean')!
  const windowMs = c.duration(m, 'window', path, { default: D.DEFAULT_PROBE_WINDOW_MS, positive: true })!
  const tolerance: Probe['tolerance'] = {}
  const t = c.map(m.tolerance, join(path, 'tolerance'), ['min', 'max'], 'a tolerance {min?, max?} with at least one bound')
  if (t) {
    if (t.min === undefined && t.max === undefined) c.badText(join(path, 'tolerance'), 'a tolerance {min?, max?} with at least one bound', 'no bound')
    if (t.min !== undefined) tolerance.min = c.number(t, 'min', join(path, 'tolerance'), { min: Number.NEGATIVE_INFINITY })
    if (t.max !== undefined) tolerance.max = c.number(t, 'max', join(path, 'tolerance'), { min: Number.NEGATIVE_INFINITY })
    if (tolerance.min !== undefined && tolerance.max !== undefined && tolerance.min > tolerance.max) {
      c.badText(join(path, 'tolerance'), 'min <= max', `min ${tolerance.min} > max ${tolerance.max}`)
    }
  }
  const probe: Probe = { type: 'probe', name, service, measure, aggregate, windowMs, tolerance }
  if (atMs !== undefined) probe.atMs = atMs
  if (metric) probe.metric = metric
  return probe
}

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

function readAction(c: Checker, m: Obj, path: string, inMethod: boolean): Action | undefined {
  c.map(m, path, inMethod ? ACTION_KEYS : ROLLBACK_KEYS)
  const name = c.string(m, 'name', path, { required: true }) ?? ''
  const atMs = inMethod ? c.duration(m, 'at', path, { default: 0 })! : 0
  const provider = c.oneOf(m, 'provider', path, PROVIDER_NAMES)
  if (!provider) return undefined
  // The provider's definition holds its args: their keys, their shape and how to read them.
  const spec = PROVIDERS[provider].args
  const argsPath = join(path, 'args')
  const a = c.map(m.args, argsPath, spec.keys, `${spec.shape} for ${provider}`)
  const args = a ? spec.read(c, a, argsPath) : undefined
  return args ? { type: 'action', name, atMs, provider, args: { provider, ...args } as ActionArgs } : undefined
}

function readExpect(c: Checker, v: unknown, services: readonly string[]): Expectations {
  if (v === undefined || v === null) return {}
  const p = 'expect'
  const o = c.map(v, p, ['impacted', 'healthy', 'onsetOrder', 'cause', 'recovered', 'steadyStateAfter', 'maxRecoveryMs', 'alarmLeadMs', 'delivered'])
  if (!o) return {}
  const e: Expectations = {}
  if (o.impacted !== undefined) e.impacted = c.stringList(o, 'impacted', p, services)
  if (o.healthy !== undefined) e.healthy = c.stringList(o, 'healthy', p, services)
  if (o.onsetOrder !== undefined) {
    const groups = c.list(o.onsetOrder, 'expect.onsetOrder', 'a list of groups (lists of services), e.g. [[kinesis], [cloudwatch, eventbridge]]')
    if (groups) {
      e.onsetOrder = groups.map((g, i) => readGroup(c, g, `expect.onsetOrder[${i}]`, services))
    }
  }
  if (o.cause !== undefined) {
    const m = c.map(o.cause, 'expect.cause', services, 'a map of service: the service (or trigger) the cascade names as its cause')
    if (m) {
      e.cause = {}
      const causes = [...services, 'trigger']
      for (const s of services) {
        if (m[s] === undefined) continue
        const want = c.string(m, s, 'expect.cause', { required: true })
        if (want !== undefined && !causes.includes(want)) c.bad(join('expect.cause', s), `one of ${causes.join(', ')}`, want)
        else if (want !== undefined) e.cause[s] = want
      }
    }
  }
  if (o.recovered !== undefined) e.recovered = c.boolean(o, 'recovered', p, true)
  if (o.steadyStateAfter !== undefined) e.steadyStateAfter = c.boolean(o, 'steadyStateAfter', p, true)
  if (o.maxRecoveryMs !== undefined) {
    const m = c.map(o.maxRecoveryMs, 'expect.maxRecoveryMs', services, 'a map of service: milliseconds')
    if (m) {
      e.maxRecoveryMs = {}
      for (const s of services) if (m[s] !== undefined) e.maxRecoveryMs[s] = c.integer(m, s, 'expect.maxRecoveryMs', 0, Number.MAX_SAFE_INTEGER)
    }
  }
  if (o.alarmLeadMs !== undefined) {
    const m = c.map(o.alarmLeadMs, 'expect.alarmLeadMs', ['min'], 'a map {min: milliseconds}')
    if (m) e.alarmLeadMs = { min: c.integer(m, 'min', 'expect.alarmLeadMs', 0, Number.MAX_SAFE_INTEGER) ?? 0 }
  }
  if (o.delivered !== undefined) {
    const list = c.list(o.delivered, 'expect.delivered', 'a list of {customer, stream, path?, within?}')
    if (list) {
      e.delivered = []
      list.forEach((d, i) => {
        const dp = at('expect.delivered', i)
        const m = c.map(d, dp, DELIVERED_KEYS, 'a map {customer, stream, path?, within?}')
        if (!m) return
        const customer = c.string(m, 'customer', dp, { required: true }) ?? ''
        const stream = c.string(m, 'stream', dp, { required: true }) ?? ''
        const path = c.string(m, 'path', dp, { default: D.DELIVERED_PATH }) ?? D.DELIVERED_PATH
        if (!path.startsWith('/')) c.bad(join(dp, 'path'), 'a path starting with /', path)
        const withinMs = c.duration(m, 'within', dp, { default: D.DELIVERED_WITHIN_MS }) ?? D.DELIVERED_WITHIN_MS
        e.delivered!.push({ customer, stream, path, withinMs })
      })
    }
  }
  return e
}

const DELIVERED_KEYS = ['customer', 'stream', 'path', 'within']

function readGroup(c: Checker, g: unknown, path: string, services: readonly string[]): RunService[] {
  // A bare name stands for a group of one.
  const group = typeof g === 'string' ? [g] : g
  if (!Array.isArray(group) || group.length === 0) {
    c.bad(path, 'a non-empty list of services (a group: any order inside it)', g)
    return []
  }
  const out: RunService[] = []
  group.forEach((s, j) => {
    if ((services as readonly unknown[]).includes(s)) out.push(s as RunService)
    else c.bad(at(path, j), `one of ${services.join(', ')}`, s)
  })
  return out
}

type Resolved = Omit<Experiment, 'file' | 'files'>

/** The second pass: everything a file can get wrong across keys. */
function checkReferences(c: Checker, e: Resolved): void {
  const t = e.topology
  const fleetNames = Object.keys(t.fleets)
  const customers = t.customers.map((x) => x.name)
  const inRun = new Set<string>(['kinesis', ...t.services, ...customers])
  const runList = ['kinesis', ...t.services, ...customers].join(', ')

  for (const [name, f] of Object.entries(t.fleets)) {
    if (f.cells > f.frontends) c.bad(`topology.fleets.${name}.cells`, `at most frontends (${f.frontends})`, f.cells)
  }
  t.services.forEach((s, i) => {
    for (const need of NEEDS[s] ?? []) {
      if (!t.services.includes(need)) c.badText(`topology.services[${i}]`, `${need} in topology.services too (${s} depends on it)`, JSON.stringify(s))
    }
  })
  if (t.switches.cloudwatch.partitionedFleet && !t.fleets.cloudwatch) {
    c.bad('topology.switches.cloudwatch.partitionedFleet', 'a fleet topology.fleets.cloudwatch {frontends, threadLimit} for CloudWatch', true)
  }
  if (t.fleets.cloudwatch && !t.switches.cloudwatch.partitionedFleet) {
    c.badText('topology.fleets.cloudwatch', 'topology.switches.cloudwatch.partitionedFleet: true (nothing else uses this fleet)', 'partitionedFleet false')
  }
  if (t.switches.cloudwatch.partitionedFleet && !inRun.has('cloudwatch')) {
    c.badText('topology.switches.cloudwatch.partitionedFleet', 'cloudwatch in topology.services', 'no cloudwatch')
  }
  if (e.expect.alarmLeadMs && !t.threadAlarm.enabled) {
    c.badText('expect.alarmLeadMs', 'topology.threadAlarm.enabled: true (no alarm to lead)', 'threadAlarm disabled')
  }

  const names = new Map<string, string>()
  const checkName = (name: string, path: string) => {
    const first = names.get(name)
    if (first !== undefined) c.badText(`${path}.name`, `a name no other activity uses (${first} has it)`, JSON.stringify(name))
    else names.set(name, path)
  }
  const checkProcess = (s: string, path: string) => {
    if (!isProcessOfRun(s, e)) c.bad(path, `${PROCESS_EXPECTED}; this run has ${runList}`, s)
  }
  const checkProbe = (p: Probe, path: string) => {
    if (p.measure === 'metric') {
      if (p.service !== 'kinesis' && !customers.includes(p.service) && !isProcessOfRun(p.service, e))
        c.bad(`${path}.service`, `${PROCESS_EXPECTED}; this run has ${runList}`, p.service)
    } else if (!inRun.has(p.service)) c.bad(`${path}.service`, `a service of this run (${runList})`, p.service)
  }
  e.steadyStateHypothesis?.probes.forEach((p, i) => checkProbe(p, `steady-state-hypothesis.probes[${i}]`))

  const run: RunReferences = { process: checkProcess, runs: (s) => inRun.has(s), badText: (p, expected, got) => c.badText(p, expected, got) }
  const checkAction = (a: Action, path: string) => {
    const { provider, ...args } = a.args
    const ap = `${path}.args`
    // Every provider's fleet and service; then what its own definition checks.
    if ('fleet' in args && !t.fleets[args.fleet]) c.bad(`${ap}.fleet`, `a fleet of topology.fleets (${fleetNames.join(', ')})`, args.fleet)
    if ('service' in args) checkProcess(args.service, `${ap}.service`)
    PROVIDERS[provider].args.references?.(args, run, ap)
  }
  e.method.forEach((a, i) => {
    const path = `method[${i}]`
    checkName(a.name, path)
    if ((a.atMs ?? 0) > e.durationMs)
      c.badText(`${path}.at`, `an offset within duration (${formatDuration(e.durationMs)})`, JSON.stringify(formatDuration(a.atMs ?? 0)))
    if (a.type === 'probe') checkProbe(a, path)
    else checkAction(a, path)
  })
  e.rollbacks.forEach((a, i) => {
    checkName(a.name, `rollbacks[${i}]`)
    checkAction(a, `rollbacks[${i}]`)
  })

  const x = e.expect
  const known = (list: RunService[] | undefined, path: string) =>
    list?.forEach((s, i) => {
      if (!inRun.has(s)) c.bad(`${path}[${i}]`, `a service of this run (${runList})`, s)
    })
  known(x.impacted, 'expect.impacted')
  known(x.healthy, 'expect.healthy')
  x.healthy?.forEach((s, i) => {
    if (x.impacted?.includes(s)) c.bad(`expect.healthy[${i}]`, 'a service not also listed in expect.impacted', s)
  })
  const seen = new Set<string>()
  x.onsetOrder?.forEach((g, i) =>
    g.forEach((s, j) => {
      const path = `expect.onsetOrder[${i}][${j}]`
      if (!x.impacted?.includes(s)) c.bad(path, `a service listed in expect.impacted (${(x.impacted ?? []).join(', ') || 'none'})`, s)
      else if (seen.has(s)) c.bad(path, 'each service once in onsetOrder', s)
      seen.add(s)
    }),
  )
  for (const [s, cause] of Object.entries(x.cause ?? {})) {
    if (!x.impacted?.includes(s)) c.bad(`expect.cause.${s}`, `a service listed in expect.impacted (${(x.impacted ?? []).join(', ') || 'none'})`, s)
    else if (cause && cause !== 'trigger' && !inRun.has(cause)) c.bad(`expect.cause.${s}`, `a service of this run (${runList}) or trigger`, cause)
  }
  for (const s of Object.keys(x.maxRecoveryMs ?? {})) {
    if (!x.impacted?.includes(s)) c.bad(`expect.maxRecoveryMs.${s}`, `a service listed in expect.impacted (${(x.impacted ?? []).join(', ') || 'none'})`, s)
  }
  // The stream keeps records for Kinesis's 24 h, scaled: events acknowledged before the check's
  // horizon would be trimmed, and counted as lost, though no service lost them.
  const retentionMs = KINESIS_RETENTION_HOURS * e.timeScale * 1000
  const windowMs = Math.max(0, ...(e.steadyStateHypothesis?.probes ?? []).map((p) => p.windowMs))
  x.delivered?.forEach((d, i) => {
    if (!customers.includes(d.customer))
      c.bad(`expect.delivered[${i}].customer`, `a customer service of this run (topology.customers: ${customers.join(', ') || 'none'})`, d.customer)
    const spanMs = windowMs + e.durationMs + 2 * windowMs + d.withinMs
    if (spanMs > retentionMs)
      c.badText(
        `expect.delivered[${i}]`,
        `a run shorter than the stream's retention (${KINESIS_RETENTION_HOURS} h at timeScale ${e.timeScale}: ${retentionMs / 1000} s), or a larger timeScale: its first events would be trimmed before the check`,
        `a run of up to ${Math.ceil(spanMs / 1000)} s from the first steady-state window to the end of within`,
      )
  })
}

/** Services (by their customer-facing name) and Kinesis processes an action may target. */
export function isProcessOfRun(name: string, e: Pick<Experiment, 'topology'>): boolean {
  const t = e.topology
  if ((t.services as string[]).includes(name)) return true
  if (name === METADATA_SERVICE) return true
  let m = /^kinesis-backend-(\d+)$/.exec(name)
  if (m) return Number(m[1]) >= 1 && Number(m[1]) <= t.backends
  m = /^kinesis-endpoint-([a-z0-9-]+)$/.exec(name)
  if (m) return t.fleets[m[1]] !== undefined
  m = /^kinesis-frontend-([a-z0-9]+)-(\d+)$/.exec(name)
  if (m) return t.fleets[m[1]] !== undefined && Number(m[2]) >= 1 && Number(m[2]) <= MAX_FLEET_SIZE
  return false
}
