import t from 'tap'
import http2 from 'node:http2'
import { request } from 'undici'
import { createService } from '../../services/kit/index.js'

t.test('one port answers HTTP/1.1 and cleartext HTTP/2', async (t) => {
  const svc = createService({ name: 'probe', h2c: true, logger: false })
  svc.app.get('/hello', async (req) => ({ v: req.raw.httpVersion }))
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
