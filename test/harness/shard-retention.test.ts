// The back-ends' retention in a run: Kinesis's 24 hours compressed by the experiment's time scale,
// the same 24 hours metadata reports as every stream's RetentionPeriodHours.
import t from 'tap'
import path from 'node:path'
import { loadExperiment } from '../../harness/experiment/index.js'
import { topologyOf } from '../../harness/run/topology-of.js'
import { kinesisTopology } from '../../harness/topology/model.js'
import { KINESIS_RETENTION_HOURS } from '../../harness/topology/catalogue.js'
import { ROOT } from '../helpers/spawn.js'

const backendRetention = async (sets: string[] = []) => {
  const exp = await loadExperiment(path.join(ROOT, 'experiments', 'kinesis-2020-11-25.yaml'), { sets })
  return topologyOf(exp)
    .services.filter((s) => s.kind === 'kinesis-backend')
    .map((s) => s.env.SHARD_RETENTION_MS)
}

t.test("every back-end keeps Kinesis's 24 hours, scaled by timeScale", async (t) => {
  t.equal(KINESIS_RETENTION_HOURS, 24)
  t.same(await backendRetention(), ['240000', '240000'], 'the flagship (10 s an hour): 240 s')
  t.same(await backendRetention(['timeScale=60']), ['1440000', '1440000'])
  t.same(await backendRetention(['timeScale=0.01']), ['1000', '1000'], 'never under the back-end minimum of 1 s')
})

t.test('a topology refuses a retention under a second, and leaves it to the back-end when absent', async (t) => {
  t.throws(() => kinesisTopology({ frontends: 1, threadLimit: 18, shardRetentionMs: 10 }), /shardRetentionMs/)
  const plain = kinesisTopology({ frontends: 1, threadLimit: 18 })
  t.notOk(
    plain.services.some((s) => 'SHARD_RETENTION_MS' in s.env),
    'no SHARD_RETENTION_MS: 24 real hours',
  )
})
