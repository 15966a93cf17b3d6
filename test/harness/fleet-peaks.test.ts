// How many replicas the compose backend creates ahead for a run: each fleet's largest size over
// the experiment, so the capacity addition starts containers instead of running compose mid-method.
import t from 'tap'
import path from 'node:path'
import { loadExperiment } from '../../harness/experiment/index.js'
import { fleetPeaks, topologyOf } from '../../harness/run/topology-of.js'
import { ROOT } from '../helpers/spawn.js'

const peaks = async (file: string, sets: string[] = []) => {
  const exp = await loadExperiment(path.join(ROOT, 'experiments', file), { sets })
  return fleetPeaks(exp, topologyOf(exp))
}

t.test('the largest scale-fleet target of the method or the rollbacks, per fleet', async (t) => {
  t.same(await peaks('kinesis-2020-11-25.yaml'), { main: 10 }, 'the flagship adds 6 to its 4 front-ends')
  t.same(await peaks('restart-all-at-once.yaml'), { main: 16 })
  t.same(await peaks('remediation-partitioned-cloudwatch.yaml'), { main: 10, cloudwatch: 2 }, 'a fleet nothing scales keeps its size')
})

t.test('a fleet larger at the start than any target keeps its size', async (t) => {
  t.same(await peaks('kinesis-2020-11-25.yaml', ['topology.fleets.main.frontends=12']), { main: 12 })
})
