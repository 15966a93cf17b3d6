// SigV4 verification (kit/sigv4.ts) against signatures made by the real AWS signer: the
// @smithy/signature-v4 package directly, and the stock @aws-sdk/client-kinesis over a real port,
// over HTTP/1.1 and HTTP/2.
import t, { type Test } from 'tap'
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { request } from 'undici'
import { SignatureV4 } from '@smithy/signature-v4'
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { awsJsonProtocol, createService, verifySigV4, type SignedRequest } from '../../services/kit/index.js'

const KEYS = new Map([['AKIDOUTAGELAB', 'outage-lab-secret']])
const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
const SIGNED_AT = new Date('2020-11-25T13:15:00Z')
const NOW = SIGNED_AT.getTime() + 2_000

// The signer takes its hash as a constructor; node's crypto does the hashing, the signer the rest.
class Sha256 {
  #hash: Hash | Hmac
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
}
function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

interface Unsigned {
  method?: string
  path?: string
  /** The query as the signer sees it (decoded). */
  query?: Record<string, string>
  /** The query as it travels (encoded, in the client's order); derived from `query` when absent. */
  wireQuery?: string
  headers?: Record<string, string>
  body?: string
  service?: string
  credentials?: { accessKeyId: string; secretAccessKey: string }
  signingDate?: Date
}

async function sign(u: Unsigned): Promise<SignedRequest> {
  const body = u.body ?? '{}'
  const signer = new SignatureV4({ credentials: u.credentials ?? CREDENTIALS, region: 'us-east-1', service: u.service ?? 'kinesis', sha256: Sha256 })
  const headers = { host: 'kinesis.local:4567', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams', ...u.headers }
  const signed = await signer.sign(
    { method: u.method ?? 'POST', protocol: 'http:', hostname: 'kinesis.local', port: 4567, path: u.path ?? '/', query: u.query ?? {}, headers, body },
    { signingDate: u.signingDate ?? SIGNED_AT },
  )
  const wire =
    u.wireQuery ??
    Object.entries(u.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&')
  return { method: signed.method, url: `${u.path ?? '/'}${wire ? `?${wire}` : ''}`, headers: lower(signed.headers), body }
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
}

function verify(req: SignedRequest, opts: { service?: string; nowMs?: number } = {}) {
  return verifySigV4(req, { keys: KEYS, service: 'service' in opts ? opts.service : 'kinesis', nowMs: opts.nowMs ?? NOW })
}

function rejects(t: Test, fn: () => unknown, type: string, message: string | RegExp, what: string): void {
  try {
    fn()
    t.fail(`${what}: accepted`)
  } catch (err) {
    const e = err as { type?: string; statusCode?: number; message: string }
    t.equal(e.type, type, what)
    t.equal(e.statusCode, 400, `${what}: status 400`)
    if (typeof message === 'string') t.equal(e.message, message, `${what}: message`)
    else t.match(e.message, message, `${what}: message`)
  }
}

t.test('a request signed by the AWS signer verifies and names the caller', async (t) => {
  const req = await sign({ body: '{"Limit":10}' })
  t.same(verify(req), { accessKeyId: 'AKIDOUTAGELAB', region: 'us-east-1', service: 'kinesis' })
  // Headers the signer did not sign may be added on the way (a proxy's, a tracer's).
  t.ok(verify({ ...req, headers: { ...req.headers, 'x-forwarded-for': '10.0.0.1', 'user-agent': 'changed' } }))
})

t.test('a tampered body or signed header fails with the signature mismatch message AWS sends', async (t) => {
  const req = await sign({ body: '{"Limit":10}' })
  rejects(t, () => verify({ ...req, body: '{"Limit":11}' }), 'InvalidSignatureException', MISMATCH, 'body changed')
  rejects(
    t,
    () => verify({ ...req, headers: { ...req.headers, 'x-amz-target': 'Kinesis_20131202.DeleteStream' } }),
    'InvalidSignatureException',
    MISMATCH,
    'signed header changed',
  )
  rejects(t, () => verify({ ...req, headers: { ...req.headers, host: 'elsewhere:4567' } }), 'InvalidSignatureException', MISMATCH, 'host changed')
  rejects(t, () => verify({ ...req, method: 'PUT' }), 'InvalidSignatureException', MISMATCH, 'method changed')
  rejects(t, () => verify({ ...req, url: '/?x=1' }), 'InvalidSignatureException', MISMATCH, 'query added')

  // The SDK also signs x-amz-content-sha256; a changed body must fail even when that header still
  // claims the original hash.
  const withHash = await sign({ body: '{"Limit":10}', headers: { 'x-amz-content-sha256': createHash('sha256').update('{"Limit":10}').digest('hex') } })
  t.ok(verify(withHash), 'the untampered request with x-amz-content-sha256 verifies')
  rejects(t, () => verify({ ...withHash, body: '{"Limit":99}' }), 'InvalidSignatureException', MISMATCH, 'body changed under a stale x-amz-content-sha256')
})

t.test('credentials: an unknown key, a wrong secret, a missing or malformed header, a foreign service scope', async (t) => {
  const unknown = await sign({ credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' } })
  rejects(t, () => verify(unknown), 'UnrecognizedClientException', 'The security token included in the request is invalid.', 'unknown key')
  const wrongSecret = await sign({ credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' } })
  rejects(t, () => verify(wrongSecret), 'InvalidSignatureException', MISMATCH, 'wrong secret')

  const req = await sign({})
  const { authorization, ...unsigned } = req.headers as Record<string, string>
  rejects(t, () => verify({ ...req, headers: unsigned }), 'MissingAuthenticationTokenException', 'Missing Authentication Token', 'no Authorization header')
  rejects(
    t,
    () => verify({ ...req, headers: { ...unsigned, authorization: 'Bearer abc' } }),
    'IncompleteSignatureException',
    'Unsupported authorization type: only AWS4-HMAC-SHA256 is accepted',
    'another scheme',
  )
  rejects(
    t,
    () => verify({ ...req, headers: { ...unsigned, authorization: authorization.replace(/, Signature=.*/, '') } }),
    'IncompleteSignatureException',
    /^Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters\. Authorization=AWS4-HMAC-SHA256 Credential=/,
    'no Signature',
  )
  const { 'x-amz-date': _date, ...undated } = req.headers as Record<string, string>
  rejects(
    t,
    () => verify({ ...req, headers: undated }),
    'IncompleteSignatureException',
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    'no X-Amz-Date',
  )

  const lambda = await sign({ service: 'lambda' })
  rejects(t, () => verify(lambda), 'InvalidSignatureException', "Credential should be scoped to correct service: 'kinesis'.", 'scoped to another service')
  t.same(verify(lambda, { service: undefined }), { accessKeyId: 'AKIDOUTAGELAB', region: 'us-east-1', service: 'lambda' }, 'any service when none is required')
})

t.test('a signature older or newer than the 15-minute skew window is refused with AWS messages', async (t) => {
  const req = await sign({})
  const at = SIGNED_AT.getTime()
  t.ok(verify(req, { nowMs: at + 14 * 60_000 }), 'within 15 minutes after')
  t.ok(verify(req, { nowMs: at - 14 * 60_000 }), 'within 15 minutes before')
  rejects(
    t,
    () => verify(req, { nowMs: at + 20 * 60_000 }),
    'InvalidSignatureException',
    'Signature expired: 20201125T131500Z is now earlier than 20201125T132000Z (20201125T133500Z - 15 min.)',
    'expired',
  )
  rejects(
    t,
    () => verify(req, { nowMs: at - 20 * 60_000 }),
    'InvalidSignatureException',
    'Signature not yet current: 20201125T131500Z is still later than 20201125T131000Z (20201125T125500Z + 15 min.)',
    'from the future',
  )
  const mismatched = { ...req, headers: { ...req.headers, 'x-amz-date': '20201126T131500Z' } }
  rejects(
    t,
    () => verify(mismatched, { nowMs: Date.UTC(2020, 10, 26, 13, 15) }),
    'InvalidSignatureException',
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20201125' != '20201126', from '20201126T131500Z'.",
    'scope date differs',
  )
})

t.test('query strings verify in any order and encoding; their values are signed', async (t) => {
  const query = { b: '2', a: '1', 'key with space': 'a/b+c=d', star: "it's*(x)!", empty: '' }
  const req = await sign({ method: 'GET', path: '/', query, body: '' })
  t.ok(verify(req), 'encodeURIComponent order')
  const reordered = Object.entries(query)
    .reverse()
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  t.ok(verify({ ...req, url: `/?${reordered}` }), 'reversed order')
  t.ok(verify({ ...req, url: req.url.replace('key%20with%20space', 'key+with+space') }), 'form-style + for spaces')
  rejects(t, () => verify({ ...req, url: req.url.replace('b=2', 'b=3') }), 'InvalidSignatureException', MISMATCH, 'a value changed')
})

t.test('REST paths verify with their encoded characters (Lambda-style) and normalized segments', async (t) => {
  // The SDK puts the path on the wire encoded once and the signer encodes it once more.
  const path = '/2015-03-31/functions/my%3Afn/invocations'
  const req = await sign({ path, query: { Qualifier: '$LATEST' }, service: 'lambda', headers: { 'content-type': 'application/json' } })
  t.equal(req.url, '/2015-03-31/functions/my%3Afn/invocations?Qualifier=%24LATEST')
  t.ok(verify(req, { service: 'lambda' }))
  rejects(
    t,
    () => verify({ ...req, url: '/2015-03-31/functions/my:fn/invocations?Qualifier=%24LATEST' }, { service: 'lambda' }),
    'InvalidSignatureException',
    MISMATCH,
    'the same path decoded is another path',
  )
  rejects(
    t,
    () => verify({ ...req, url: '/2015-03-31/functions/other/invocations?Qualifier=%24LATEST' }, { service: 'lambda' }),
    'InvalidSignatureException',
    MISMATCH,
    'another function',
  )

  const odd = await sign({ path: '/a//b/./c/../d%20e/', service: 'lambda' })
  t.ok(verify(odd, { service: 'lambda' }), 'empty, "." and ".." segments normalized as the signer does')
})

t.test('the stock Kinesis client over a real port: accepted over h1 and h2; refused with AWS errors it parses', async (t) => {
  const svc = createService({ name: 'sigv4-probe', h2c: true, logger: false })
  const callers: string[] = []
  svc.app.register(awsJsonProtocol, {
    targetPrefix: 'Kinesis_20131202',
    jsonVersion: '1.1',
    keys: KEYS,
    signingName: 'kinesis',
    operations: {
      ListStreams: (input: { Limit?: number }, ctx) => {
        callers.push(`${ctx.caller.accessKeyId}:${ctx.req.raw.httpVersion}`)
        return { StreamNames: [`limit-${input.Limit}`], HasMoreStreams: false }
      },
    },
  })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  const endpoint = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`
  const clients: KinesisClient[] = []
  const client = (opts: { h1?: boolean; credentials?: typeof CREDENTIALS }) => {
    const c = new KinesisClient({
      endpoint,
      region: 'us-east-1',
      credentials: opts.credentials ?? CREDENTIALS,
      maxAttempts: 1,
      ...(opts.h1 ? { requestHandler: new NodeHttpHandler() } : {}),
    })
    clients.push(c)
    return c
  }
  t.teardown(() => clients.forEach((c) => c.destroy()))

  t.same((await client({ h1: true }).send(new ListStreamsCommand({ Limit: 3 }))).StreamNames, ['limit-3'])
  t.same((await client({}).send(new ListStreamsCommand({ Limit: 4 }))).StreamNames, ['limit-4'])
  t.same(callers, ['AKIDOUTAGELAB:1.1', 'AKIDOUTAGELAB:2.0'])

  for (const h1 of [true, false]) {
    const wrong = await client({ h1, credentials: { ...CREDENTIALS, secretAccessKey: 'nope' } })
      .send(new ListStreamsCommand({}))
      .catch((e) => e)
    t.equal(wrong.name, 'InvalidSignatureException')
    t.equal(wrong.message, MISMATCH)
    t.equal(wrong.$metadata.httpStatusCode, 400)
    const stranger = await client({ h1, credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' } })
      .send(new ListStreamsCommand({}))
      .catch((e) => e)
    t.equal(stranger.name, 'UnrecognizedClientException')
    t.equal(stranger.message, 'The security token included in the request is invalid.')
  }

  const unsigned = await request(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
    body: '{}',
  })
  t.equal(unsigned.statusCode, 400)
  t.equal(unsigned.headers['content-type'], 'application/x-amz-json-1.1')
  t.equal(unsigned.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException')
  t.same(await unsigned.body.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
  t.equal(callers.length, 2, 'no refused call reached the operation')
})
