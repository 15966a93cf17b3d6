// Bad input to every surface of the lab, seeded and bounded: each AWS API in every wire protocol it
// speaks (Kinesis JSON 1.1 and CBOR, also through the endpoint; CloudWatch JSON 1.0, RPC v2 CBOR and
// awsQuery; Cognito, EventBridge and the autoscaler's ECS API in JSON 1.1), Lambda's REST path, the
// status page, the control API of `up`, every service's admin routes and internal routes. Broken
// bodies, wrong types, unknown and missing targets, bad content types and encodings, missing, bad and
// expired signatures, oversized fields, random bytes (bench/lib/fuzz/). No answer is a 5xx, every
// error is in its protocol's AWS shape, and every app still serves a well-formed request after.
// FUZZ_SEED and FUZZ_REQUESTS replay or widen a run; bench/fuzz.ts is the large one.
import t from 'tap'
import { startLab } from '../../bench/lib/fuzz/lab.js'
import { runFuzz } from '../../bench/lib/fuzz/run.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const SEED = Number(process.env.FUZZ_SEED ?? 20201125)
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000)

t.test(`${REQUESTS} malformed requests (seed ${SEED}) get no 5xx, only AWS-shaped errors, and every service still serves`, async (t) => {
  t.comment(`fuzz seed ${SEED}, ${REQUESTS} requests (replay: FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npx tap test/security/fuzz-aws.test.ts)`)
  const lab = await startLab()
  t.teardown(() => lab.close())
  const report = await runFuzz(lab, { seed: SEED, requests: REQUESTS })
  t.comment(`${report.requests} requests in ${report.durationMs} ms`)
  for (const [surface, s] of Object.entries(report.surfaces).sort())
    t.comment(
      `  ${surface}: ${s.sent} (${Object.entries(s.statuses)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')})`,
    )
  for (const f of report.failures.slice(0, 40))
    t.comment(`FAIL #${f.index} ${f.surface} [${f.mutations.join(',')}] ${f.request.method} ${f.request.url}: ${f.why.slice(0, 200)}`)
  t.equal(report.requests, REQUESTS)
  t.same(report.failures.slice(0, 10), [], `no 5xx, no timeout, every error in its shape (${report.failures.length} failures)`)
  t.same(report.liveness, [], 'every app answers a well-formed request after bad input')
  const surfaces = Object.keys(report.surfaces)
  for (const want of [
    'kinesis-frontend awsJson',
    'kinesis-frontend awsCbor',
    'kinesis-endpoint awsJson',
    'kinesis-endpoint awsCbor',
    'cloudwatch awsJson',
    'cloudwatch rpcv2Cbor',
    'cloudwatch awsQuery',
    'cognito awsJson',
    'eventbridge awsJson',
    'autoscaler awsJson',
    'lambda restJson1',
    'status-page post',
    'status-page read',
    'control API',
    'kinesis-metadata internal',
    'kinesis-backend internal',
  ])
    t.ok(surfaces.includes(want), `${want} was fuzzed`)
  for (const app of lab.apps) if (app.name !== 'control') t.ok(surfaces.includes(`${app.name} admin`), `${app.name}'s admin routes were fuzzed`)
})
