// The kit's protocol layer (services/kit/protocols) on a small API, Probe, that speaks all four wire
// protocols: each request below is written as the SDKs put it on the wire and signed by the real
// signer, then answered through inject(). One handler serves them all: it must read the same input,
// and each protocol must carry the same answer and the same errors, each in its own shape.
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { Decoder, Encoder, Tag } from 'cbor-x'
import { XMLParser } from 'fast-xml-parser'
import { AwsError, AwsErrors, awsApi, createService, shape, MAX_CALLERS, type OperationShapes } from '../../services/kit/index.js'
import { signed, CREDENTIALS, KEYS, type Unsigned } from './signing.js'

const { string, integer, double, boolean, timestamp, blob, list, map, structure } = shape
const PREFIX = 'Probe_20201125'
const NAMESPACE = 'com.example.probe'
const XMLNS = 'https://probe.example/doc/2020-11-25/'
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

const document = structure({
  Name: string,
  Count: integer,
  Ratio: double,
  Enabled: boolean,
  At: timestamp,
  Data: blob,
  Items: list(structure({ Name: string, Count: integer })),
  Tags: map(string, string),
  Nested: structure({ Inner: structure({ Value: double }) }),
})
const SHAPES: Record<string, OperationShapes> = {
  Echo: { input: document, output: document },
  Ping: { input: structure({}) },
  Fail: { input: structure({}) },
}

/** The input every protocol below carries, in the JSON shape handlers read. */
const ECHO = {
  Name: 'orders',
  Count: 3,
  Ratio: 0.25,
  Enabled: true,
  At: 1606310100.5,
  Data: Buffer.from('hello').toString('base64'),
  Items: [
    { Name: 'a', Count: 1 },
    { Name: 'b', Count: 2 },
  ],
  Tags: { team: 'sre', env: 'lab' },
  Nested: { Inner: { Value: 1.5 } },
}

// Encoders as the clients use them: no tags on byte strings, plain maps.
const cbor = new Encoder({ useRecords: false, tagUint8Array: false, pack: false })
// 64-bit integers as numbers, as a JSON client reads them (cbor-x's int64AsNumber, in its README, not its typings).
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as any)
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false })

type Protocol = 'awsJson' | 'awsCbor' | 'rpcv2Cbor' | 'awsQuery'
const PROTOCOLS: Protocol[] = ['awsJson', 'awsCbor', 'rpcv2Cbor', 'awsQuery']

/** Each protocol's request for an operation, as its SDKs send it. */
function wire(protocol: Protocol, operation: string, input: 'echo' | 'empty' = 'empty'): Omit<Unsigned, 'service'> {
  switch (protocol) {
    case 'awsJson':
      return {
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${PREFIX}.${operation}` },
        body: input === 'echo' ? JSON.stringify(ECHO) : '{}',
      }
    case 'awsCbor':
      // The Java SDK: blobs as byte strings, timestamps as tag 1 over epoch milliseconds.
      return {
        headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `${PREFIX}.${operation}` },
        body: Buffer.from(cbor.encode(input === 'echo' ? { ...ECHO, At: new Tag(1606310100500, 1), Data: Buffer.from('hello') } : {})),
      }
    case 'rpcv2Cbor':
      // botocore and the JS SDK: timestamps as tag 1 over epoch seconds (a float here).
      return {
        path: `/service/${PREFIX}/operation/${operation}`,
        headers: { 'smithy-protocol': 'rpc-v2-cbor', accept: 'application/cbor', 'content-type': 'application/cbor' },
        body: Buffer.from(cbor.encode(input === 'echo' ? { ...ECHO, At: new Date(1606310100500), Data: Buffer.from('hello') } : {})),
      }
    case 'awsQuery':
      return {
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body:
          `Action=${operation}&Version=2020-11-25` +
          (input === 'echo'
            ? '&Name=orders&Count=3&Ratio=0.25&Enabled=true&At=2020-11-25T13%3A15%3A00.500Z&Data=aGVsbG8%3D' +
              '&Items.member.1.Name=a&Items.member.1.Count=1&Items.member.2.Name=b&Items.member.2.Count=2' +
              '&Tags.entry.1.key=team&Tags.entry.1.value=sre&Tags.entry.2.key=env&Tags.entry.2.value=lab&Nested.Inner.Value=1.5'
            : ''),
      }
  }
}

function probe(t: Tap.Test, opts: { bodyLimit?: number } = {}) {
  const svc = createService({ name: 'probe', logger: false, bodyLimit: opts.bodyLimit })
  const received: Array<Record<string, unknown>> = []
  svc.app.register(awsApi, {
    targetPrefix: PREFIX,
    jsonVersion: '1.0',
    signingName: 'probe',
    keys: KEYS,
    protocols: ['awsCbor', 'rpcv2Cbor', 'awsQuery'],
    namespace: NAMESPACE,
    apiVersion: '2020-11-25',
    xmlNamespace: XMLNS,
    queryCompatible: true,
    shapes: SHAPES,
    requestCompression: {
      maxInflatedBytes: 64 * 1024,
      invalid: (m) => new AwsError('InvalidParameterValueException', 400, m, { queryCode: 'InvalidParameterValue' }),
    },
    operations: {
      Echo: (input) => {
        received.push(input)
        return input
      },
      Ping: () => ({}),
      Fail: () => {
        throw new AwsError('ResourceNotFound', 404, 'There is no such thing.', { queryCode: 'ResourceNotFound' })
      },
    },
  })
  t.teardown(() => svc.app.close())
  const call = async (req: Omit<Unsigned, 'service'>) => {
    const res = await svc.app.inject(await signed({ ...req, service: 'probe' }))
    return { status: res.statusCode, headers: res.headers, raw: res.rawPayload }
  }
  return { svc, received, call }
}

/** An error answer read the way each protocol's clients read it. */
function errorOf(protocol: Protocol, res: { status: number; headers: Record<string, unknown>; raw: Buffer }) {
  switch (protocol) {
    case 'awsJson':
      return { status: res.status, type: res.headers['x-amzn-errortype'], body: JSON.parse(res.raw.toString()) }
    case 'awsCbor':
      return { status: res.status, type: res.headers['x-amzn-errortype'], body: decoder.decode(res.raw) }
    case 'rpcv2Cbor':
      return { status: res.status, protocol: res.headers['smithy-protocol'], body: decoder.decode(res.raw) }
    case 'awsQuery':
      return { status: res.status, body: xml.parse(res.raw.toString()) }
  }
}

/** The error each protocol gives for one AwsError-like failure (type, message) and its awsQuery form (code, status). */
function expectedError(protocol: Protocol, e: { type: string; status: number; message: string; code?: string; queryStatus?: number }) {
  switch (protocol) {
    case 'awsJson':
    case 'awsCbor':
      return { status: e.status, type: e.type, body: { __type: e.type, message: e.message } }
    case 'rpcv2Cbor':
      return { status: e.status, protocol: 'rpc-v2-cbor', body: { __type: `${NAMESPACE}#${e.type}`, message: e.message } }
    case 'awsQuery':
      return {
        status: e.queryStatus ?? e.status,
        body: {
          '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
          ErrorResponse: {
            '@_xmlns': XMLNS,
            Error: { Type: (e.queryStatus ?? e.status) >= 500 ? 'Receiver' : 'Sender', Code: e.code ?? e.type, Message: e.message },
            RequestId: undefined,
          },
        },
      }
  }
}

/** Query error bodies carry the request id of the answer: compare without it, then check it. */
function withoutRequestId(protocol: Protocol, got: ReturnType<typeof errorOf>, headers: Record<string, unknown>) {
  if (protocol !== 'awsQuery') return got
  const body = got.body as { ErrorResponse: { RequestId?: string } }
  if (body.ErrorResponse?.RequestId !== headers['x-amzn-requestid']) throw new Error('the error names another request id than its header')
  return { ...got, body: { ...body, ErrorResponse: { ...body.ErrorResponse, RequestId: undefined } } }
}

t.test('one signed Echo in each protocol: the handler reads the same input, and each protocol answers the same document in its own form', async (t) => {
  const { call, received } = probe(t)
  const answers: Record<string, unknown> = {}
  for (const protocol of PROTOCOLS) {
    const res = await call(wire(protocol, 'Echo', 'echo'))
    t.equal(res.status, 200, `${protocol} succeeds`)
    t.match(res.headers['x-amzn-requestid'], /^[0-9a-f-]{36}$/, `${protocol} answers with a request id`)
    answers[protocol] = res
  }
  t.equal(received.length, 4)
  for (let i = 0; i < 4; i++) t.strictSame(received[i], ECHO, `the handler read ${PROTOCOLS[i]}'s input as the JSON shape`)

  const json = answers.awsJson as { headers: Record<string, unknown>; raw: Buffer }
  t.equal(json.headers['content-type'], 'application/x-amz-json-1.0')
  t.strictSame(JSON.parse(json.raw.toString()), ECHO, 'JSON: base64 Data, epoch-second At')

  const awsCbor = answers.awsCbor as { headers: Record<string, unknown>; raw: Buffer }
  t.equal(awsCbor.headers['content-type'], 'application/x-amz-cbor-1.1')
  const c = decoder.decode(awsCbor.raw)
  // cbor-x reads tag 1 as seconds; awsCbor's tag 1 holds milliseconds (what the Java SDK reads).
  t.equal((c.At as Date).getTime() / 1000, 1606310100500, 'awsCbor: At is tag 1 over epoch milliseconds')
  t.strictSame(c.Data, Buffer.from('hello'), 'awsCbor: Data is a byte string')
  t.strictSame({ ...c, At: undefined, Data: undefined }, { ...ECHO, At: undefined, Data: undefined })

  const rpcv2 = answers.rpcv2Cbor as { headers: Record<string, unknown>; raw: Buffer }
  t.equal(rpcv2.headers['content-type'], 'application/cbor')
  t.equal(rpcv2.headers['smithy-protocol'], 'rpc-v2-cbor')
  const r = decoder.decode(rpcv2.raw)
  t.strictSame(r.At, new Date(1606310100500), 'rpcv2Cbor: At is tag 1 over epoch seconds')
  t.strictSame(r.Data, Buffer.from('hello'))
  t.strictSame({ ...r, At: undefined, Data: undefined }, { ...ECHO, At: undefined, Data: undefined })

  const query = answers.awsQuery as { headers: Record<string, unknown>; raw: Buffer }
  t.equal(query.headers['content-type'], 'text/xml')
  const q = xml.parse(query.raw.toString())
  t.strictSame(q.EchoResponse.EchoResult, {
    Name: 'orders',
    Count: '3',
    Ratio: '0.25',
    Enabled: 'true',
    At: '2020-11-25T13:15:00.500Z',
    Data: 'aGVsbG8=',
    Items: {
      member: [
        { Name: 'a', Count: '1' },
        { Name: 'b', Count: '2' },
      ],
    },
    Tags: {
      entry: [
        { key: 'team', value: 'sre' },
        { key: 'env', value: 'lab' },
      ],
    },
    Nested: { Inner: { Value: '1.5' } },
  })
  t.equal(q.EchoResponse['@_xmlns'], XMLNS)
  t.equal(q.EchoResponse.ResponseMetadata.RequestId, query.headers['x-amzn-requestid'])
})

t.test('an operation without output: rpcv2Cbor answers no body and no content type, awsQuery no Result', async (t) => {
  const { call } = probe(t)
  const rpcv2 = await call({ ...wire('rpcv2Cbor', 'Ping'), body: '', headers: { 'smithy-protocol': 'rpc-v2-cbor', accept: 'application/cbor' } })
  t.equal(rpcv2.status, 200)
  t.equal(rpcv2.raw.length, 0)
  t.equal(rpcv2.headers['content-type'], undefined)
  t.equal(rpcv2.headers['smithy-protocol'], 'rpc-v2-cbor')
  const query = await call(wire('awsQuery', 'Ping'))
  t.strictSame(Object.keys(xml.parse(query.raw.toString()).PingResponse).sort(), ['@_xmlns', 'ResponseMetadata'])
  t.strictSame(JSON.parse((await call(wire('awsJson', 'Ping'))).raw.toString()), {})
  t.strictSame(decoder.decode((await call(wire('awsCbor', 'Ping'))).raw), {})
})

t.test('the same failures in every protocol, each in its own error shape', async (t) => {
  const { call, received } = probe(t)
  const cases: Array<[string, (p: Protocol) => Omit<Unsigned, 'service'> & { credentials?: Unsigned['credentials'] }, Parameters<typeof expectedError>[1]]> = [
    [
      'a wrong secret',
      (p) => ({ ...wire(p, 'Echo', 'echo'), credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } }),
      { type: 'InvalidSignatureException', status: 400, message: MISMATCH, code: 'SignatureDoesNotMatch', queryStatus: 403 },
    ],
    [
      'an unknown access key',
      (p) => ({ ...wire(p, 'Echo', 'echo'), credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' } }),
      {
        type: 'UnrecognizedClientException',
        status: 400,
        message: 'The security token included in the request is invalid.',
        code: 'InvalidClientTokenId',
        queryStatus: 403,
      },
    ],
    [
      'no signature at all',
      (p) => ({ ...wire(p, 'Echo', 'echo'), unsigned: true }),
      {
        type: 'MissingAuthenticationTokenException',
        status: 400,
        message: 'Missing Authentication Token',
        code: 'MissingAuthenticationToken',
        queryStatus: 403,
      },
    ],
    [
      'a service error with a Query code and a status of its own',
      (p) => wire(p, 'Fail'),
      { type: 'ResourceNotFound', status: 404, message: 'There is no such thing.' },
    ],
  ]
  for (const [what, req, want] of cases) {
    for (const protocol of PROTOCOLS) {
      const res = await call(req(protocol))
      t.strictSame(withoutRequestId(protocol, errorOf(protocol, res), res.headers), expectedError(protocol, want), `${what}: ${protocol}`)
      // The header carries the service's Query code; the kit's own errors keep their JSON names there.
      const header = `${want.queryStatus ? want.type : (want.code ?? want.type)};Sender`
      if (protocol !== 'awsQuery') t.equal(res.headers['x-amzn-query-error'], header, `${what}: ${protocol} x-amzn-query-error`)
    }
  }
  const nothing = await call({ ...wire('rpcv2Cbor', 'Fail') })
  t.equal(nothing.headers['x-amzn-errortype'], undefined, 'rpcv2Cbor leaves type information to the body')
  t.equal(received.length, 0, 'no refused call reached the handler')
})

t.test('an operation the API does not have', async (t) => {
  const { call } = probe(t)
  const unknown: Record<Protocol, Parameters<typeof expectedError>[1]> = {
    awsJson: { type: 'UnknownOperationException', status: 400, message: `Unknown operation ${PREFIX}.Nope` },
    awsCbor: { type: 'UnknownOperationException', status: 400, message: `Unknown operation ${PREFIX}.Nope` },
    rpcv2Cbor: { type: 'UnknownOperationException', status: 400, message: `Unknown operation ${PREFIX}.Nope` },
    awsQuery: { type: 'UnknownOperationException', status: 400, code: 'InvalidAction', message: 'Could not find operation Nope for version 2020-11-25' },
  }
  for (const protocol of PROTOCOLS) {
    const res = await call(wire(protocol, 'Nope'))
    t.strictSame(withoutRequestId(protocol, errorOf(protocol, res), res.headers), expectedError(protocol, unknown[protocol]), protocol)
  }
  const noTarget = await call({ ...wire('awsJson', 'Echo'), headers: { 'content-type': 'application/x-amz-json-1.0' } })
  t.strictSame(JSON.parse(noTarget.raw.toString()), { __type: 'UnknownOperationException', message: 'Missing X-Amz-Target header' })
  const otherService = await call({ ...wire('rpcv2Cbor', 'Echo'), path: '/service/Elsewhere/operation/Echo' })
  t.strictSame(decoder.decode(otherService.raw), { __type: `${NAMESPACE}#UnknownOperationException`, message: 'Unknown operation Elsewhere.Echo' })
  const qualified = await call({ ...wire('rpcv2Cbor', 'Ping'), path: `/service/${NAMESPACE}.${PREFIX}/operation/Ping` })
  t.equal(qualified.status, 200, 'rpcv2Cbor accepts the service named by its absolute shape id, "#" as "."')
  const noAction = await call({ ...wire('awsQuery', 'Echo'), body: 'Version=2020-11-25&Name=x' })
  t.strictSame(errorOf('awsQuery', noAction).body.ErrorResponse.Error, {
    Type: 'Sender',
    Code: 'MissingAction',
    Message: 'The request must contain the parameter Action.',
  })
  const oldVersion = await call({ ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2009-01-01' })
  t.strictSame(errorOf('awsQuery', oldVersion).body.ErrorResponse.Error, {
    Type: 'Sender',
    Code: 'InvalidAction',
    Message: 'Could not find operation Echo for version 2009-01-01',
  })
  const unclaimed = await call({ ...wire('rpcv2Cbor', 'Ping'), headers: { 'content-type': 'application/cbor' } })
  t.strictSame(
    { status: unclaimed.status, body: JSON.parse(unclaimed.raw.toString()) },
    { status: 400, body: { __type: 'UnknownOperationException', message: `no route POST /service/${PREFIX}/operation/Ping` } },
    'without smithy-protocol the rpcv2 path is not claimed: an AWS JSON "no route"',
  )
})

t.test('malformed bodies get a SerializationException (or the query errors) in the protocol that sent them', async (t) => {
  const { call, received } = probe(t)
  const ser = (message: string) => ({ type: 'SerializationException', status: 400, message })
  const cbor11 = (body: Buffer) => ({ ...wire('awsCbor', 'Echo'), body })
  const rpcv2 = (body: Buffer, headers: Record<string, string> = {}) => ({
    ...wire('rpcv2Cbor', 'Echo'),
    body,
    headers: { ...wire('rpcv2Cbor', 'Echo').headers, ...headers },
  })
  const cases: Array<[string, Protocol, Omit<Unsigned, 'service'>, Parameters<typeof expectedError>[1]]> = [
    ['JSON cut short', 'awsJson', { ...wire('awsJson', 'Echo'), body: '{"Name":' }, ser('Start of structure or map found where not expected.')],
    ['a JSON array', 'awsJson', { ...wire('awsJson', 'Echo'), body: '[1]' }, ser('Start of structure or map found where not expected.')],
    [
      'JSON under a content type no protocol has',
      'awsJson',
      { ...wire('awsJson', 'Echo'), headers: { 'content-type': 'text/plain', 'x-amz-target': `${PREFIX}.Echo` } },
      ser('Unsupported content type'),
    ],
    ['CBOR cut short', 'awsCbor', cbor11(Buffer.from([0xa1, 0x61])), ser('The request body is not valid CBOR: Unexpected end of CBOR data')],
    ['a CBOR array', 'awsCbor', cbor11(Buffer.from(cbor.encode([1, 2]))), ser('Start of structure or map found where not expected.')],
    ['a CBOR set (tag 258)', 'awsCbor', cbor11(Buffer.from(cbor.encode({ Items: new Set([1]) }))), ser('Unsupported CBOR value in the request body: Set.')],
    [
      'a CBOR value that refers to itself (tags 28/29)',
      'awsCbor',
      cbor11(Buffer.from('a1654974656d73d81c81d81d00', 'hex')),
      ser('The request body nests deeper than 32 levels.'),
    ],
    [
      'trailing bytes after the CBOR map',
      'rpcv2Cbor',
      rpcv2(Buffer.concat([Buffer.from(cbor.encode({})), Buffer.from([0x01])])),
      ser('The request body is not valid CBOR: Data read, but end of buffer not reached'),
    ],
    [
      'a CBOR body under another content type',
      'rpcv2Cbor',
      rpcv2(Buffer.from(cbor.encode({})), { 'content-type': 'application/json' }),
      ser('An rpc-v2-cbor request body must be application/cbor.'),
    ],
    [
      'an rpcv2Cbor request with X-Amz-Target (the spec: reject it)',
      'rpcv2Cbor',
      rpcv2(Buffer.from(cbor.encode({})), { 'x-amz-target': `${PREFIX}.Echo` }),
      ser('An rpc-v2-cbor request must not carry an X-Amz-Target header.'),
    ],
    [
      'a list index that is not a number',
      'awsQuery',
      { ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2020-11-25&Items.member.first.Name=a' },
      { type: 'InvalidQueryParameter', status: 400, message: 'The parameter Items.member.first has no valid index (1, 2, ...).' },
    ],
    [
      'a value given a structure',
      'awsQuery',
      { ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2020-11-25&Name.First=a' },
      { type: 'InvalidQueryParameter', status: 400, message: 'The parameter Name takes a value, not a structure.' },
    ],
    [
      'a list without .member',
      'awsQuery',
      { ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2020-11-25&Items.1.Name=a' },
      { type: 'InvalidQueryParameter', status: 400, message: 'The parameter Items is a list: its items are Items.member.1, Items.member.2, ...' },
    ],
    [
      'a key nested deeper than any shape',
      'awsQuery',
      { ...wire('awsQuery', 'Echo'), body: `Action=Echo&Version=2020-11-25&${'a.'.repeat(40)}b=1` },
      { type: 'InvalidQueryParameter', status: 400, message: `The parameter ${'a.'.repeat(32)}... nests deeper than 32 levels.` },
    ],
    [
      'CBOR nested deeper than the decoder goes',
      'awsCbor',
      cbor11(Buffer.concat([Buffer.from([0xa1, 0x61, 0x78]), Buffer.alloc(200_000, 0x81), Buffer.from([0x01])])),
      ser('The request body is not valid CBOR: Maximum call stack size exceeded'),
    ],
    [
      'a parameter given twice',
      'awsQuery',
      { ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2020-11-25&Name=a&Name=b' },
      { type: 'InvalidQueryParameter', status: 400, message: 'The parameter Name is given more than once, or both as a value and as a structure.' },
    ],
  ]
  for (const [what, protocol, req, want] of cases) {
    const res = await call(req)
    t.strictSame(withoutRequestId(protocol, errorOf(protocol, res), res.headers), expectedError(protocol, want), `${protocol}: ${what}`)
  }
  t.equal(received.length, 0, 'no malformed call reached the handler')
})

t.test('awsQuery values that do not fit their type reach the handler as strings, for its own check to report', async (t) => {
  const { call, received } = probe(t)
  await call({ ...wire('awsQuery', 'Echo'), body: 'Action=Echo&Version=2020-11-25&Count=three&Ratio=NaN&Enabled=yes&At=yesterday&Items=&Tags.entry.1.key=k' })
  t.strictSame(received[0], { Count: 'three', Ratio: 'NaN', Enabled: 'yes', At: 'yesterday', Items: [], Tags: { k: null } })
})

t.test('gzip bodies (the SDKs request compression) are signed compressed and read inflated, in every protocol', async (t) => {
  const { call, received } = probe(t)
  for (const protocol of PROTOCOLS) {
    const req = wire(protocol, 'Echo', 'echo')
    const res = await call({ ...req, headers: { ...req.headers, 'content-encoding': 'gzip' }, body: gzipSync(req.body) })
    t.equal(res.status, 200, protocol)
  }
  t.strictSame(received, [ECHO, ECHO, ECHO, ECHO])
  for (const protocol of PROTOCOLS) {
    const req = wire(protocol, 'Echo', 'echo')
    const res = await call({ ...req, headers: { ...req.headers, 'content-encoding': 'gzip' }, body: Buffer.from('not gzip') })
    const message = 'The request body is not valid gzip, or inflates beyond 0 MiB.'
    t.strictSame(
      withoutRequestId(protocol, errorOf(protocol, res), res.headers),
      expectedError(protocol, { type: 'InvalidParameterValueException', status: 400, message, code: 'InvalidParameterValue' }),
      `${protocol}: not gzip`,
    )
  }
})

t.test('a body over the limit is refused in the shape of its protocol', async (t) => {
  const { call } = probe(t, { bodyLimit: 1024 })
  const big = 'x'.repeat(2048)
  const query = await call({ ...wire('awsQuery', 'Echo'), body: `Action=Echo&Version=2020-11-25&Name=${big}` })
  t.strictSame(
    withoutRequestId('awsQuery', errorOf('awsQuery', query), query.headers),
    expectedError('awsQuery', { type: 'SerializationException', status: 413, message: 'Request body too large' }),
  )
  const rpcv2 = await call({ ...wire('rpcv2Cbor', 'Echo'), body: Buffer.from(cbor.encode({ Name: big })) })
  t.strictSame(errorOf('rpcv2Cbor', rpcv2), expectedError('rpcv2Cbor', { type: 'SerializationException', status: 413, message: 'Request body too large' }))
})

t.test('an injected inbound error answers in the protocol of the request, matched by operation in every protocol', async (t) => {
  const { svc, call, received } = probe(t)
  svc.inboundFaults.add({ id: 'no-echo', kind: 'error', status: 503, match: { operation: 'Echo' } })
  for (const protocol of PROTOCOLS) {
    const res = await call(wire(protocol, 'Echo', 'echo'))
    t.strictSame(
      withoutRequestId(protocol, errorOf(protocol, res), res.headers),
      expectedError(protocol, { type: 'ServiceUnavailable', status: 503, message: 'injected fault no-echo' }),
      protocol,
    )
    t.equal((await call(wire(protocol, 'Ping'))).status, 200, `${protocol}: another operation is served`)
  }
  t.equal(received.length, 0)
})

t.test('calls are counted per caller, operation, protocol and outcome, with the callers bounded', async (t) => {
  const { svc, call } = probe(t)
  for (const protocol of PROTOCOLS) await call(wire(protocol, 'Echo', 'echo'))
  await call({ ...wire('awsQuery', 'Echo'), credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } })
  await call({ ...wire('awsJson', 'Nope') })
  await call({ ...wire('awsJson', 'Ping'), unsigned: true })
  // More strangers than there are places: the configured key keeps its own, the rest fold into "other".
  for (let i = 0; i < MAX_CALLERS + 5; i++) await call({ ...wire('awsCbor', 'Ping'), credentials: { accessKeyId: `AKIDSTRANGER${i}`, secretAccessKey: 'x' } })
  const text = await svc.metrics.metrics()
  const series = (caller: string, operation: string, protocol: string, outcome: string) =>
    Number(
      new RegExp(`^lab_caller_calls_total\\{caller="${caller}",operation="${operation}",protocol="${protocol}",outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    )
  for (const protocol of PROTOCOLS) t.equal(series('AKIDOUTAGELAB', 'Echo', protocol, 'ok'), 1, `${protocol} counted`)
  t.equal(series('AKIDOUTAGELAB', 'Echo', 'awsQuery', 'client_error'), 1, 'a refused query call still names its Action')
  t.equal(series('AKIDOUTAGELAB', 'unknown', 'awsJson', 'client_error'), 1, 'operations the API lacks are one label')
  t.equal(series('anonymous', 'Ping', 'awsJson', 'client_error'), 1)
  const callers = new Set([...text.matchAll(/^lab_caller_calls_total\{caller="([^"]+)"/gm)].map((m) => m[1]))
  t.equal(callers.size, MAX_CALLERS + 2, `${MAX_CALLERS} keys, "anonymous" and "other"`)
  t.equal(series('other', 'Ping', 'awsCbor', 'client_error'), 6, 'the strangers past the bound count as "other"')
  t.match(text, /^lab_caller_call_seconds_count\{[^}]*caller="AKIDOUTAGELAB"[^}]*\} 6$/m)
})

t.test('options are checked when the API is registered', async (t) => {
  const svc = createService({ name: 'bad', logger: false })
  svc.app.register(awsApi, { targetPrefix: 'X', jsonVersion: '1.0', keys: KEYS, operations: {}, protocols: ['awsQuery'] })
  await t.rejects(svc.app.ready(), /awsApi X: awsQuery needs apiVersion and xmlNamespace/)
  const other = createService({ name: 'bad2', logger: false })
  other.app.register(awsApi, { targetPrefix: 'X', jsonVersion: '1.0', keys: KEYS, operations: {}, shapes: { Ghost: {} } })
  await t.rejects(other.app.ready(), /shapes for Ghost, which is not an operation/)
  t.ok(AwsErrors.MissingAction('x') instanceof AwsError)
})
