import t from 'tap'
import http2 from 'node:http2'
import net from 'node:net'
import { request } from 'undici'
import { createService, PUBLIC } from '../../services/kit/index.js'

t.test('one port answers HTTP/1.1 and cleartext HTTP/2', async (t) => {
  const svc = createService({ name: 'probe', h2c: true, logger: false })
  // Public: the probes test the transport, not the internal credential.
  svc.app.get('/hello', PUBLIC, async (req) => ({ v: req.raw.httpVersion }))
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  const port = (svc.app.server.address() as any).port
  const h1 = await request(`http://127.0.0.1:${port}/hello`)
  t.same(await h1.body.json(), { v: '1.1' })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  const body = await new Promise<string>((resolve, reject) => {
    const r = session.request({ ':path': '/hello' })
    let s = ''
    r.on('data', (c) => (s += c))
    r.on('end', () => resolve(s))
    r.on('error', reject)
  })
  session.close()
  t.same(JSON.parse(body), { v: '2.0' })
})

t.test('large bodies cross the h2c side both ways intact (flow control, frames written together)', async (t) => {
  const svc = createService({ name: 'probe', h2c: true, logger: false })
  svc.app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 32 * 1024 * 1024 }, (_req, body, done) => done(null, body))
  // Echo the body reversed, so an answer that merely replays the bytes it was sent cannot pass.
  svc.app.post('/echo', PUBLIC, async (req, reply) => {
    reply.header('content-type', 'application/octet-stream')
    return Buffer.from(req.body as Buffer).reverse()
  })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  const port = (svc.app.server.address() as any).port
  const sent = Buffer.alloc(5 * 1024 * 1024)
  for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 10)) & 0xff
  const session = http2.connect(`http://127.0.0.1:${port}`)
  const got = await new Promise<Buffer>((resolve, reject) => {
    const r = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/octet-stream' })
    const chunks: Buffer[] = []
    r.on('data', (c) => chunks.push(c))
    r.on('end', () => resolve(Buffer.concat(chunks)))
    r.on('error', reject)
    r.end(sent)
  })
  session.close()
  t.equal(got.length, sent.length)
  t.ok(got.equals(Buffer.from(sent).reverse()), 'every byte arrived, in order')
})

t.test('close() does not wait for a client that connected and never sent a byte', async (t) => {
  const svc = createService({ name: 'probe', h2c: true, logger: false })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (svc.app.server.address() as any).port
  const silent = net.connect(port, '127.0.0.1')
  t.teardown(() => silent.destroy())
  await new Promise((resolve) => silent.once('connect', resolve))
  const closedByServer = new Promise((resolve) => silent.once('close', resolve))
  const outcome = await Promise.race([
    svc.app.close().then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000).unref()),
  ])
  t.equal(outcome, 'closed')
  await closedByServer
  t.pass('the silent connection was closed by the server')
})
