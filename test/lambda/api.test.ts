// Lambda's Invoke as the stock @aws-sdk/client-lambda sees it: built-in functions, the error types,
// statuses and messages Lambda uses, function errors, invocation types, and the datums every
// invocation publishes to CloudWatch (a stand-in that accepts them, over the real CloudWatch SDK).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
import t from 'tap'
import { createHash } from 'node:crypto'
import { LambdaClient, InvokeCommand, GetFunctionCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { buildApp } from '../../services/lambda/app.js'
import { cloudWatchShipper } from '../../services/lambda/cloudwatch.js'
import { CREDENTIALS } from '../helpers/spawn.js'
import { startCloudWatchStandIn } from './cloudwatch-stand-in.js'
import { eventually } from '../helpers/eventually.js'
import { internalHeaders } from '../../services/kit/internal.js'

const MiB = 1024 * 1024
const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`

async function startLambda(t: any, host: { budgetMiB?: number; invocationMiB?: number; maxConcurrent?: number } = {}) {
  const cloudwatch = await startCloudWatchStandIn({ keepDatums: true })
  const shipper = cloudWatchShipper({ endpoint: cloudwatch.url, credentials: CREDENTIALS, requestTimeoutMs: 2000 })
  const app = buildApp({
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    ship: shipper.ship,
    hostMemoryBudgetBytes: (host.budgetMiB ?? 64) * MiB,
    invocationMemoryBytes: (host.invocationMiB ?? 8) * MiB,
    maxConcurrentInvocations: host.maxConcurrent,
    logBytesPerInvocation: 4096,
    agentFlushIntervalMs: 50,
    logger: false,
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = (credentials = CREDENTIALS) =>
    new LambdaClient({
      endpoint: url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 10_000, throwOnRequestTimeout: true }),
    })
  t.teardown(async () => {
    await app.close()
    shipper.close()
    await cloudwatch.close()
  })
  return { app, url, cloudwatch, lambda: client(), client }
}

async function failure(client: LambdaClient, command: any): Promise<{ name: string; status?: number; message: string; body: any }> {
  try {
    await client.send(command)
  } catch (err: any) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message, body: err.$response?.body }
  }
  throw new Error('the call succeeded')
}

const json = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8'))

t.test('Invoke through the stock Lambda client', async (t) => {
  const { lambda, client, cloudwatch, app } = await startLambda(t)

  await t.test('echo returns its payload; LogType Tail returns the log tail', async (t) => {
    const payload = { hello: 'world', n: [1, 2, 3], nested: { ok: true } }
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail' }))
    t.equal(out.StatusCode, 200)
    t.equal(out.FunctionError, undefined)
    t.equal(out.ExecutedVersion, '$LATEST')
    t.same(json(out.Payload), payload)
    const log = Buffer.from(out.LogResult!, 'base64').toString('utf8')
    t.match(log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST\n/)
    t.match(
      log,
      /\nEND RequestId: [0-9a-f-]{36}\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: 8 MB\n$/,
    )
  })

  await t.test('echo answers by ARN and by name:$LATEST too; an empty payload is the event {}', async (t) => {
    const byArn = await lambda.send(new InvokeCommand({ FunctionName: ARN('echo'), Payload: Buffer.from('"x"') }))
    t.same(json(byArn.Payload), 'x')
    const latest = await lambda.send(new InvokeCommand({ FunctionName: 'echo:$LATEST' }))
    t.same(json(latest.Payload), {})
  })

  await t.test('cpu runs its SHA-256 rounds and returns the digest', async (t) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'cpu', Payload: Buffer.from(JSON.stringify({ rounds: 5000, seed: 'kinesis' })) }))
    let digest = createHash('sha256').update('kinesis').digest()
    for (let i = 0; i < 5000; i++) digest = createHash('sha256').update(digest).digest()
    t.same(json(out.Payload), { rounds: 5000, digest: digest.toString('hex') })
  })

  await t.test("an unknown function is ResourceNotFoundException (404) with Lambda's message", async (t) => {
    const err = await failure(lambda, new InvokeCommand({ FunctionName: 'no-such-function', Payload: Buffer.from('{}') }))
    t.equal(err.name, 'ResourceNotFoundException')
    t.equal(err.status, 404)
    t.equal(err.message, `Function not found: ${ARN('no-such-function')}`)
    const qualified = await failure(lambda, new InvokeCommand({ FunctionName: 'echo', Qualifier: '7', Payload: Buffer.from('{}') }))
    t.equal(qualified.name, 'ResourceNotFoundException')
    t.equal(qualified.message, `Function not found: ${ARN('echo')}:7`)
  })

  await t.test('a payload that is not JSON is InvalidRequestContentException (400)', async (t) => {
    const err = await failure(lambda, new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('not json') }))
    t.equal(err.name, 'InvalidRequestContentException')
    t.equal(err.status, 400)
    t.match(err.message, /^Could not parse request body into json: Could not parse payload into json: /)
  })

  await t.test('a handler that throws is a function error: 200, FunctionError Unhandled, the error document', async (t) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'cpu', Payload: Buffer.from('{"rounds": -1}'), LogType: 'Tail' }))
    t.equal(out.StatusCode, 200)
    t.equal(out.FunctionError, 'Unhandled')
    const doc = json(out.Payload)
    t.equal(doc.errorType, 'RangeError')
    t.equal(doc.errorMessage, 'rounds must be an integer in [0, 1000000], got -1')
    t.ok(Array.isArray(doc.trace))
    t.match(Buffer.from(out.LogResult!, 'base64').toString('utf8'), /\tERROR\tInvoke Error \t\{"errorType":"RangeError"/)
  })

  await t.test('Event answers 202 and runs after; DryRun answers 204 and runs nothing', async (t) => {
    const before = app.lambda.agent.stats()
    const event = await lambda.send(new InvokeCommand({ FunctionName: 'sleep', InvocationType: 'Event', Payload: Buffer.from('{"ms": 20}') }))
    t.equal(event.StatusCode, 202)
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun', Payload: Buffer.from('{}') }))
    t.equal(dry.StatusCode, 204)
    // A soft wait: the assertion below says what is wrong if the Event never ran.
    await eventually(
      () => {
        const s = app.lambda.agent.stats()
        return s.datumsShipped + s.bufferedEntries * 3 >= before.datumsShipped + before.bufferedEntries * 3 + 3
      },
      { what: 'the Event invocation to run', timeoutMs: 5000, intervalMs: 20 },
    ).catch(() => undefined)
    const after = app.lambda.agent.stats()
    t.equal(after.datumsShipped + after.bufferedEntries * 3, before.datumsShipped + before.bufferedEntries * 3 + 3, 'one invocation ran (the Event), not two')
  })

  await t.test('GetFunction and ListFunctions describe the built-in functions', async (t) => {
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'cpu' }))
    t.equal(got.Configuration?.FunctionName, 'cpu')
    t.equal(got.Configuration?.FunctionArn, ARN('cpu'))
    t.equal(got.Configuration?.State, 'Active')
    const listed = await lambda.send(new ListFunctionsCommand({}))
    t.same(
      listed.Functions?.map((f) => f.FunctionName),
      ['echo', 'cpu', 'sleep'],
    )
    const missing = await failure(lambda, new GetFunctionCommand({ FunctionName: 'nope' }))
    t.equal(missing.name, 'ResourceNotFoundException')
    t.equal(missing.status, 404)
  })

  await t.test('a wrong secret is refused with 403 InvalidSignatureException; an unknown key with UnrecognizedClientException', async (t) => {
    const wrong = await failure(client({ ...CREDENTIALS, secretAccessKey: 'wrong' }), new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }))
    t.equal(wrong.name, 'InvalidSignatureException')
    t.equal(wrong.status, 403)
    const unknown = await failure(
      client({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' }),
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }),
    )
    t.equal(unknown.name, 'UnrecognizedClientException')
    t.equal(unknown.status, 403)
  })

  await t.test('every invocation that ran published Invocations, Errors and Duration with its FunctionName to CloudWatch', async (t) => {
    // Ran: echo x3, cpu x2 (one a function error), sleep x1 (Event).
    await eventually(() => cloudwatch.acceptedDatums() >= 18, { what: '18 datums in CloudWatch', timeoutMs: 5000, intervalMs: 20 }).catch(() => undefined)
    t.equal(cloudwatch.accepted.get('Invocations'), 6)
    t.equal(cloudwatch.accepted.get('Errors'), 6)
    t.equal(cloudwatch.accepted.get('Duration'), 6)
    const errors = cloudwatch.datums.filter((d) => d.MetricName === 'Errors' && d.Value === 1)
    t.equal(errors.length, 1)
    t.same(errors[0].Dimensions, [{ Name: 'FunctionName', Value: 'cpu' }])
    t.ok(cloudwatch.datums.every((d) => d.Namespace === 'OutageLab/Lambda'))
    const metrics = await app.inject({ url: '/metrics', headers: internalHeaders(app.service.internalToken) })
    t.match(metrics.body, /lambda_invocations_total\{function="echo",outcome="success",service="lambda",instance="lambda"\} 3/)
    t.match(metrics.body, /lambda_invocations_total\{function="cpu",outcome="function_error",service="lambda",instance="lambda"\} 1/)
    t.match(metrics.body, /lambda_agent_datums_shipped_total\{service="lambda",instance="lambda"\} 18/)
  })
})

t.test(
  'an invocation the simulated host cannot fit fails with ServiceException (500); over the concurrency limit, TooManyRequestsException (429)',
  async (t) => {
    const small = await startLambda(t, { budgetMiB: 8, invocationMiB: 8 })
    const holding = small.lambda.send(new InvokeCommand({ FunctionName: 'sleep', Payload: Buffer.from('{"ms": 1500}') }))
    await new Promise((r) => setTimeout(r, 300))
    const full = await failure(small.lambda, new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }))
    t.equal(full.name, 'ServiceException')
    t.equal(full.status, 500)
    t.equal(
      full.message,
      "Lambda could not place the invocation: its host has no memory left for it (simulated host: 8.0 of 8.0 MiB in use, 0.0 MiB by the metrics agent's buffer)",
    )
    t.equal((await holding).StatusCode, 200, 'the invocation holding the memory finishes')
    const metrics = await small.app.inject({ url: '/metrics', headers: internalHeaders(small.app.service.internalToken) })
    t.match(metrics.body, /lambda_invocations_total\{function="echo",outcome="host_memory_exhausted",service="lambda",instance="lambda"\} 1/)

    const narrow = await startLambda(t, { maxConcurrent: 1 })
    const busy = narrow.lambda.send(new InvokeCommand({ FunctionName: 'sleep', Payload: Buffer.from('{"ms": 1500}') }))
    await new Promise((r) => setTimeout(r, 300))
    const throttled = await failure(narrow.lambda, new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }))
    t.equal(throttled.name, 'TooManyRequestsException')
    t.equal(throttled.status, 429)
    t.equal(throttled.message, 'Rate Exceeded.')
    await busy
  },
)
