// The fuzzer's requests: for every surface of the lab (each AWS API in each wire protocol it speaks,
// Lambda's REST path, the status page, the control API, every service's admin and internal routes)
// a request that is well formed, then zero to three mutations of it: broken bodies, wrong types,
// missing and unknown fields and targets, bad content types and encodings, missing, wrong and
// expired signatures, oversized fields, random bytes. Every choice is drawn from one seeded
// generator, so a seed names the whole sequence.
import { gzipSync } from 'node:zlib'
import { Encoder } from 'cbor-x'
import type { ApiDescription, Random, WireProtocol } from '../../../services/kit/index.js'
import { sign } from './sign.js'
import { ADMIN_TOKEN, CREDENTIALS, OPERATOR_KEY, FLEET } from './lab.js'

export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
  url: string
  headers: Record<string, string>
  payload: Buffer
}

/** How the answer must look: an AWS protocol (by the kit's detection rule), Lambda's restJson1, or the lab's own {__type, message}. */
export type Expect = { kind: 'aws'; api: ApiDescription } | { kind: 'restJson1' } | { kind: 'labJson' } | { kind: 'html' }

export interface FuzzCase {
  /** The app it goes to (lab.ts names). */
  target: string
  /** What it exercises: "cloudwatch awsQuery", "lambda rest", "kinesis-metadata internal"... */
  surface: string
  mutations: string[]
  request: FuzzRequest
  expect: Expect
}

/** encodeURIComponent that does not throw on a lone surrogate (the fuzzer's strings have them). */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

// --- random values ---------------------------------------------------------------------------

export class Draw {
  constructor(readonly random: Random) {}
  int(n: number): number {
    return Math.floor(this.random() * n)
  }
  chance(p: number): boolean {
    return this.random() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
  /** Strings that break parsers, paths, XML, HTML, regexes and number conversions. */
  string(): string {
    return this.pick([
      '',
      'fuzz',
      'a'.repeat(1 + this.int(300)),
      '../../etc/passwd',
      '%00%ff%zz',
      '\u0000\u0001\u001f',
      '<script>alert(1)</script>',
      '"\'><img src=x onerror=alert(1)>',
      '__proto__',
      'constructor',
      '💥'.repeat(1 + this.int(20)),
      '\ud800',
      '-1',
      '1e309',
      'NaN',
      'null',
      '{"a":',
      ' ',
      '${jndi:ldap://x}',
      'shardId-000000000000',
      'arn:aws:lambda:us-east-1:000000000000:function:echo',
      String(this.int(1e9)),
    ])
  }
  /** Any JSON value, wrong types included, nested at most `depth` levels. */
  value(depth = 2): unknown {
    const k = this.int(depth > 0 ? 12 : 9)
    switch (k) {
      case 0:
        return null
      case 1:
        return this.chance(0.5)
      case 2:
        return this.pick([0, -1, 1, 2 ** 53, -(2 ** 63), 1.5, 1e308, -0])
      case 3:
      case 4:
      case 5:
        return this.string()
      case 6:
        return this.int(1000)
      case 7:
        return new Date(this.int(2e12)).toISOString()
      case 8:
        return []
      case 9:
        return Array.from({ length: this.int(4) }, () => this.value(depth - 1))
      default:
        return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.pick(FIELD_NAMES), this.value(depth - 1)]))
    }
  }
}

// Member names of the lab's APIs (and a few of none), so random structures hit real fields.
const FIELD_NAMES = [
  'StreamName',
  'ShardCount',
  'Data',
  'PartitionKey',
  'ExplicitHashKey',
  'Records',
  'ShardId',
  'ShardIteratorType',
  'ShardIterator',
  'StartingSequenceNumber',
  'Timestamp',
  'Limit',
  'NextToken',
  'Namespace',
  'MetricData',
  'MetricName',
  'Value',
  'Values',
  'Counts',
  'Unit',
  'Dimensions',
  'StatisticValues',
  'StartTime',
  'EndTime',
  'Period',
  'Statistics',
  'MetricDataQueries',
  'AlarmName',
  'AlarmNames',
  'AlarmActions',
  'Threshold',
  'ComparisonOperator',
  'EvaluationPeriods',
  'Statistic',
  'PoolName',
  'UserPoolId',
  'ClientId',
  'ClientName',
  'Username',
  'AuthFlow',
  'AuthParameters',
  'AccessToken',
  'ExplicitAuthFlows',
  'UserAttributes',
  'TemporaryPassword',
  'Password',
  'MaxResults',
  'Entries',
  'Source',
  'DetailType',
  'Detail',
  'Name',
  'EventPattern',
  'State',
  'Rule',
  'Targets',
  'Id',
  'Arn',
  'cluster',
  'serviceName',
  'service',
  'services',
  'desiredCount',
  'taskDefinition',
  'tasks',
  'message',
  'component',
  'status',
  'to',
  'rate',
  'kind',
  'operation',
  'probability',
  'delayMs',
  'url',
  'name',
  'records',
  'shardIterator',
  'limit',
  'type',
  'cell',
  'shardCount',
  '__proto__',
  'constructor',
  'Unknown',
]

// --- well-formed inputs per operation ----------------------------------------------------------

const now = () => Date.now()
const DATA = Buffer.from('fuzz record').toString('base64')

/** A well-formed input for the operations the lab serves (where a random structure would rarely pass validation). */
function seed(prefix: string, op: string): Record<string, unknown> | undefined {
  const t = now()
  const seeds: Record<string, Record<string, Record<string, unknown>>> = {
    Kinesis_20131202: {
      CreateStream: { StreamName: 'fuzz-created', ShardCount: 1 },
      DescribeStream: { StreamName: 'fuzz' },
      DescribeStreamSummary: { StreamName: 'fuzz' },
      ListStreams: {},
      ListShards: { StreamName: 'fuzz' },
      PutRecord: { StreamName: 'fuzz', Data: DATA, PartitionKey: 'pk' },
      PutRecords: { StreamName: 'fuzz', Records: [{ Data: DATA, PartitionKey: 'pk' }] },
      GetShardIterator: { StreamName: 'fuzz', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' },
      GetRecords: { ShardIterator: 'AAAA', Limit: 10 },
    },
    GraniteServiceVersion20100801: {
      PutMetricData: { Namespace: 'Fuzz', MetricData: [{ MetricName: 'm', Value: 1, Unit: 'Count', Dimensions: [{ Name: 'd', Value: 'v' }] }] },
      ListMetrics: { Namespace: 'Fuzz' },
      GetMetricStatistics: { Namespace: 'Fuzz', MetricName: 'm', StartTime: t / 1000 - 600, EndTime: t / 1000, Period: 60, Statistics: ['Sum'] },
      GetMetricData: {
        MetricDataQueries: [{ Id: 'q', MetricStat: { Metric: { Namespace: 'Fuzz', MetricName: 'm' }, Period: 60, Stat: 'Sum' } }],
        StartTime: t / 1000 - 600,
        EndTime: t / 1000,
      },
      PutMetricAlarm: {
        AlarmName: 'fuzz',
        Namespace: 'Fuzz',
        MetricName: 'm',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      },
      DescribeAlarms: { AlarmNames: ['fuzz'] },
    },
    AWSCognitoIdentityProviderService: {
      CreateUserPool: { PoolName: 'fuzz' },
      AdminSetUserPassword: { UserPoolId: 'us-east-1_fuzz', Username: 'u', Password: 'Correct-Horse-9', Permanent: true },
      InitiateAuth: { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'fuzz', AuthParameters: { USERNAME: 'u', PASSWORD: 'p' } },
      GetUser: { AccessToken: 'eyJhbGciOiJSUzI1NiJ9.e30.sig' },
      AdminCreateUser: { UserPoolId: 'us-east-1_fuzz', Username: 'u', TemporaryPassword: 'Correct-Horse-9' },
      CreateUserPoolClient: { UserPoolId: 'us-east-1_fuzz', ClientName: 'c', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] },
    },
    AWSEvents: {
      PutEvents: { Entries: [{ Source: 'fuzz', DetailType: 'fuzz', Detail: '{"a":1}' }] },
      PutRule: { Name: 'fuzz', EventPattern: '{"source":["fuzz"]}' },
      PutTargets: { Rule: 'fuzz', Targets: [{ Id: 't', Arn: 'http://127.0.0.1:9/fuzz' }] },
      ListRules: {},
    },
    AmazonEC2ContainerServiceV20141113: {
      CreateService: { serviceName: 'fuzz', desiredCount: 1 },
      ListServices: {},
      DescribeServices: { services: ['fuzz'] },
      UpdateService: { service: 'fuzz', desiredCount: 2 },
      ListTasks: {},
    },
  }
  const ops = Object.hasOwn(seeds, prefix) ? seeds[prefix] : {}
  return Object.hasOwn(ops, op) ? ops[op] : undefined
}

/** A read that must succeed whenever the service is up: the liveness check after bad input. */
export const PROBE_OPERATIONS: Record<string, [string, Record<string, unknown>]> = {
  Kinesis_20131202: ['ListStreams', {}],
  GraniteServiceVersion20100801: ['ListMetrics', {}],
  // Cognito's subset has no read of its own: a new pool each time.
  AWSCognitoIdentityProviderService: ['CreateUserPool', { PoolName: 'probe' }],
  AWSEvents: ['ListRules', {}],
  AmazonEC2ContainerServiceV20141113: ['ListServices', {}],
}

// --- encoding an AWS call in one protocol -----------------------------------------------------------

const withBytes = (v: unknown, key?: string): unknown => {
  if (key === 'Data' && typeof v === 'string') return Buffer.from(v, 'base64')
  if (Array.isArray(v)) return v.map((x) => withBytes(x))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withBytes(x, k)]))
  return v
}

/** awsQuery's flattening: lists as Name.member.N, maps as Name.entry.N.key/value. */
function form(input: unknown, prefix: string, out: URLSearchParams): void {
  if (Array.isArray(input)) input.forEach((v, i) => form(v, `${prefix}.member.${i + 1}`, out))
  else if (input && typeof input === 'object') for (const [k, v] of Object.entries(input)) form(v, prefix ? `${prefix}.${k}` : k, out)
  else if (input !== undefined) out.append(prefix, input === null ? '' : String(input))
}

export function encodeCall(api: ApiDescription, protocol: WireProtocol, op: string, input: unknown): FuzzRequest {
  switch (protocol) {
    case 'awsJson':
      return {
        method: 'POST',
        url: '/',
        headers: { 'content-type': `application/x-amz-json-${api.jsonVersion}`, 'x-amz-target': `${api.targetPrefix}.${op}` },
        payload: Buffer.from(JSON.stringify(input)),
      }
    case 'awsCbor':
      return {
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `${api.targetPrefix}.${op}` },
        payload: Buffer.from(cbor.encode(withBytes(input))),
      }
    case 'rpcv2Cbor':
      return {
        method: 'POST',
        url: `/service/${enc(api.targetPrefix)}/operation/${enc(op)}`,
        headers: { 'content-type': 'application/cbor', accept: 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
        payload: Buffer.from(cbor.encode(input)),
      }
    case 'awsQuery': {
      const params = new URLSearchParams({ Action: op, Version: api.apiVersion ?? '' })
      form(input, '', params)
      return { method: 'POST', url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: Buffer.from(params.toString()) }
    }
  }
}

export function signAws(req: FuzzRequest, api: ApiDescription, credentials = CREDENTIALS): FuzzRequest {
  return sign(req, { ...credentials, service: api.signingName ?? 'unknown' }) as FuzzRequest
}

let bomb: Buffer | undefined
/** 20 MiB of 'a' in about 20 KiB of gzip, made once. */
const gzipBomb = () => (bomb ??= gzipSync(Buffer.alloc(20 * 1024 * 1024, 'a')))

// --- mutations ------------------------------------------------------------------------------------

/** Before signing: the request is signed as it goes, so what is bad is the body, not the signature. */
const BODY_MUTATIONS = ['wrong-types', 'missing-fields', 'unknown-fields', 'oversized-field', 'deep-nesting', 'long-list'] as const
const BYTE_MUTATIONS = ['broken-body', 'random-bytes', 'empty-body', 'bad-content-type', 'gzip', 'unknown-target', 'missing-target'] as const
const SIGNATURE_MUTATIONS = [
  'no-signature',
  'bad-signature',
  'expired-date',
  'future-date',
  'garbage-date',
  'garbage-authorization',
  'unknown-key',
  'wrong-scope',
  'body-changed-after-signing',
] as const

function mutateInput(d: Draw, input: unknown, mutation: string): unknown {
  const obj: Record<string, unknown> = input && typeof input === 'object' && !Array.isArray(input) ? { ...(input as Record<string, unknown>) } : {}
  const keys = Object.keys(obj)
  switch (mutation) {
    case 'wrong-types':
      if (keys.length === 0) return d.value()
      for (const k of keys) if (d.chance(0.6)) obj[k] = d.value()
      return obj
    case 'missing-fields':
      for (const k of keys) if (d.chance(0.5)) delete obj[k]
      return obj
    case 'unknown-fields':
      for (let i = 0; i < 1 + d.int(4); i++) obj[d.pick(FIELD_NAMES)] = d.value()
      return obj
    case 'oversized-field': {
      const k = keys.length > 0 ? d.pick(keys) : d.pick(FIELD_NAMES)
      obj[k] = d.pick(['x'.repeat(70_000), 'y'.repeat(300_000), Buffer.alloc(1_100_000, 'z').toString('base64')])
      return obj
    }
    case 'deep-nesting': {
      let v: unknown = 1
      for (let i = 0; i < 200 + d.int(1000); i++) v = d.chance(0.5) ? [v] : { a: v }
      obj[keys.length > 0 ? d.pick(keys) : 'a'] = v
      return obj
    }
    case 'long-list': {
      const k = keys.length > 0 ? d.pick(keys) : d.pick(FIELD_NAMES)
      // Small items only: a long list of a deeply nested value is hundreds of MB, a test of the fuzzer's memory.
      const first = Array.isArray(obj[k]) && (obj[k] as unknown[]).length > 0 ? (obj[k] as unknown[])[0] : undefined
      const item = first !== undefined && (JSON.stringify(first)?.length ?? 0) <= 200 ? first : d.value(0)
      obj[k] = Array.from({ length: d.pick([501, 1001, 20_000]) }, () => item)
      return obj
    }
  }
  return obj
}

function mutateBytes(d: Draw, req: FuzzRequest, mutation: string): void {
  switch (mutation) {
    case 'broken-body': {
      const p = Buffer.from(req.payload)
      if (p.length === 0) req.payload = Buffer.from('{')
      else if (d.chance(0.5)) req.payload = p.subarray(0, d.int(p.length))
      else {
        for (let i = 0; i < 1 + d.int(4); i++) p[d.int(p.length)] = d.int(256)
        req.payload = p
      }
      return
    }
    case 'random-bytes':
      req.payload = d.bytes(d.pick([1, 7, 64, 1024, 70_000]))
      return
    case 'empty-body':
      req.payload = Buffer.alloc(0)
      return
    case 'bad-content-type': {
      const ct = d.pick([
        undefined,
        'text/plain',
        'application/json',
        'application/xml',
        'application/cbor',
        'application/x-amz-cbor-1.1',
        'application/x-amz-json-1.0',
        'application/x-amz-json-1.1',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/x-amz-json-1.1; charset=ebcdic',
        ';;;',
        '💥',
      ])
      if (ct === undefined) delete req.headers['content-type']
      else req.headers['content-type'] = ct
      return
    }
    case 'gzip':
      req.headers['content-encoding'] = d.pick(['gzip', 'deflate', 'br', 'gzip, gzip', 'identity'])
      if (d.chance(0.5)) req.payload = gzipSync(req.payload)
      else if (d.chance(0.3)) req.payload = gzipBomb()
      return
    case 'unknown-target':
      if (req.headers['x-amz-target'])
        req.headers['x-amz-target'] = d.pick(['Nope.ListStreams', `${req.headers['x-amz-target']}Nope`, '.', 'x'.repeat(5000), d.string()])
      else if (req.url.startsWith('/service/'))
        req.url = d.pick(['/service/Nope/operation/ListMetrics', `${req.url}Nope`, '/service/%ZZ/operation/%00', '/service//operation/'])
      else req.payload = Buffer.from(req.payload.toString().replace(/Action=[^&]*/, `Action=${enc(d.string())}`))
      return
    case 'missing-target':
      delete req.headers['x-amz-target']
      if (req.url.startsWith('/service/')) delete req.headers['smithy-protocol']
      if (req.headers['content-type'] === 'application/x-www-form-urlencoded') req.payload = Buffer.from(req.payload.toString().replace(/Action=[^&]*&?/, ''))
      return
  }
}

function mutateSignature(
  d: Draw,
  req: FuzzRequest,
  mutation: string,
  resign: (r: FuzzRequest, o?: { atMs?: number; key?: string; service?: string }) => FuzzRequest,
): FuzzRequest {
  switch (mutation) {
    case 'no-signature': {
      const { authorization: _a, ...headers } = req.headers
      return { ...req, headers }
    }
    case 'bad-signature': {
      const auth = req.headers.authorization ?? ''
      const i = auth.length - 1 - d.int(64)
      return { ...req, headers: { ...req.headers, authorization: auth.slice(0, i) + (auth[i] === '0' ? '1' : '0') + auth.slice(i + 1) } }
    }
    case 'expired-date':
      return resign(req, { atMs: Date.now() - (16 + d.int(100_000)) * 60_000 })
    case 'future-date':
      return resign(req, { atMs: Date.now() + (16 + d.int(100_000)) * 60_000 })
    case 'garbage-date':
      return { ...req, headers: { ...req.headers, 'x-amz-date': d.pick(['', 'yesterday', '20201125T000000', '99999999T999999Z', d.string()]) } }
    case 'garbage-authorization':
      return {
        ...req,
        headers: {
          ...req.headers,
          authorization: d.pick([
            'AWS4-HMAC-SHA256',
            'AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=',
            'Bearer x',
            'AWS4-HMAC-SHA256 Credential=AKID/20201125/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=' + 'f'.repeat(64),
            d.string(),
            // Long, yet under node's 16 KiB of headers: beyond it a real socket never reaches the app (node answers 431 itself).
            'AWS4-HMAC-SHA256 ' + 'a'.repeat(8_000),
          ]),
        },
      }
    case 'unknown-key':
      return resign(req, { key: 'AKIDUNKNOWN' })
    case 'wrong-scope':
      return resign(req, { service: d.pick(['s3', 'kinesis', 'monitoring', 'execute-api', 'x']) })
    case 'body-changed-after-signing':
      return { ...req, payload: Buffer.concat([req.payload, Buffer.from(' ')]) }
  }
  return req
}

// --- one case per surface -------------------------------------------------------------------------

export interface AwsTarget {
  target: string
  api: ApiDescription
}

export function awsCase(d: Draw, t: AwsTarget): FuzzCase {
  const protocol = d.pick([...t.api.speaks])
  const op = d.chance(0.93) ? d.pick(t.api.operations) : d.pick(['Nope', 'listStreams', '', d.string()])
  let input: unknown = seed(t.api.targetPrefix, op) ?? Object.fromEntries(Array.from({ length: d.int(4) }, () => [d.pick(FIELD_NAMES), d.value()]))
  const mutations: string[] = []
  const n = d.pick([0, 1, 1, 1, 2, 2, 3])
  const kinds = Array.from({ length: n }, () => d.pick(['body', 'body', 'bytes', 'bytes', 'signature', 'signature']))
  const count = (kind: string) => kinds.filter((k) => k === kind).length
  for (let i = 0; i < count('body'); i++) {
    const m = d.pick(BODY_MUTATIONS)
    input = mutateInput(d, input, m)
    mutations.push(m)
  }
  let req = encodeCall(t.api, protocol, op, input)
  for (let i = 0; i < count('bytes'); i++) {
    const m = d.pick(BYTE_MUTATIONS)
    mutateBytes(d, req, m)
    mutations.push(m)
  }
  const resign = (r: FuzzRequest, o: { atMs?: number; key?: string; service?: string } = {}) =>
    sign(r, {
      accessKeyId: o.key ?? CREDENTIALS.accessKeyId,
      secretAccessKey: CREDENTIALS.secretAccessKey,
      service: o.service ?? t.api.signingName ?? 'x',
      atMs: o.atMs,
    }) as FuzzRequest
  req = resign(req)
  for (let i = 0; i < count('signature'); i++) {
    const m = d.pick(SIGNATURE_MUTATIONS)
    req = mutateSignature(d, req, m, resign)
    mutations.push(m)
  }
  if (d.chance(0.02)) {
    req.url = d.pick(['/nope', '/%', '/service', '/?Action=ListMetrics', '//', '/service/x/operation/y/z'])
    mutations.push('unknown-path')
  }
  return { target: t.target, surface: `${t.target} ${protocol}`, mutations, request: req, expect: { kind: 'aws', api: t.api } }
}

const LAMBDA_FUNCTIONS = [
  'echo',
  'cpu',
  'nope',
  '',
  'a'.repeat(65),
  'echo:$LATEST',
  'echo:1',
  'arn:aws:lambda:us-east-1:000000000000:function:echo',
  '%ZZ',
  '%00',
  '..',
  'echo%2F..',
]

export function lambdaCase(d: Draw): FuzzCase {
  const mutations: string[] = []
  const fn = d.pick(LAMBDA_FUNCTIONS)
  const name = fn.includes('%') ? fn : enc(fn)
  const query = d.chance(0.2) ? `?Qualifier=${enc(d.pick(['$LATEST', '1', '', d.string()]))}` : ''
  const route = d.int(10)
  let req: FuzzRequest
  if (route < 7) {
    const payload = d.chance(0.7) ? { rounds: d.int(2000), seed: d.string(), a: d.value() } : d.value()
    req = {
      method: 'POST',
      url: `/2015-03-31/functions/${name}/invocations${query}`,
      headers: { 'content-type': 'application/json' },
      payload: Buffer.from(JSON.stringify(payload) ?? ''),
    }
    if (d.chance(0.3)) {
      req.headers['x-amz-invocation-type'] = d.pick(['Event', 'DryRun', 'RequestResponse', 'Nope', ''])
      mutations.push('invocation-type')
    }
    if (d.chance(0.2)) {
      req.headers['x-amz-log-type'] = d.pick(['Tail', 'None', 'All', ''])
      mutations.push('log-type')
    }
  } else if (route < 9) req = { method: 'GET', url: `/2015-03-31/functions/${name}${query}`, headers: {}, payload: Buffer.alloc(0) }
  else req = { method: 'GET', url: d.pick(['/2015-03-31/functions', '/2015-03-31/functions/', '/2015-03-31/nope', '/']), headers: {}, payload: Buffer.alloc(0) }
  if (d.chance(0.4)) {
    const m = d.pick(['broken-body', 'random-bytes', 'bad-content-type', 'empty-body'] as const)
    mutateBytes(d, req, m)
    mutations.push(m)
  }
  const resign = (r: FuzzRequest, o: { atMs?: number; key?: string; service?: string } = {}) =>
    sign(r, {
      accessKeyId: o.key ?? CREDENTIALS.accessKeyId,
      secretAccessKey: CREDENTIALS.secretAccessKey,
      service: o.service ?? 'lambda',
      atMs: o.atMs,
    }) as FuzzRequest
  req = resign(req)
  if (d.chance(0.35)) {
    const m = d.pick(SIGNATURE_MUTATIONS)
    req = mutateSignature(d, req, m, resign)
    mutations.push(m)
  }
  return { target: 'lambda', surface: 'lambda restJson1', mutations, request: req, expect: { kind: 'restJson1' } }
}

function jsonBody(d: Draw, good: Record<string, unknown>, mutations: string[]): { payload: Buffer; headers: Record<string, string> } {
  let input: unknown = good
  if (d.chance(0.6)) {
    const m = d.pick(BODY_MUTATIONS)
    input = mutateInput(d, input, m)
    mutations.push(m)
  }
  const req: FuzzRequest = { method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: Buffer.from(JSON.stringify(input)) }
  if (d.chance(0.35)) {
    const m = d.pick(['broken-body', 'random-bytes', 'bad-content-type', 'empty-body'] as const)
    mutateBytes(d, req, m)
    mutations.push(m)
  }
  return { payload: req.payload, headers: req.headers }
}

function bearer(d: Draw, token: string, mutations: string[]): Record<string, string> {
  if (d.chance(0.5)) return { authorization: `Bearer ${token}` }
  const m = d.pick(['no-token', 'wrong-token', 'token-prefix', 'token-longer', 'basic'] as const)
  mutations.push(m)
  switch (m) {
    case 'no-token':
      return {}
    case 'wrong-token':
      return { authorization: `Bearer ${'0'.repeat(token.length)}` }
    case 'token-prefix':
      return { authorization: `Bearer ${token.slice(0, -1)}` }
    case 'token-longer':
      return { authorization: `Bearer ${token}x` }
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }
  }
}

export function statusPageCase(d: Draw): FuzzCase {
  const mutations: string[] = []
  const route = d.int(10)
  if (route < 2) {
    const url = d.pick(['/', '/api/status', '/?x=<script>', '/api/status?since=-1', '/api', '/api/updates'])
    return {
      target: 'status-page',
      surface: 'status-page read',
      mutations,
      request: { method: 'GET', url, headers: {}, payload: Buffer.alloc(0) },
      expect: url.startsWith('/?') || url === '/' ? { kind: 'html' } : { kind: 'labJson' },
    }
  }
  const good = {
    message: d.pick(['Investigating increased error rates', d.string()]),
    component: d.pick(['kinesis', 'cognito', 'nope', d.string()]),
    status: d.pick(['degraded', 'outage', 'operational', 'nope']),
  }
  const body = jsonBody(d, good, mutations)
  let headers: Record<string, string>
  let url: string
  if (route < 7) {
    url = '/api/backup/updates'
    const key = d.chance(0.5) ? OPERATOR_KEY : d.pick(['', 'x', OPERATOR_KEY.slice(1), `${OPERATOR_KEY} `, d.string()])
    if (key !== OPERATOR_KEY) mutations.push('bad-operator-key')
    headers = d.chance(0.1) ? {} : { 'x-operator-key': key }
  } else {
    url = '/api/updates'
    mutations.push('primary-without-valid-token')
    headers = d.chance(0.2)
      ? {}
      : { authorization: d.pick(['Bearer ', 'Bearer x', 'Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln', 'Bearer a.b.c.d', d.string()]) }
  }
  return {
    target: 'status-page',
    surface: 'status-page post',
    mutations,
    request: { method: 'POST', url, headers: { ...body.headers, ...headers }, payload: body.payload },
    expect: { kind: 'labJson' },
  }
}

export function controlCase(d: Draw): FuzzCase {
  const mutations: string[] = []
  const fleet = d.pick([FLEET, 'nope', '%ZZ', d.string().slice(0, 50) || 'x'])
  const name = d.pick(['cloudwatch', 'nope', '..', d.string().slice(0, 50) || 'x'])
  const routes: Array<[FuzzRequest['method'], string, Record<string, unknown>]> = [
    ['GET', '/health', {}],
    ['GET', '/topology', {}],
    ['POST', `/fleets/${enc(fleet)}/scale`, { to: d.pick([1, 2, 0, 17, -1, 1.5]) }],
    ['POST', `/fleets/${enc(fleet)}/restart`, { rate: d.pick([1, 'all', 0, -1, 'some']) }],
    ...(['kill', 'pause', 'resume', 'restart'] as const).map((a): [FuzzRequest['method'], string, Record<string, unknown>] => [
      'POST',
      `/services/${enc(name)}/${a}`,
      {},
    ]),
    ['DELETE', '/topology', {}],
    ['GET', '/nope', {}],
  ]
  const [method, url, good] = d.pick(routes)
  const body = method === 'GET' ? { payload: Buffer.alloc(0), headers: {} } : jsonBody(d, good, mutations)
  return {
    target: 'control',
    surface: 'control API',
    mutations,
    request: { method, url, headers: { ...body.headers, ...bearer(d, ADMIN_TOKEN, mutations) }, payload: body.payload },
    expect: { kind: 'labJson' },
  }
}

/** A call to a service's /admin/* routes (the kit's fault controls and the endpoint's members). */
export function adminCase(d: Draw, target: string, routes: Array<{ method: string; url: string }>): FuzzCase {
  const mutations: string[] = []
  const r = d.pick(routes)
  const url = r.url
    .replace(/:id/, d.pick(['1', 'nope', '%ZZ', '0', '-1', d.string().slice(0, 40) || 'x']))
    .replace('*', d.pick(['', 'nope', 'faults', '../health']))
  const good = {
    kind: d.pick(['error', 'latency', 'reset', 'nope']),
    status: d.pick([500, 503, 200, 99, 1000, 'x']),
    delayMs: d.pick([1, 0, -1, 1e12, 'x']),
    probability: d.pick([0, 0.5, 1, 2, -1]),
    operation: d.pick(['PutRecords', '*', '']),
  }
  const method = r.method as FuzzRequest['method']
  const body = method === 'GET' || method === 'DELETE' ? { payload: Buffer.alloc(0), headers: {} } : jsonBody(d, good, mutations)
  return {
    target,
    surface: `${target} admin`,
    mutations,
    request: { method, url, headers: { ...body.headers, ...bearer(d, ADMIN_TOKEN, mutations) }, payload: body.payload },
    expect: { kind: 'labJson' },
  }
}

/**
 * A call to a service's internal routes (metadata's streams, back-ends, members; back-ends' records;
 * the autoscaler's hook and policies; Cognito's JWKS). Names are the fuzzer's own ("fuzz-..."), so it
 * never deletes a stream the lab's services write to.
 */
export function internalCase(d: Draw, target: string, routes: Array<{ method: string; url: string }>): FuzzCase {
  const mutations: string[] = []
  const r = d.pick(routes)
  const param = () => d.pick(['fuzz-a', 'fuzz-b', 'shardId-000000000000', 'shardId-999999999999', '%ZZ', '..', 'fuzz-' + 'x'.repeat(300), 'us-east-1_nope'])
  const url =
    r.url.replace(/:[A-Za-z]+/g, () => enc(param())).replace('*', 'nope') +
    (d.chance(0.2) ? `?fleet=${d.pick(['main', '', '%ZZ'])}&cell=${d.pick(['a', ''])}` : '')
  const good = {
    name: 'fuzz-a',
    shardCount: d.pick([1, 0, 1e6, -1, 'x']),
    url: d.pick(['http://127.0.0.1:9', 'ftp://x', '', 'http://' + 'a'.repeat(3000)]),
    records: [{ data: d.pick(['AAAA', '!!', '']), partitionKey: d.string() }],
    shardIterator: d.pick(['AAAA', '', d.string()]),
    limit: d.pick([1, 0, 10_001, 'x']),
    stream: 'fuzz-a',
    shardId: 'shardId-000000000000',
    type: d.pick(['TRIM_HORIZON', 'LATEST', 'AT_SEQUENCE_NUMBER', 'nope']),
    service: 'fuzz',
    adjustment: d.pick([1, 0, -1, 1e9]),
  }
  const method = r.method as FuzzRequest['method']
  const body = method === 'GET' || method === 'DELETE' ? { payload: Buffer.alloc(0), headers: {} } : jsonBody(d, good, mutations)
  return {
    target,
    surface: `${target} internal`,
    mutations,
    request: { method, url, headers: body.headers, payload: body.payload },
    expect: { kind: 'labJson' },
  }
}
