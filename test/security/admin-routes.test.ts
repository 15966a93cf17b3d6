// Nobody without the run's token: every route under /admin of every service, and every route of the
// control API but its /health, read from what each app registered (fastify's route tree, so a route
// added later is walked too), refuses a caller with no token, a wrong one, one a character short or
// long, and a Basic header carrying the token, whatever the method. The services are the lab's own
// apps built in process (bench/lib/fuzz/lab.ts), each with OUTAGE_LAB_ADMIN_TOKEN set.
import t from 'tap'
import { ADMIN_TOKEN, startLab } from '../../bench/lib/fuzz/lab.js'
import { routesOf } from '../../bench/lib/fuzz/run.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const CALLERS: Array<[string, Record<string, string>]> = [
  ['no token', {}],
  ['a wrong token', { authorization: `Bearer ${'0'.repeat(ADMIN_TOKEN.length)}` }],
  ['the token less its last character', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ['the token and one more character', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
  ['the token without "Bearer"', { authorization: ADMIN_TOKEN }],
  ['the token in a Basic header', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }],
  ['the token in a query string', {}],
]

t.test('every admin and control route refuses a caller without the run token', async (t) => {
  const lab = await startLab()
  t.teardown(() => lab.close())
  let walked = 0
  for (const { name, app } of lab.apps) {
    const routes = routesOf(app).filter((r) => (name === 'control' ? r.url !== '/health' : r.url.startsWith('/admin')))
    if (name !== 'control')
      t.ok(
        routes.some((r) => r.url === '/admin/faults/inbound' && r.method === 'POST'),
        `${name} has the kit's admin routes`,
      )
    else t.ok(routes.length >= 7, `the control API has its routes (${routes.length})`)
    for (const r of routes) {
      const url = r.url.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'anything')
      for (const [who, headers] of CALLERS) {
        const query = who.includes('query') ? `?token=${ADMIN_TOKEN}&authorization=Bearer%20${ADMIN_TOKEN}` : ''
        const res = await app.inject({
          method: r.method as 'GET',
          url: url + query,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{"kind":"error","status":500,"to":1,"rate":1}',
        })
        walked++
        const body = res.json()
        if (!(res.statusCode === 401 || res.statusCode === 403) || typeof body.__type !== 'string') {
          t.fail(`${name} ${r.method} ${url} with ${who}: ${res.statusCode} ${res.body}`)
        }
      }
    }
    // And the token itself is accepted (the refusals above are about the caller, not a route that refuses everybody).
    const probe = name === 'control' ? '/topology' : '/admin/faults/inbound'
    const ok = await app.inject({ method: 'GET', url: probe, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    t.equal(ok.statusCode, 200, `${name} answers the token on ${probe}`)
  }
  t.ok(walked > 500, `${walked} refused calls`)
  t.comment(`${walked} calls to ${lab.apps.length} apps`)
})

t.test('without a configured token the admin API is closed to everybody, the right-looking token included', async (t) => {
  const { createService } = await import('../../services/kit/index.js')
  const { app } = createService({ name: 'no-token', logger: false })
  t.teardown(() => app.close())
  for (const authorization of [undefined, 'Bearer ', 'Bearer undefined', `Bearer ${ADMIN_TOKEN}`]) {
    const res = await app.inject({ method: 'GET', url: '/admin/faults/inbound', headers: authorization === undefined ? {} : { authorization } })
    t.equal(res.statusCode, 403, `authorization ${JSON.stringify(authorization)}`)
    t.same(res.json(), { __type: 'AccessDeniedException', message: 'admin API disabled: no OUTAGE_LAB_ADMIN_TOKEN' })
  }
})
