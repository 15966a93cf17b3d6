// The AWSEvents wire protocol through inject() (no port): signatures scoped to "events", unknown
// operations, error headers, PutEvents while Kinesis refuses connections (a real closed port), and
// the checkpoint's watermark. Kinesis-backed behaviour lives in api.test.ts and outage.test.ts.
import t from 'tap'
import net from 'node:net'
import { createHash, createHmac } from 'node:crypto'
import { buildApp } from '../../services/eventbridge/app.js'
import { RuleStore } from '../../services/eventbridge/rules.js'
import { Checkpoints } from '../../services/eventbridge/checkpoint.js'
import { createKinesisClient } from '../../services/eventbridge/stream.js'
import { CREDENTIALS } from '../helpers/spawn.js'
import { internalHeaders } from '../../services/kit/internal.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

function signed(operation: string, body: unknown, opts: { service?: string; target?: string } = {}) {
  const payload = JSON.stringify(body)
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const service = opts.service ?? 'events'
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: 'localhost:80',
    'x-amz-date': amzDate,
    'x-amz-target': opts.target ?? `AWSEvents.${operation}`,
  }
  const names = Object.keys(headers).sort()
  const sha = (s: string) => createHash('sha256').update(s).digest('hex')
  const canonical = ['POST', '/', '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), sha(payload)].join('\n')
  const scope = `${day}/us-east-1/${service}/aws4_request`
  let key: Buffer = createHmac('sha256', `AWS4${CREDENTIALS.secretAccessKey}`).update(day).digest()
  for (const part of ['us-east-1', service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest()
  const signature = createHmac('sha256', key)
    .update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha(canonical)}`)
    .digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  return { method: 'POST' as const, url: '/', headers, payload }
}

/** A port nobody listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function app(t: Tap.Test, tuning: { targetHosts?: string[] } = {}) {
  const kinesis = createKinesisClient({ endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'us-east-1', credentials: CREDENTIALS, timeoutMs: 2_000 })
  const a = buildApp({
    kinesis,
    rules: await RuleStore.open(undefined),
    checkpoints: await Checkpoints.open('eventbridge-events', undefined),
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    region: 'us-east-1',
    tuning,
    logger: false,
  })
  t.teardown(async () => {
    await a.close()
    kinesis.destroy()
  })
  return a
}

t.test('a signature scoped to another service is refused', async (t) => {
  const a = await app(t)
  const res = await a.inject(signed('ListRules', {}, { service: 'kinesis' }))
  t.equal(res.statusCode, 400)
  t.equal(res.headers['x-amzn-errortype'], 'InvalidSignatureException')
  t.same(res.json(), { __type: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'events'." })
})

t.test('an unsigned call is refused', async (t) => {
  const a = await app(t)
  const res = await a.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.ListRules' },
    payload: '{}',
  })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
})

t.test('an operation outage-lab does not have answers UnknownOperationException', async (t) => {
  const a = await app(t)
  const res = await a.inject(signed('CreateEventBus', { Name: 'b' }))
  t.equal(res.statusCode, 400)
  t.same(res.json(), { __type: 'UnknownOperationException', message: 'Unknown operation AWSEvents.CreateEventBus' })
})

t.test('PutRule answers in the JSON 1.1 content type; a schedule is refused with the reason', async (t) => {
  const a = await app(t)
  const ok = await a.inject(signed('PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' }))
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['content-type'], 'application/x-amz-json-1.1')
  t.same(ok.json(), { RuleArn: 'arn:aws:events:us-east-1:000000000000:rule/r' })
  const sched = await a.inject(signed('PutRule', { Name: 's', ScheduleExpression: 'rate(1 minute)' }))
  t.equal(sched.statusCode, 400)
  t.same(sched.json(), { __type: 'ValidationException', message: 'ScheduleExpression is not supported by outage-lab: give an EventPattern.' })
})

t.test('PutEvents answers 500 InternalException when the events stream cannot be reached; invalid entries still say why', async (t) => {
  const a = await app(t)
  const res = await a.inject(signed('PutEvents', { Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }))
  t.equal(res.statusCode, 500)
  t.same(res.json(), { __type: 'InternalException', message: 'Internal service error.' })
  // Nothing valid to write: the answer does not depend on Kinesis.
  const invalid = await a.inject(signed('PutEvents', { Entries: [{ Source: 's', DetailType: 'd', Detail: 'nope' }] }))
  t.equal(invalid.statusCode, 200)
  t.same(invalid.json(), { FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }] })
  const metrics = (await a.inject({ url: '/metrics', headers: internalHeaders(a.service.internalToken) })).body
  t.match(metrics, /eventbridge_put_events_total\{outcome="error"[^}]*\} 1/)
  t.match(metrics, /eventbridge_entries_failed_total\{error_code="InternalException"[^}]*\} 1/)
  t.match(metrics, /eventbridge_backlog\{[^}]*\} 0/)
  const health = (await a.inject({ method: 'GET', url: '/health' })).json()
  t.match(health, { status: 'ok', service: 'eventbridge', stream_ready: false, backlog: 0 })
})

t.test('a target host outside the machine is refused unless TARGET_HOSTS names it', async (t) => {
  const put = (a: Awaited<ReturnType<typeof app>>) => a.inject(signed('PutTargets', { Rule: 'r', Targets: [{ Id: 'a', Arn: 'http://autoscaler:8080/hook' }] }))
  const strict = await app(t)
  await strict.inject(signed('PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' }))
  const refused = await put(strict)
  t.equal(refused.statusCode, 400)
  t.same(refused.json(), {
    __type: 'ValidationException',
    message: 'Parameter http://autoscaler:8080/hook is not valid. Reason: the target must be on this machine (127.0.0.1, localhost or [::1]), got autoscaler.',
  })
  const compose = await app(t, { targetHosts: ['autoscaler'] })
  await compose.inject(signed('PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' }))
  const accepted = await put(compose)
  t.equal(accepted.statusCode, 200)
  t.same(accepted.json(), { FailedEntryCount: 0, FailedEntries: [] })
})

t.test('a checkpoint moves only past records whose deliveries all finished, in order', async (t) => {
  const cp = await Checkpoints.open('s', undefined)
  const first = cp.read('shard-0', '10', 2)
  const second = cp.read('shard-0', '11', 1)
  cp.read('shard-0', '12', 0)
  t.equal(cp.committed('shard-0'), undefined, 'nothing finished yet')
  second()
  t.equal(cp.committed('shard-0'), undefined, 'a later record finishing first does not move it')
  first()
  t.equal(cp.committed('shard-0'), undefined, 'one of two deliveries is not enough')
  first()
  t.equal(cp.committed('shard-0'), '12', 'all three finished (the last had no target)')
  await cp.close()
})
