// `outage-lab run` end to end on the local backend: the flagship and three remediations, each a
// real run of the whole system (real processes, pids cgroups, the stock AWS SDK clients as the
// customers), judged by what its journal says. One run at a time: they share two cores.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { runExperiment as run, failedExpectations as failed } from '../helpers/cli-run.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'

t.test('runs on the local backend', { skip: kinesisOutageSkip }, async (t) => {
  const dir = t.testdir()

  await t.test('the flagship reproduces the 2020 cascade in the published order, and the paced restart recovers it', async (t) => {
    const r = await run('kinesis-2020-11-25.yaml', path.join(dir, 'flagship'))
    const j = r.journal
    t.ok(j, `journal.json written (stderr tail: ${r.stderr.slice(-2000)})`)
    t.same(failed(j), [], 'every expectation of the experiment met')
    t.equal(r.code, 0, 'exit 0: completed and its expect held')
    t.equal(j.status, 'completed')
    t.equal(j.backend, 'local')
    t.equal(j.threadLimitEnforcement, 'cgroup')
    t.equal(j.cascade[0].service, 'kinesis', 'Kinesis breaks first')
    const onset = (s: string) => j.services[s].onsetMs
    t.ok(
      onset('lambda') > onset('cloudwatch'),
      `Lambda (${onset('lambda')} ms) after CloudWatch (${onset('cloudwatch')} ms): its agent's buffer took time to fill`,
    )
    t.ok(
      onset('cognito') > onset('kinesis') + 5_000,
      `Cognito (${onset('cognito')} ms) well after Kinesis (${onset('kinesis')} ms): its buffer took time to fill`,
    )
    t.equal(j.cascade.find((c: any) => c.service === 'lambda').cause, 'cloudwatch')
    t.equal(j.services['status-page'].impacted, false, 'readers of the status page are not impacted')
    const posts = j.events.filter((e: any) => e.kind === 'action-end' && e.detail.provider === 'post-status')
    t.same(
      Object.fromEntries(posts.map((e: any) => [e.detail.name, e.detail.ok])),
      { 'post-status-primary': false, 'post-status-backup': true },
      'the primary posting path fails behind Cognito, the backup path posts',
    )
    t.equal(
      j.fidelity.score,
      1,
      `fidelity: ${
        j.fidelity.checks
          .filter((c: any) => c.applicable && !c.met)
          .map((c: any) => c.name)
          .join(', ') || 'all mechanisms showed'
      }`,
    )
    for (const f of ['journal.json', 'timeline.jsonl', 'summary.md', 'report.html']) t.ok(fs.existsSync(path.join(r.outDir, f)), `${f} written`)
    t.match(r.stdout, /## Cascade/, 'the summary is printed')
    t.match(r.stdout, new RegExp(`report: .*report\\.html`), 'with the report path')
    t.same(processesOfRun(j.runId), [], 'no process of the run outlives it')
  })

  await t.test('remediation 9: Cognito sheds instead of blocking; the rest of the cascade stays', async (t) => {
    const r = await run('remediation-cognito-sustain-errors.yaml', path.join(dir, 'cognito'))
    t.same(failed(r.journal), [])
    t.equal(r.code, 0)
    t.equal(r.journal.services.cognito.impacted, false)
    t.equal(r.journal.services.kinesis.impacted, true)
  })

  await t.test('remediation 3: a higher thread limit keeps every service healthy through the same capacity addition', async (t) => {
    const r = await run('remediation-raise-thread-limit.yaml', path.join(dir, 'limit'))
    t.same(failed(r.journal), [])
    t.equal(r.code, 0)
    t.same(r.journal.cascade, [], 'no cascade')
  })

  await t.test('remediation 6: CloudWatch on its own fleet keeps CloudWatch, AutoScaling and Lambda healthy while Kinesis fails', async (t) => {
    const r = await run('remediation-partitioned-cloudwatch.yaml', path.join(dir, 'partitioned'))
    t.same(failed(r.journal), [])
    t.equal(r.code, 0)
    for (const s of ['cloudwatch', 'autoscaler', 'lambda']) t.equal(r.journal.services[s].impacted, false, `${s} healthy`)
    t.equal(r.journal.services.kinesis.impacted, true)
  })

  await t.test('Ctrl-C during the method ends the run as interrupted, with a journal and nothing left running', async (t) => {
    const r = await run('kinesis-2020-11-25.yaml', path.join(dir, 'interrupted'), { interruptOn: /action add-capacity done/ })
    t.equal(r.code, 130)
    t.equal(r.journal?.status, 'interrupted')
    t.same(processesOfRun(r.journal.runId), [], 'no process of the run outlives it')
    t.ok(fs.existsSync(path.join(r.outDir, 'summary.md')))
  })
})
