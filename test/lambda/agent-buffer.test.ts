// The Lambda row of the outage, on a real Lambda process: while CloudWatch fails, the host agent
// keeps every invocation's datums. The 2020 agent keeps them in host memory without a bound, so a
// while after CloudWatch starts failing invocations no longer fit on the host and fail; they work
// again once CloudWatch recovers and the buffer drains. With BOUNDED_AGENT_BUFFER=true the overflow
// goes to disk: no invocation fails, and every spilled datum reaches CloudWatch after recovery.
// CloudWatch here is a stand-in (a real local HTTP server speaking PutMetricData) so it can fail
// on cue without a Kinesis outage behind it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import t from 'tap'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { spawnService, ROOT, type Spawned } from '../helpers/spawn.js'
import { startCloudWatchStandIn, type CloudWatchStandIn } from './cloudwatch-stand-in.js'
import { HOST_ENV, startWorkload, health, metric, sleep } from './helpers.js'
import { eventually } from '../helpers/eventually.js'

async function boot(t: any, env: Record<string, string>): Promise<{ cloudwatch: CloudWatchStandIn; lambda: Spawned }> {
  const cloudwatch = await startCloudWatchStandIn()
  const lambda = await spawnService('services/lambda/main.js', { CLOUDWATCH_URL: cloudwatch.url, ...HOST_ENV, ...env })
  t.teardown(async () => {
    await lambda.stop()
    await cloudwatch.close()
  })
  return { cloudwatch, lambda }
}

t.test('default (2020) agent: invocations fail a while after CloudWatch does, and work again after it recovers', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lambda-unbounded-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { cloudwatch, lambda } = await boot(t, { OUTAGE_LAB_DATA_DIR: dataDir })
  const work = startWorkload(lambda.url)
  t.teardown(() => work.stop())

  await sleep(1500)
  t.same(
    work.outcomes.filter((o) => !o.ok),
    [],
    'healthy: no invocation fails while CloudWatch works',
  )
  t.ok(work.outcomes.length > 0, 'healthy: invocations ran')

  const failedAt = Date.now()
  cloudwatch.mode = 'fail'
  await eventually(() => work.outcomes.some((o) => !o.ok), { what: 'the first invocation error', timeoutMs: 60_000 })
  const first = work.outcomes.find((o) => !o.ok)!
  const onsetMs = first.atMs - failedAt
  const okWhileFailing = work.outcomes.filter((o) => o.ok && o.atMs > failedAt && o.atMs < first.atMs).length
  t.comment(`invocation errors began ${onsetMs} ms after CloudWatch started failing (${okWhileFailing} invocations succeeded in between)`)
  t.ok(okWhileFailing > 0, 'invocations kept working for a while after CloudWatch failed (the buffer filled first)')
  t.equal(first.error, 'ServiceException')
  t.equal(first.status, 500)
  t.match(
    first.message,
    /^Lambda could not place the invocation: its host has no memory left for it \(simulated host: [\d.]+ of 16\.0 MiB in use, [\d.]+ MiB by the metrics agent's buffer\)$/,
  )
  const h = await health(lambda)
  t.ok(h.agent.buffer_bytes > 4 * 1024 * 1024, `the agent's in-memory buffer holds the undelivered datums (${h.agent.buffer_bytes} bytes)`)
  t.equal(h.host_memory.simulated, true)
  t.ok((await metric(lambda, 'lambda_agent_flush_failures_total')) > 0, 'flush failures are counted')

  // While CloudWatch stays down the buffer never shrinks: the invocations that still fit add to it
  // until none fits.
  const lastSecond = () => work.outcomes.filter((o) => o.atMs > Date.now() - 1000)
  await eventually(() => lastSecond().length > 0 && lastSecond().every((o) => !o.ok), { what: 'every invocation to fail', timeoutMs: 30_000 })
  t.comment(`every invocation failed from ${Date.now() - failedAt} ms after CloudWatch started failing`)
  t.pass('errors persist while CloudWatch is down: a whole second of failed invocations')

  const healedAt = Date.now()
  cloudwatch.mode = 'ok'
  await eventually(async () => (await health(lambda)).agent.buffered_entries < 50, { what: 'the agent buffer to drain', timeoutMs: 30_000 })
  await sleep(1000)
  const lastError = work.outcomes.filter((o) => !o.ok).at(-1)!
  t.comment(`invocation errors stopped ${lastError.atMs - healedAt} ms after CloudWatch recovered`)
  const recent = work.outcomes.filter((o) => o.atMs > Date.now() - 800)
  t.ok(recent.length > 0 && recent.every((o) => o.ok), `invocations work again once the buffer drained (${recent.length} in the last 0.8 s, all ok)`)

  await work.stop()
  const succeeded = work.outcomes.filter((o) => o.ok).length
  await eventually(() => cloudwatch.accepted.get('Invocations') === succeeded, {
    what: 'every datum of every invocation that ran to reach CloudWatch',
    timeoutMs: 10_000,
  })
  t.equal(cloudwatch.accepted.get('Invocations'), succeeded, `CloudWatch got the Invocations datum of all ${succeeded} invocations that ran`)
  t.equal(cloudwatch.accepted.get('Duration'), succeeded)
  const errors = work.outcomes.length - succeeded
  t.equal(
    await metric(lambda, 'lambda_invocations_total{function="sleep",outcome="host_memory_exhausted"'),
    errors,
    `${errors} invocations failed for host memory, as counted`,
  )
})

t.test('BOUNDED_AGENT_BUFFER=true: no invocation fails while CloudWatch hangs; the spill is shipped after recovery', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lambda-bounded-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { cloudwatch, lambda } = await boot(t, { OUTAGE_LAB_DATA_DIR: dataDir, BOUNDED_AGENT_BUFFER: 'true', AGENT_BUFFER_MAX_BYTES: String(256 * 1024) })
  const spillFile = path.join(dataDir, 'lambda-host-1-agent-spill.ndjson')
  const work = startWorkload(lambda.url)
  t.teardown(() => work.stop())
  await sleep(1000)

  // This time CloudWatch stops answering: every PutMetricData hangs until the agent's timeout.
  cloudwatch.mode = 'hang'
  // Past what starved invocations with the unbounded agent: more undelivered data than the host has memory.
  await eventually(async () => (await health(lambda)).agent.spilled_bytes > 16 * 1024 * 1024, {
    what: 'the spill to outgrow the host memory budget',
    timeoutMs: 120_000,
  })
  const h = await health(lambda)
  t.ok(h.agent.buffer_bytes <= 256 * 1024, `the in-memory part stays under AGENT_BUFFER_MAX_BYTES (${h.agent.buffer_bytes} bytes)`)
  t.ok(h.host_memory.used_bytes <= h.host_memory.budget_bytes, 'the host memory never runs out')
  const spilledEntries = h.agent.spilled_entries
  t.comment(`spilled while CloudWatch hung: ${h.agent.spilled_bytes} bytes, ${spilledEntries} invocations' entries; in memory: ${h.agent.buffer_bytes} bytes`)
  t.ok((await stat(spillFile)).size > 8 * 1024 * 1024, 'the spill is on disk')
  t.ok(cloudwatch.refused > 0, 'the agent did try CloudWatch meanwhile')

  cloudwatch.mode = 'ok'
  await work.stop()
  t.same(
    work.outcomes.filter((o) => !o.ok),
    [],
    `no invocation failed (${work.outcomes.length} ran)`,
  )
  const succeeded = work.outcomes.filter((o) => o.ok).length
  await eventually(() => cloudwatch.accepted.get('Invocations') === succeeded, { what: 'the spill to be replayed to CloudWatch', timeoutMs: 30_000 })
  t.equal(
    cloudwatch.accepted.get('Invocations'),
    succeeded,
    `CloudWatch got the datums of all ${succeeded} invocations, the ${spilledEntries}+ spilled ones included`,
  )
  t.equal(cloudwatch.accepted.get('Errors'), succeeded)
  t.equal(cloudwatch.accepted.get('Duration'), succeeded)
  await eventually(async () => (await stat(spillFile)).size === 0, { what: 'the spill file to be emptied', timeoutMs: 5_000 })
  t.equal((await health(lambda)).agent.spilled_bytes, 0)
  t.equal(await metric(lambda, 'lambda_agent_datums_shipped_total'), succeeded * 3)
})

t.test('a mis-wired host exits 2 naming the variable', async (t) => {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/services/lambda/main.js')], {
    env: { PATH: process.env.PATH, PORT: '0', CLOUDWATCH_URL: 'http://127.0.0.1:1', BOUNDED_AGENT_BUFFER: 'sometimes' },
    encoding: 'utf8',
    timeout: 15_000,
  })
  t.equal(run.status, 2)
  t.equal(run.stderr, 'lambda: environment variable BOUNDED_AGENT_BUFFER: expected true or false, got "sometimes"\n')
})
