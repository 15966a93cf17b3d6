// The four example experiments load and validate (nothing is started): each extends the flagship
// with one customer service, its folder exists, the naive ones expect it impacted, the resilient
// ones expect it healthy under a tighter SLO, and all four check that no acknowledged event is lost.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { loadExperiment } from '../../harness/experiment/index.js'
import { ROOT } from '../helpers/spawn.js'

for (const app of ['ts', 'py']) {
  for (const variant of ['naive', 'resilient']) {
    t.test(`examples/clickstream-${app}-${variant}.yaml`, async (t) => {
      const e = await loadExperiment(path.join(ROOT, `examples/clickstream-${app}-${variant}.yaml`))
      t.equal(e.files.length, 2, 'it extends the flagship')
      t.equal(e.method.length, 6, "the flagship's method")
      const [c] = e.topology.customers
      t.equal(c.name, 'clicks')
      t.equal(c.cwd, path.join(ROOT, `examples/clickstream-${app}`), 'cwd relative to the example file')
      t.ok(fs.existsSync(path.join(c.cwd!, app === 'ts' ? 'src/main.ts' : 'app.py')), 'the program is there')
      t.ok(fs.existsSync(path.join(ROOT, `examples/clickstream-${app}/Dockerfile`)), 'and its Dockerfile for compose')
      t.same(c.env, { CLICKSTREAM_VARIANT: variant, STREAM: 'clickstream' })
      t.same(e.expect.delivered, [{ customer: 'clicks', stream: 'clickstream', path: '/acknowledged', withinMs: 30_000 }])
      t.ok(e.steadyStateHypothesis?.probes.some((p) => p.service === 'clicks'))
      if (variant === 'naive') {
        t.ok(e.expect.impacted?.includes('clicks'))
      } else {
        t.same(e.expect.healthy, ['clicks'])
        t.notOk(e.expect.impacted?.includes('clicks'))
        t.same(e.slo.clicks, { minSuccessRatio: 0.99, maxP99Ms: 1500 })
      }
    })
  }
}
