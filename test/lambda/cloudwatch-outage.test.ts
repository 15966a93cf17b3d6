// The Lambda row of the outage end to end, on the project's real CloudWatch over a real Kinesis
// broken the 2020 way (every front-end past its thread limit): CloudWatch's PutMetricData fails
// because its ingestion stream does, the 2020 Lambda agent's buffer grows in host memory and
// invocations start failing a while later; a host with BOUNDED_AGENT_BUFFER=true, beside it on the
// same CloudWatch, spills and keeps every invocation working. After Kinesis heals, both drain.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnService } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { HOST_ENV, startWorkload, health, sleep } from './helpers.js'
import { eventually } from '../helpers/eventually.js'

/** A fresh directory removed at teardown (t.testdir() would empty the Kinesis run directory). */
function scratch(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `outage-lab-lambda-${name}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test(
  'through a Kinesis outage: the 2020 Lambda host fails invocations after CloudWatch fails, the bounded one does not',
  { skip: kinesisOutageSkip },
  async (t) => {
    const kinesis = await startKinesisOutage(t)
    const cloudwatch = await spawnService('services/cloudwatch/main.js', {
      KINESIS_ENDPOINT: kinesis.endpoint,
      CLOUDWATCH_STREAM: 'lambda-outage',
      KINESIS_TIMEOUT_MS: '1000',
      KINESIS_MAX_ATTEMPTS: '1',
      OUTAGE_LAB_DATA_DIR: scratch(t, 'cloudwatch'),
    })
    t.teardown(() => cloudwatch.stop())
    await eventually(async () => (await (await fetch(`${cloudwatch.url}/health`)).json()).stream_ready === true, {
      what: 'the CloudWatch metric stream',
      timeoutMs: 30_000,
    })

    // Twice the stand-in tests' memory: the buffer then takes seconds to fill after CloudWatch fails,
    // so the 2020 host's delay shows through a loaded machine's scheduling.
    const common = { CLOUDWATCH_URL: cloudwatch.url, ...HOST_ENV, HOST_MEMORY_BUDGET_MB: '24' }
    const plain = await spawnService('services/lambda/main.js', { ...common, LAMBDA_HOST_ID: 'plain', OUTAGE_LAB_DATA_DIR: scratch(t, 'plain') })
    t.teardown(() => plain.stop())
    const bounded = await spawnService('services/lambda/main.js', {
      ...common,
      LAMBDA_HOST_ID: 'bounded',
      OUTAGE_LAB_DATA_DIR: scratch(t, 'bounded'),
      BOUNDED_AGENT_BUFFER: 'true',
      AGENT_BUFFER_MAX_BYTES: String(256 * 1024),
    })
    t.teardown(() => bounded.stop())
    // Slower than the stand-in tests: two hosts and a whole Kinesis share the machine.
    const plainWork = startWorkload(plain.url, 20)
    const boundedWork = startWorkload(bounded.url, 20)
    t.teardown(() => Promise.all([plainWork.stop(), boundedWork.stop()]))

    await eventually(async () => (await health(plain)).agent.datums_shipped > 0 && (await health(bounded)).agent.datums_shipped > 0, {
      what: 'datums to reach CloudWatch from both hosts',
      timeoutMs: 20_000,
    })
    const healthy = (await health(plain)).agent
    // A PutMetricData may time out now and then on a loaded machine; what matters is that datums flow.
    t.equal(healthy.datums_rejected, 0, "healthy: CloudWatch accepts the agent's datums")
    t.comment(
      `healthy: ${healthy.datums_shipped} datums shipped, ${healthy.flush_failures} flushes failed${healthy.last_flush_error ? ` (${healthy.last_flush_error})` : ''}`,
    )
    const failuresBefore = healthy.flush_failures
    t.equal([...plainWork.outcomes, ...boundedWork.outcomes].filter((o) => !o.ok).length, 0, 'healthy: no invocation fails')

    const breakStarted = Date.now()
    await kinesis.break()
    t.comment(`break(): every Kinesis front-end broken ${Date.now() - breakStarted} ms after it started`)
    await eventually(async () => (await health(plain)).agent.flush_failures > failuresBefore, {
      what: "the agent's first failed PutMetricData",
      timeoutMs: 60_000,
    })
    // The host's own record of when its failing flushes began: the test's polling notices later.
    const failing = (await health(plain)).agent
    t.ok(failing.failing_since, 'the host says since when its flushes fail')
    const cloudwatchFailedAt = Date.parse(failing.failing_since)
    t.comment(`CloudWatch refuses the agent's datums: ${failing.last_flush_error}`)
    await eventually(() => plainWork.outcomes.some((o) => !o.ok && o.atMs > breakStarted), {
      what: 'the first invocation error on the 2020 host',
      timeoutMs: 120_000,
    })
    const first = plainWork.outcomes.find((o) => !o.ok)!
    t.comment(
      `2020 host: invocation errors began ${first.atMs - cloudwatchFailedAt} ms after CloudWatch started failing (${first.atMs - breakStarted} ms after break() started)`,
    )
    t.equal(first.error, 'ServiceException')
    t.equal(first.status, 500)
    t.ok(
      plainWork.outcomes.some((o) => o.ok && o.atMs > cloudwatchFailedAt),
      'invocations kept working for a while after CloudWatch failed',
    )

    await eventually(async () => (await health(bounded)).agent.spilled_bytes > 0, { what: 'the bounded host to spill', timeoutMs: 60_000 })
    const spilled = (await health(bounded)).agent
    t.comment(`bounded host: ${spilled.spilled_entries} entries (${spilled.spilled_bytes} bytes) spilled to disk, ${spilled.buffer_bytes} bytes in memory`)
    t.equal(boundedWork.outcomes.filter((o) => !o.ok).length, 0, 'the bounded host failed no invocation')

    const healStarted = Date.now()
    await kinesis.heal()
    t.comment(`heal(): Kinesis serving again ${Date.now() - healStarted} ms after it started`)
    await eventually(async () => (await health(plain)).agent.buffered_entries < 20, { what: 'the 2020 host to drain its buffer', timeoutMs: 120_000 })
    await sleep(1500)
    const lastError = plainWork.outcomes.filter((o) => !o.ok).at(-1)!
    t.comment(`2020 host: last invocation error ${lastError.atMs - healStarted} ms after heal() started`)
    const recent = plainWork.outcomes.filter((o) => o.atMs > Date.now() - 1000)
    t.ok(recent.length > 0 && recent.every((o) => o.ok), 'the 2020 host serves again once its buffer drained')
    await eventually(async () => (await health(bounded)).agent.spilled_bytes === 0, { what: 'the bounded host to replay its spill', timeoutMs: 120_000 })
    await Promise.all([plainWork.stop(), boundedWork.stop()])
    t.equal(boundedWork.outcomes.filter((o) => !o.ok).length, 0, `the bounded host failed none of its ${boundedWork.outcomes.length} invocations`)
    await eventually(async () => (await health(bounded)).agent.datums_shipped === boundedWork.outcomes.length * 3, {
      what: 'every datum of the bounded host to be shipped',
      timeoutMs: 30_000,
    })
    t.equal((await health(bounded)).agent.datums_rejected, 0)
  },
)
