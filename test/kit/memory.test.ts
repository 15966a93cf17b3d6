// GET /admin/memory (kit/memory.ts): what a long game day's soak reads from every service.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { createService } from '../../services/kit/index.js'
import { PACKAGE_ROOT, SERVICE_NODE_FLAGS } from '../../harness/platform/paths.js'

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

const MEMORY_JS = path.join(PACKAGE_ROOT, 'dist/services/kit/memory.js')

/** A node started as the platform starts a lab service; prints its resident memory (MiB) before and after 160 MiB of short-lived garbage. */
function residentGrowth(preTouch: boolean): { before: number; after: number } {
  const script = `
    const { preTouchYoungGeneration } = await import(${JSON.stringify(pathToFileURL(MEMORY_JS).href)})
    if (${preTouch}) preTouchYoungGeneration()
    const before = process.memoryUsage().rss
    let sink
    for (let n = 0; n < 160 * 2 ** 20; n += 65536) sink = new Array(8192).fill(0)
    console.log(JSON.stringify({ before: before / 2 ** 20, after: process.memoryUsage().rss / 2 ** 20 }))`
  const out = execFileSync(process.execPath, [...SERVICE_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' })
  return JSON.parse(out) as { before: number; after: number }
}

t.test(
  'a service with the pinned young generation writes it before serving, so its resident memory does not creep up under a light load',
  { skip: fs.existsSync(MEMORY_JS) ? false : 'dist/ is not built: run npx tsc -p .' },
  async (t) => {
    const cold = residentGrowth(false)
    t.ok(cold.after - cold.before > 16, `without: ${cold.before.toFixed(1)} -> ${cold.after.toFixed(1)} MiB as the garbage first reaches each page`)
    const touched = residentGrowth(true)
    t.ok(touched.after - touched.before < 4, `pre-touched: ${touched.before.toFixed(1)} -> ${touched.after.toFixed(1)} MiB`)
  },
)
