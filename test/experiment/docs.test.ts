import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadExperiment } from '../../harness/experiment/index.js'

const DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/experiments.md')

t.test('the examples in docs/experiments.md load and validate', async (t) => {
  const blocks = [...fs.readFileSync(DOC, 'utf8').matchAll(/```yaml\n# (experiments\/[^\n]+\.yaml)\n([\s\S]*?)```/g)]
  t.equal(blocks.length, 2, 'the flagship and a remediation')
  const dir = t.testdir()
  for (const [, name, text] of blocks) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), text)
  }
  const flagship = await loadExperiment(path.join(dir, blocks[0][1]))
  t.equal(flagship.method.length, 6)
  t.same(flagship.expect.onsetOrder, [['kinesis'], ['cloudwatch', 'eventbridge'], ['lambda'], ['cognito']])
  const remedy = await loadExperiment(path.join(dir, blocks[1][1]))
  t.equal(remedy.files.length, 2, 'it extends the flagship')
  t.same(remedy.topology.switches.cognito, { sustainKinesisErrors: true, bufferRecords: 2000 })
  t.same(remedy.expect.healthy, ['cognito'])
  t.equal(remedy.expect.recovered, true, 'inherited from the flagship')
  t.same(remedy.method, flagship.method)
})

t.test("the customer example of docs/experiments.md adds the user's service to the flagship", async (t) => {
  const text = fs.readFileSync(DOC, 'utf8')
  const flagship = /```yaml\n# (experiments\/kinesis-2020-11-25\.yaml)\n([\s\S]*?)```/.exec(text)!
  const example = /```yaml\n# your-service\.yaml\n([\s\S]*?)```/.exec(text)
  t.ok(example, 'the example is there')
  const dir = t.testdir({ experiments: { 'kinesis-2020-11-25.yaml': flagship[2], 'your-service.yaml': example![1] } })
  const e = await loadExperiment(path.join(dir, 'experiments/your-service.yaml'))
  t.same(
    e.topology.customers.map((c) => [c.name, c.command, c.cwd, c.health, c.workload.ratePerSec, c.workload.method, c.workload.path]),
    [['shop', ['node', 'server.js'], path.join(dir, 'experiments'), '/health', 5, 'POST', '/orders']],
  )
  t.same(e.slo.shop, { minSuccessRatio: 0.95, maxP99Ms: 3000 }, "the lab's SLO unless slo.shop says otherwise")
})
