// The resilient TypeScript clickstream through the flagship outage, end to end on the local
// platform: the user's own service (a real process with the AWS JS SDK) stays within its SLO while
// Kinesis and everything behind it break, and after the recovery every event it acknowledged is
// in the stream (the harness reads it back). One run of a statistical experiment: its repeat
// figures are in bench/RESULTS.md.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { runExperiment, failedExpectations } from '../helpers/cli-run.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { ROOT } from '../helpers/spawn.js'

const built = fs.existsSync(path.join(ROOT, 'examples/clickstream-ts/dist/main.js'))

t.test(
  'the resilient clickstream (ts) rides out the outage and loses no acknowledged event',
  { skip: kinesisOutageSkip || (built ? false : 'examples/clickstream-ts is not built: make build') },
  async (t) => {
    const r = await runExperiment(path.join(ROOT, 'examples/clickstream-ts-resilient.yaml'), path.join(t.testdir(), 'run'))
    const j = r.journal
    t.ok(j, `journal.json written (stderr tail: ${r.stderr.slice(-2000)})`)
    // The order in which the lab's own services break is the flagship's claim, judged by its repeat
    // (its pass rate is in bench/RESULTS.md): the autoscaler's and lambda's onsets overlap, and one run
    // in many sees them further apart than the tolerance the wrong way. This run is about the customer.
    const failed = failedExpectations(j)
    const order = failed.filter((f) => f.startsWith('onsetOrder:'))
    if (order.length) t.comment(`left to the flagship's repeat: ${order.join('; ')}`)
    t.same(
      failed.filter((f) => !order.includes(f)),
      [],
      'every other expectation met',
    )
    t.equal(j.services.clicks.impacted, false, 'the customer service was never impacted')
    t.equal(j.services.kinesis.impacted, true, 'while Kinesis was')
    const delivered = j.expectations.find((x: { name: string }) => x.name === 'delivered.clicks')
    t.match(delivered, { met: true, detail: /^all \d+ acknowledged events in clickstream/ })
    t.ok(j.customers?.clicks, "the journal has the customer's calls to the lab")
    t.same(processesOfRun(j.runId), [], 'nothing of the run is left, the customer included')
  },
)
