// GET /admin/memory (kit/memory.ts): what a long game day's soak reads from every service.
import t from 'tap'
import { createService } from '../../services/kit/index.js'

const TOKEN = 'kit-admin-token'

t.test('a service reports its memory to the run token, and its live heap after a full collection', async (t) => {
  const svc = createService({ name: 'probe', logger: false, adminToken: TOKEN })
  let garbage: object[] = []
  svc.app.post('/churn', async () => {
    garbage = Array.from({ length: 200_000 }, (_, i) => ({ i }))
    return { made: garbage.length }
  })
  t.teardown(() => svc.app.close())
  const refused = await svc.app.inject({ method: 'GET', url: '/admin/memory' })
  t.equal(refused.statusCode, 401, 'without the run token: refused')
  await svc.app.inject({ method: 'POST', url: '/churn' })
  garbage = []
  const before = (await svc.app.inject({ method: 'GET', url: '/admin/memory', headers: { authorization: `Bearer ${TOKEN}` } })).json()
  t.equal(before.fullGc, false)
  t.ok(before.heapSpaces.new_space.sizeBytes > 0 && before.heapSpaces.old_space.usedBytes > 0, 'the new and old spaces are reported apart')
  t.ok(before.rssBytes > before.heapUsedBytes && before.heapLimitBytes > before.heapTotalBytes, 'resident memory holds the heap, the heap is under its limit')
  const after = (await svc.app.inject({ method: 'GET', url: '/admin/memory?gc=full', headers: { authorization: `Bearer ${TOKEN}` } })).json()
  t.equal(after.fullGc, true)
  t.ok(
    after.heapUsedBytes < before.heapUsedBytes - 4 * 1024 * 1024,
    `the 200,000 dropped objects are collected (${before.heapUsedBytes} -> ${after.heapUsedBytes} bytes)`,
  )
})

t.test("a service's own parts join its memory report, read after their own collection", async (t) => {
  const svc = createService({ name: 'probe', logger: false, adminToken: TOKEN })
  t.teardown(() => svc.app.close())
  const asked: boolean[] = []
  svc.addMemoryPart('workers', async ({ fullGc }) => {
    asked.push(fullGc)
    return [{ heapUsedBytes: 1 }]
  })
  const plain = (await svc.app.inject({ method: 'GET', url: '/admin/memory', headers: { authorization: `Bearer ${TOKEN}` } })).json()
  const collected = (await svc.app.inject({ method: 'GET', url: '/admin/memory?gc=full', headers: { authorization: `Bearer ${TOKEN}` } })).json()
  t.same(plain.workers, [{ heapUsedBytes: 1 }])
  t.ok(plain.rssBytes > 0, 'beside the process figures')
  t.same(asked, [false, true], 'the part is told whether to collect first')
  t.equal(collected.fullGc, true)
})
