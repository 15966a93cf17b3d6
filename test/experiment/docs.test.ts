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
