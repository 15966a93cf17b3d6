// `outage-lab run --backend compose` end to end: the flagship experiment on containers holds the
// same `expect` as on the local backend, with the thread limit enforced by docker's pids_limit,
// and leaves no container or network of its run behind.
import t from 'tap'
import path from 'node:path'
import { runExperiment, failedExpectations } from '../helpers/cli-run.js'
import { composeSkip, projectResources } from './skip.js'

t.setTimeout(900_000)

t.test('the flagship on the compose backend holds its expect', { skip: await composeSkip() }, async (t) => {
  const r = await runExperiment('kinesis-2020-11-25.yaml', path.join(t.testdir(), 'flagship'), { args: ['--backend', 'compose'] })
  const j = r.journal
  t.ok(j, `journal.json written (stderr tail: ${r.stderr.slice(-2000)})`)
  t.same(failedExpectations(j), [], 'every expectation of the experiment met')
  t.equal(r.code, 0, 'exit 0: completed and its expect held')
  t.equal(j.status, 'completed')
  t.equal(j.backend, 'compose')
  t.equal(j.threadLimitEnforcement, 'docker')
  t.same(j.cascade.map((c: any) => c.service).slice(0, 1), ['kinesis'], 'Kinesis breaks first')
  const left = projectResources(`outage-lab-${j.runId}`)
  t.same(left.containers, [], 'no container of the run is left')
  t.same(left.networks, [], 'no network of the run is left')
})
