// Scaling policies through inject(): definitions are checked, CloudWatch's alarm notification
// scales only in ALARM, cooldowns hold, capacity is clamped to MAX_TASKS. No EventBridge is
// needed: the app's workflows are not started, so scaled-out tasks wait in PROVISIONING.
import t from 'tap'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { buildApp } from '../../services/autoscaler/app.js'
import { CREDENTIALS } from '../helpers/spawn.js'
import { internalHeaders, signRequest } from '../../services/kit/index.js'
import { injectPolicy } from './policy-calls.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

async function autoscaler(t: Tap.Test) {
  // Never called: the workflows are not started. Its endpoint is local all the same.
  const eventBridge = new EventBridgeClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: CREDENTIALS })
  const app = buildApp({ eventBridge, keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]), maxTasks: 5, logger: false })
  t.teardown(() => app.close())
  await app.ready()
  const svc = app.autoscaler.cluster.createService('shop', 1)
  // The customer's calls are signed; the alarm actions come from CloudWatch, with the internal credential.
  const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) => {
    if (url === '/policies') {
      const { status, body } = await injectPolicy(app, 'POST', url, payload)
      return { status, body }
    }
    const res = await app.inject({
      method: 'POST',
      url,
      payload: payload as any,
      headers: { 'content-type': 'application/json', ...internalHeaders(app.service.internalToken), ...headers },
    })
    return { status: res.statusCode, body: res.json() }
  }
  return { app, svc, post }
}

t.test('the policy API takes SigV4-signed calls only (signing name application-autoscaling); a refused call changes nothing', async (t) => {
  const { app } = await autoscaler(t)
  const policy = { service: 'shop', name: 'out', adjustment: 2 }
  const refusals: Array<[string, Parameters<typeof injectPolicy>[4], string, RegExp]> = [
    ['unsigned', { unsigned: true }, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/],
    ['signed with an unknown key', { credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' } }, 'UnrecognizedClientException', /security token/],
    [
      'signed with a wrong secret',
      { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } },
      'InvalidSignatureException',
      /signature we calculated does not match/,
    ],
    ['signed for another service', { service: 'ecs' }, 'InvalidSignatureException', /scoped to correct service: 'application-autoscaling'/],
  ]
  for (const [what, opts, type, message] of refusals) {
    const res = await injectPolicy(app, 'POST', '/policies', policy, opts)
    t.equal(res.status, 400, `POST ${what}: 400`)
    t.equal(res.type, type, `POST ${what}: x-amzn-errortype ${type}`)
    t.match(res.body, { __type: type, message }, `POST ${what}: {"__type", "message"}`)
  }
  t.equal(app.autoscaler.policies.size, 0, 'no policy was created')

  const created = await injectPolicy(app, 'POST', '/policies', policy)
  t.equal(created.status, 201, 'signed, it is created')
  t.match(created.body, { name: 'out', service: 'shop', adjustment: 2, invokeUrl: '/policies/out/invoke' })

  // A body changed after signing fails the signature, whatever x-amz-content-sha256 says.
  const headers = await signRequest(
    { method: 'POST', url: 'http://localhost/policies', headers: { 'content-type': 'application/json' }, body: JSON.stringify(policy) },
    { credentials: CREDENTIALS, region: 'us-east-1', service: 'application-autoscaling' },
  )
  const tampered = await app.inject({ method: 'POST', url: '/policies', headers, payload: JSON.stringify({ ...policy, adjustment: 5 }) })
  t.equal(tampered.json().__type, 'InvalidSignatureException', 'a tampered body is refused')
  t.equal(app.autoscaler.policies.get('out')!.adjustment, 2, 'and the policy is as it was')

  t.match(
    await injectPolicy(app, 'GET', '/policies', undefined, { unsigned: true }),
    { status: 400, type: 'MissingAuthenticationTokenException' },
    'GET unsigned',
  )
  t.match(
    await injectPolicy(app, 'DELETE', '/policies/out', undefined, { credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } }),
    { status: 400, type: 'InvalidSignatureException' },
    'DELETE badly signed',
  )
  t.ok(app.autoscaler.policies.has('out'), 'the policy is still there')
  const listed = await injectPolicy(app, 'GET', '/policies')
  t.same(
    listed.body.policies.map((p: { name: string }) => p.name),
    ['out'],
    'signed, GET lists it',
  )
  t.same((await injectPolicy(app, 'DELETE', '/policies/out')).body, { deleted: 'out' }, 'signed, DELETE deletes it')
  t.equal(app.autoscaler.policies.size, 0)
  const garbled = await app.inject({
    method: 'POST',
    url: '/policies',
    headers: await signRequest(
      { method: 'POST', url: 'http://localhost/policies', headers: { 'content-type': 'application/json' }, body: '{"name":' },
      { credentials: CREDENTIALS, region: 'us-east-1', service: 'application-autoscaling' },
    ),
    payload: '{"name":',
  })
  t.match(garbled.json(), { __type: 'SerializationException' }, 'a signed body that is not JSON: SerializationException')
})

t.test('a policy definition is checked and named errors come back', async (t) => {
  const { post } = await autoscaler(t)
  const cases: Array<[unknown, number, string, string]> = [
    [
      { service: 'shop', name: 'p', adjustment: 1, exactCapacity: 2 },
      400,
      'InvalidParameterException',
      'Exactly one of adjustment and exactCapacity must be given',
    ],
    [{ service: 'shop', name: 'p' }, 400, 'InvalidParameterException', 'Exactly one of adjustment and exactCapacity must be given'],
    [{ service: 'shop', name: 'p', adjustment: 0 }, 400, 'InvalidParameterException', 'adjustment must be a non-zero integer'],
    [{ service: 'shop', name: 'a b', adjustment: 1 }, 400, 'InvalidParameterException', 'name must be 1-255 letters, digits, _ . : or -'],
    [{ service: 'shop', name: 'p', adjustment: 1, cooldownMs: -1 }, 400, 'InvalidParameterException', 'cooldownMs must be an integer >= 0'],
    [{ service: 'ghost', name: 'p', adjustment: 1 }, 400, 'ServiceNotFoundException', 'Service not found.'],
    [
      { service: 'shop', name: 'p', adjustment: 1, alarm: { namespace: 'Shop', metricName: 'Latency' } },
      400,
      'InvalidParameterException',
      'alarm.threshold must be a number',
    ],
    [
      { service: 'shop', name: 'p', adjustment: 1, alarm: { namespace: 'Shop', metricName: 'Latency', threshold: 1, statistic: 'p99' } },
      400,
      'InvalidParameterException',
      'alarm.statistic must be one of SampleCount, Average, Sum, Minimum, Maximum',
    ],
    [
      { service: 'shop', name: 'p', adjustment: 1, alarm: { namespace: 'Shop', metricName: 'Latency', threshold: 1 } },
      400,
      'InvalidParameterException',
      'alarm needs CloudWatch: start the autoscaler with CLOUDWATCH_URL',
    ],
  ]
  for (const [body, status, type, message] of cases) t.same(await post('/policies', body), { status, body: { __type: type, message } }, message)
  t.same(await post('/policies/nope/invoke', { NewStateValue: 'ALARM' }), {
    status: 400,
    body: { __type: 'ObjectNotFoundException', message: 'No scaling policy found for policy name: nope' },
  })
})

t.test('ALARM scales, other states do not, cooldown holds, capacity stays within MAX_TASKS', async (t) => {
  const { app, svc, post } = await autoscaler(t)
  t.equal((await post('/policies', { service: 'shop', name: 'out', adjustment: 3, cooldownMs: 60_000 })).status, 201)
  t.equal((await post('/policies', { service: 'shop', name: 'in', exactCapacity: 0 })).status, 201)
  const alarm = (state: string) =>
    JSON.stringify({ AlarmName: 'shop-latency', NewStateValue: state, OldStateValue: 'OK', StateChangeTime: new Date().toISOString() })

  t.match(await post('/policies/out/invoke', alarm('OK')), { status: 200, body: { outcome: 'ignored', state: 'OK' } })
  // SNS-style deliveries come as text/plain.
  t.match(await post('/policies/out/invoke', alarm('ALARM'), { 'content-type': 'text/plain' }), {
    status: 200,
    body: { outcome: 'scaled', previousDesiredCount: 1, desiredCount: 4 },
  })
  t.match(await post('/policies/out/invoke', alarm('ALARM')), { status: 200, body: { outcome: 'cooldown', desiredCount: 4 } })
  t.equal(svc.desiredCount, 4)
  t.same(app.autoscaler.cluster.counts(svc), { desired: 4, running: 0, pending: 4 }, 'tasks wait for their provisioning events')

  t.match(
    await post('/policies/in/invoke', { detail: { state: { value: 'ALARM' } } }),
    { body: { outcome: 'scaled', desiredCount: 0 } },
    'an EventBridge alarm event works too',
  )
  t.same(app.autoscaler.cluster.counts(svc), { desired: 0, running: 0, pending: 0 }, 'unprovisioned tasks are withdrawn at once')

  app.autoscaler.policies.get('out')!.lastScaledAtMs = undefined
  await post('/policies/out/invoke', alarm('ALARM'))
  app.autoscaler.policies.get('out')!.lastScaledAtMs = undefined
  t.match(await post('/policies/out/invoke', alarm('ALARM')), { body: { outcome: 'scaled', previousDesiredCount: 3, desiredCount: 5 } }, 'clamped to MAX_TASKS')
  const metrics = (await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })).body
  t.match(metrics, /autoscaler_policy_invocations_total\{policy="out",state="ALARM",outcome="cooldown"[^}]*\} 1/)
  t.match(metrics, /autoscaler_desired_tasks\{service_name="shop"[^}]*\} 5/)
})
