// What the fuzz test (fuzz-aws.test.ts) found, one case each, with the exact answers now given:
// fastify's own answers (a URL that does not decode, a path parameter above its length, no route)
// came back in fastify's shape, {"error", "statusCode"}, which no AWS client parses; Lambda answered an
// unreadable Content-Type with a 500 ServiceException; the Kinesis endpoint answered a request with a
// header value it cannot forward with a 502 InternalFailure, as if the member had failed.
import t from 'tap'
import { createService, awsApi } from '../../services/kit/index.js'
import { ADMIN_TOKEN, startLab } from '../../bench/lib/fuzz/lab.js'
import { sign } from '../../bench/lib/fuzz/sign.js'
import { CREDENTIALS } from '../../bench/lib/fuzz/lab.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

t.test("a service's unrouted requests are answered in the lab's error shape", async (t) => {
  const { app } = createService({ name: 'plain', logger: false, adminToken: ADMIN_TOKEN })
  t.teardown(() => app.close())
  const cases: Array<[string, string, number, object]> = [
    ['GET', '/nope', 404, { __type: 'ResourceNotFoundException', message: 'no route GET /nope' }],
    ['DELETE', '/admin/faults/inbound/%ZZ', 400, { __type: 'ValidationException', message: "'/admin/faults/inbound/%ZZ' is not a valid url component" }],
    [
      'DELETE',
      `/admin/faults/inbound/${'x'.repeat(200)}`,
      414,
      { __type: 'ValidationException', message: `'/admin/faults/inbound/${'x'.repeat(200)}' is exceeding the max param length` },
    ],
  ]
  for (const [method, url, status, body] of cases) {
    const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    t.equal(res.statusCode, status, `${method} ${url.slice(0, 40)}`)
    t.same(res.json(), body)
  }
  const badJson = await app.inject({ method: 'POST', url: '/nope', headers: { 'content-type': 'application/json' }, payload: '{' })
  t.equal(badJson.statusCode, 400, 'an unparseable body on the way to no route')
  t.equal(badJson.json().__type, 'ValidationException')
})

t.test("an AWS API's unrouted requests are answered in the protocol the request speaks", async (t) => {
  const svc = createService({ name: 'api', logger: false })
  t.teardown(() => svc.app.close())
  svc.app.register(awsApi, {
    targetPrefix: 'GraniteServiceVersion20100801',
    jsonVersion: '1.0',
    protocols: ['rpcv2Cbor', 'awsQuery'],
    namespace: 'com.amazonaws.cloudwatch',
    apiVersion: '2010-08-01',
    xmlNamespace: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    operations: { ListMetrics: () => ({ Metrics: [] }) },
  })
  const json = await svc.app.inject({ method: 'POST', url: '/x/%ZZ', headers: { 'content-type': 'application/x-amz-json-1.0' }, payload: '{}' })
  t.equal(json.statusCode, 400)
  t.equal(json.headers['content-type'], 'application/x-amz-json-1.0')
  t.same(json.json(), { __type: 'ValidationException', message: "'/x/%ZZ' is not a valid url component" })
  const rpc = await svc.app.inject({
    method: 'POST',
    url: '/service/%ZZ/operation/%00',
    headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' },
  })
  t.equal(rpc.statusCode, 400)
  t.equal(rpc.headers['smithy-protocol'], 'rpc-v2-cbor', 'an rpcv2Cbor error')
  const query = await svc.app.inject({
    method: 'POST',
    url: '/%',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'Action=ListMetrics',
  })
  t.equal(query.statusCode, 400)
  t.match(query.body, /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>ValidationError<\/Code>/, 'an awsQuery ErrorResponse')
  const unknown = await svc.app.inject({ method: 'GET', url: '/nope' })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { __type: 'UnknownOperationException', message: 'no route GET /nope' }, 'no route: the API says unknown operation, as before')
})

t.test('Lambda, the endpoint and the control API, as the lab builds them', async (t) => {
  const lab = await startLab()
  t.teardown(() => lab.close())
  const lambda = lab.get('lambda')
  const invoke = (contentType: string) =>
    lambda.inject(
      sign(
        { method: 'POST', url: '/2015-03-31/functions/echo/invocations', headers: { 'content-type': contentType }, payload: Buffer.from('{}') },
        { ...CREDENTIALS, service: 'lambda' },
      ) as never,
    )
  const media = await invoke(';;;')
  t.equal(media.statusCode, 415, 'an unreadable Content-Type is the caller’s fault')
  t.equal(media.headers['x-amzn-errortype'], 'UnsupportedMediaTypeException')
  t.same(media.json(), { Type: 'User', message: 'The content type of the request is not supported.' })
  const badName = await lambda.inject({ method: 'GET', url: '/2015-03-31/functions/%ZZ' })
  t.equal(badName.statusCode, 400)
  t.equal(badName.headers['x-amzn-errortype'], 'ValidationException')
  t.same(badName.json(), { Type: 'User', message: "'/2015-03-31/functions/%ZZ' is not a valid url component" })

  const endpoint = lab.get('kinesis-endpoint')
  const forwarded = await endpoint.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.\u0001ListStreams' },
    payload: '{}',
  })
  t.equal(forwarded.statusCode, 400, 'a header value the endpoint cannot forward is the caller’s fault, not a 502')
  t.equal(forwarded.json().__type, 'ValidationException')
  t.match(forwarded.json().message, /^Request cannot be forwarded: /)

  const control = lab.get('control')
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const nope = await control.inject({ method: 'GET', url: '/nope', headers: auth })
  t.equal(nope.statusCode, 404)
  t.same(nope.json(), { __type: 'ResourceNotFoundException', message: 'no route GET /nope' })
  const bad = await control.inject({ method: 'POST', url: '/fleets/%ZZ/scale', headers: auth, payload: { to: 1 } })
  t.equal(bad.statusCode, 400)
  t.same(bad.json(), { __type: 'InvalidArgumentException', message: "'/fleets/%ZZ/scale' is not a valid url component" })
})
