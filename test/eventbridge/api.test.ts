// EventBridge as a customer sees it: the stock @aws-sdk/client-eventbridge against the compiled
// service (a real process) on a real, healthy Kinesis. Every operation, the error shapes of bad
// input, delivery to a local HTTP target, retries, and a restart that resumes where it stopped.
// Build first: npx tsc -p .
import t from 'tap'
import path from 'node:path'
import {
  PutRuleCommand,
  DescribeRuleCommand,
  ListRulesCommand,
  DeleteRuleCommand,
  PutTargetsCommand,
  ListTargetsByRuleCommand,
  RemoveTargetsCommand,
  PutEventsCommand,
  type EventBridgeClient,
} from '@aws-sdk/client-eventbridge'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { startEventBridge, eventsClient, startTarget, metric, sleep, getJson } from './helpers.js'
import { eventually } from '../helpers/eventually.js'

const skip = kinesisOutageSkip

/** The SDK error of a call that must fail: its name, message and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p
  } catch (err: any) {
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode }
  }
  throw new Error('the call succeeded')
}

t.test('EventBridge on a healthy Kinesis', { skip }, async (t) => {
  // One t.testdir() per test: a second call would empty the first (the topology's logs among it).
  const dir = t.testdir()
  const kinesis = await startKinesisOutage(t, { runDir: path.join(dir, 'kinesis') })
  const dataDir = path.join(dir, 'eventbridge')
  const env = {
    KINESIS_ENDPOINT: kinesis.endpoint,
    OUTAGE_LAB_DATA_DIR: dataDir,
    CONSUMER_POLL_MS: '100',
    DELIVERY_RETRY_BASE_MS: '100',
    DELIVERY_RETRY_MAX_MS: '400',
    CHECKPOINT_INTERVAL_MS: '100',
  }
  let eb = await startEventBridge(t, env)
  let client: EventBridgeClient = eventsClient(t, eb.url)
  const target = await startTarget(t, (path, attempt) => {
    if (path === '/flaky') return attempt <= 2 ? 503 : 200
    if (path === '/refuses') return 400
    if (path === '/down') return 500
    return 200
  })

  await t.test('PutRule, DescribeRule, ListRules (prefix, pages), DeleteRule', async (t) => {
    const pattern = JSON.stringify({ source: ['outage-lab.test'] })
    const put = await client.send(new PutRuleCommand({ Name: 'list-a', EventPattern: pattern, Description: 'first' }))
    t.equal(put.RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/list-a')
    await client.send(new PutRuleCommand({ Name: 'list-b', EventPattern: pattern, State: 'DISABLED' }))
    await client.send(new PutRuleCommand({ Name: 'other', EventPattern: pattern }))

    const described = await client.send(new DescribeRuleCommand({ Name: 'list-a' }))
    t.match(described, { Name: 'list-a', Arn: put.RuleArn, EventPattern: pattern, State: 'ENABLED', Description: 'first', EventBusName: 'default' })

    const first = await client.send(new ListRulesCommand({ NamePrefix: 'list-', Limit: 1 }))
    t.same(
      first.Rules?.map((r) => r.Name),
      ['list-a'],
    )
    t.ok(first.NextToken, 'a second page is announced')
    const second = await client.send(new ListRulesCommand({ NamePrefix: 'list-', Limit: 1, NextToken: first.NextToken }))
    t.same(
      second.Rules?.map((r) => [r.Name, r.State]),
      [['list-b', 'DISABLED']],
    )
    t.notOk(second.NextToken)

    await client.send(new DeleteRuleCommand({ Name: 'other' }))
    await client.send(new DeleteRuleCommand({ Name: 'other' })) // deleting twice succeeds, as on AWS
    const missing = await failure(client.send(new DescribeRuleCommand({ Name: 'other' })))
    t.same(missing, { name: 'ResourceNotFoundException', message: 'Rule other does not exist on EventBus default.', status: 400 })
  })

  await t.test('PutTargets, ListTargetsByRule, RemoveTargets; a rule with targets cannot be deleted', async (t) => {
    const put = await client.send(
      new PutTargetsCommand({
        Rule: 'list-a',
        Targets: [
          { Id: 't1', Arn: `${target.url}/unused` },
          { Id: 't2', Arn: `${target.url}/unused2`, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 60 } },
        ],
      }),
    )
    t.same(put, { $metadata: put.$metadata, FailedEntryCount: 0, FailedEntries: [] })
    const listed = await client.send(new ListTargetsByRuleCommand({ Rule: 'list-a' }))
    t.same(
      listed.Targets?.map((x) => [x.Id, x.Arn, x.RetryPolicy?.MaximumRetryAttempts]),
      [
        ['t1', `${target.url}/unused`, undefined],
        ['t2', `${target.url}/unused2`, 3],
      ],
    )
    const blocked = await failure(client.send(new DeleteRuleCommand({ Name: 'list-a' })))
    t.same(blocked, { name: 'ValidationException', message: "Rule can't be deleted since it has targets.", status: 400 })
    await client.send(new RemoveTargetsCommand({ Rule: 'list-a', Ids: ['t1', 't2'] }))
    t.same((await client.send(new ListTargetsByRuleCommand({ Rule: 'list-a' }))).Targets, [])
    await client.send(new DeleteRuleCommand({ Name: 'list-a' }))
  })

  await t.test('bad input answers with EventBridge error shapes', async (t) => {
    const pattern = JSON.stringify({ source: ['x'] })
    t.same(await failure(client.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source": "x"}' }))), {
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: "source" must be an object or an array, got "x"',
      status: 400,
    })
    t.same(await failure(client.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"n": [{"numeric": ["<", 10, ">=", 0]}]}' }))), {
      name: 'InvalidEventPatternException',
      message:
        'Event pattern is not valid. Reason: "n": numeric range must be a lower bound (> or >=) followed by an upper bound (< or <=), got ["<",10,">=",0]',
      status: 400,
    })
    t.same(await failure(client.send(new PutRuleCommand({ Name: 'bad name!', EventPattern: pattern }))), {
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
      status: 400,
    })
    t.same(await failure(client.send(new PutRuleCommand({ Name: 'nopattern' }))), {
      name: 'ValidationException',
      message: 'Parameter(s) EventPattern or ScheduleExpression must be specified.',
      status: 400,
    })
    t.same(await failure(client.send(new PutRuleCommand({ Name: 'r', EventPattern: pattern, EventBusName: 'elsewhere' }))), {
      name: 'ResourceNotFoundException',
      message: 'Event bus elsewhere does not exist.',
      status: 400,
    })
    t.same(await failure(client.send(new PutTargetsCommand({ Rule: 'nope', Targets: [{ Id: 'a', Arn: `${target.url}/x` }] }))), {
      name: 'ResourceNotFoundException',
      message: 'Rule nope does not exist on EventBus default.',
      status: 400,
    })
    await client.send(new PutRuleCommand({ Name: 'valid', EventPattern: pattern }))
    const remote = await failure(client.send(new PutTargetsCommand({ Rule: 'valid', Targets: [{ Id: 'a', Arn: 'http://example.com/hook' }] })))
    t.match(remote, { name: 'ValidationException', status: 400, message: /must be on this machine .* got example\.com/ })
    const arn = await failure(
      client.send(new PutTargetsCommand({ Rule: 'valid', Targets: [{ Id: 'a', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f' }] })),
    )
    t.match(arn, { name: 'ValidationException', status: 400, message: /only to http\(s\) URLs|must be http or https/ })
    t.same(
      await failure(
        client.send(new PutTargetsCommand({ Rule: 'valid', Targets: [{ Id: 'a', Arn: `${target.url}/x`, RetryPolicy: { MaximumRetryAttempts: 186 } }] })),
      ),
      {
        name: 'ValidationException',
        message:
          "1 validation error detected: Value '186' at 'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185",
        status: 400,
      },
    )
    const six = Array.from({ length: 6 }, (_, i) => ({ Id: `t${i}`, Arn: `${target.url}/x` }))
    t.match(await failure(client.send(new PutTargetsCommand({ Rule: 'valid', Targets: six }))), { name: 'LimitExceededException', status: 400 })

    const eleven = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }))
    t.match(await failure(client.send(new PutEventsCommand({ Entries: eleven }))), {
      name: 'ValidationException',
      status: 400,
      message: /at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10/,
    })
    t.match(await failure(client.send(new PutEventsCommand({ Entries: [] }))), {
      name: 'ValidationException',
      message: /Member must have length greater than or equal to 1/,
    })
    const big = 'x'.repeat(200 * 1024)
    t.same(
      await failure(
        client.send(
          new PutEventsCommand({
            Entries: [
              { Source: 's', DetailType: 'd', Detail: JSON.stringify({ a: big }) },
              { Source: 's', DetailType: 'd', Detail: JSON.stringify({ b: big }) },
            ],
          }),
        ),
      ),
      {
        name: 'ValidationException',
        message: 'Total size of the entries in the request is over the limit.',
        status: 400,
      },
    )

    // Entries are judged one by one: the good one is accepted, the bad ones say why.
    const mixed = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'outage-lab.test', DetailType: 'ok', Detail: '{"a":1}' },
          { DetailType: 'no source', Detail: '{}' },
          { Source: 's', DetailType: 'bad detail', Detail: '{not json' },
          { Source: 's', DetailType: 'array detail', Detail: '[1]' },
          { Source: 'aws.ec2', DetailType: 'forged', Detail: '{}' },
          { Source: 's', Detail: '{}' },
        ],
      }),
    )
    t.equal(mixed.FailedEntryCount, 5)
    t.match(mixed.Entries?.[0], { EventId: /^[0-9a-f-]{36}$/ })
    t.same(mixed.Entries?.slice(1), [
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
    ])
    t.ok((await metric(eb.url, 'eventbridge_entries_failed_total', '{error_code="MalformedDetail"}')) >= 2)
  })

  await t.test('a matching event is POSTed to the HTTP target as the full envelope; others are not', async (t) => {
    const pattern = {
      source: [{ prefix: 'outage-lab.' }],
      'detail-type': ['Task State Change'],
      detail: { count: [{ numeric: ['>', 5] }], status: [{ 'anything-but': 'STOPPED' }] },
    }
    await client.send(new PutRuleCommand({ Name: 'deliver', EventPattern: JSON.stringify(pattern) }))
    await client.send(new PutTargetsCommand({ Rule: 'deliver', Targets: [{ Id: 'hook', Arn: `${target.url}/deliver` }] }))
    const time = new Date('2020-11-25T13:15:00Z')
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'outage-lab.autoscaler',
            DetailType: 'Task State Change',
            Detail: JSON.stringify({ count: 10, status: 'RUNNING' }),
            Resources: ['arn:aws:ecs:us-east-1:000000000000:task/t1'],
            Time: time,
          },
          { Source: 'outage-lab.autoscaler', DetailType: 'Task State Change', Detail: JSON.stringify({ count: 1, status: 'RUNNING' }) },
          { Source: 'outage-lab.autoscaler', DetailType: 'Task State Change', Detail: JSON.stringify({ count: 10, status: 'STOPPED' }) },
          { Source: 'elsewhere', DetailType: 'Task State Change', Detail: JSON.stringify({ count: 10, status: 'RUNNING' }) },
        ],
      }),
    )
    t.equal(out.FailedEntryCount, 0)
    const ids = out.Entries!.map((e) => e.EventId!)
    await eventually(() => target.received.some((r) => r.path === '/deliver'), { what: 'the matching event delivered', timeoutMs: 20_000 })
    // Give the non-matching ones the time they would need to arrive, then check they did not.
    await eventually(async () => (await metric(eb.url, 'eventbridge_backlog')) === 0, { what: 'backlog drained', timeoutMs: 20_000 })
    await sleep(300)
    const got = target.received.filter((r) => r.path === '/deliver')
    t.equal(got.length, 1, 'only the matching event is delivered')
    t.same(got[0].body, {
      version: '0',
      id: ids[0],
      'detail-type': 'Task State Change',
      source: 'outage-lab.autoscaler',
      account: '000000000000',
      time: '2020-11-25T13:15:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:ecs:us-east-1:000000000000:task/t1'],
      detail: { count: 10, status: 'RUNNING' },
    })
    t.ok((await metric(eb.url, 'eventbridge_events_ingested_total')) >= 4, 'every accepted event was read back from Kinesis')
    t.ok((await metric(eb.url, 'eventbridge_delivery_delay_seconds_count')) >= 1)
    t.ok((await metric(eb.url, 'eventbridge_last_delivery_delay_ms')) > 0)
    t.equal(await metric(eb.url, 'eventbridge_put_events_total', '{outcome="ok"}'), 1)
  })

  await t.test('a failing target is retried until it answers; 4xx is final; MaximumRetryAttempts is honoured', async (t) => {
    await client.send(new PutRuleCommand({ Name: 'retries', EventPattern: JSON.stringify({ source: ['outage-lab.retries'] }) }))
    await client.send(
      new PutTargetsCommand({
        Rule: 'retries',
        Targets: [
          { Id: 'flaky', Arn: `${target.url}/flaky` },
          { Id: 'refuses', Arn: `${target.url}/refuses` },
          { Id: 'down', Arn: `${target.url}/down`, RetryPolicy: { MaximumRetryAttempts: 2 } },
        ],
      }),
    )
    const retriesBefore = await metric(eb.url, 'eventbridge_deliveries_total', '{outcome="retry"}')
    const out = await client.send(new PutEventsCommand({ Entries: [{ Source: 'outage-lab.retries', DetailType: 'x', Detail: '{"n":1}' }] }))
    await eventually(() => target.received.some((r) => r.path === '/flaky'), { what: 'the flaky target finally gets the event', timeoutMs: 20_000 })
    t.equal(target.attempts.get('/flaky'), 3, 'two 503s, then success')
    t.equal(target.received.find((r) => r.path === '/flaky')!.body.id, out.Entries![0].EventId)
    await eventually(async () => (await metric(eb.url, 'eventbridge_backlog')) === 0, { what: 'every delivery finished', timeoutMs: 20_000 })
    t.equal(target.attempts.get('/refuses'), 1, 'a 400 is not retried')
    t.equal(target.attempts.get('/down'), 3, 'one attempt plus MaximumRetryAttempts 2')
    t.equal((await metric(eb.url, 'eventbridge_deliveries_total', '{outcome="retry"}')) - retriesBefore, 4)
    t.ok((await metric(eb.url, 'eventbridge_deliveries_total', '{outcome="failed"}')) >= 2)
  })

  await t.test('a restarted EventBridge keeps its rules and resumes after its checkpoint', async (t) => {
    const deliveredBefore = target.received.length
    await sleep(300) // let the checkpoint reach the disk
    t.equal(await eb.stop(), 0)
    eb = await startEventBridge(t, env)
    client = eventsClient(t, eb.url)
    const rules = await client.send(new ListRulesCommand({}))
    t.same(
      rules.Rules?.map((r) => r.Name),
      ['deliver', 'list-b', 'retries', 'valid'],
    )
    const out = await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'outage-lab.after', DetailType: 'Task State Change', Detail: '{"count":7,"status":"RUNNING"}' }] }),
    )
    await eventually(() => target.received.length > deliveredBefore, { what: 'the new event delivered', timeoutMs: 20_000 })
    await eventually(async () => (await metric(eb.url, 'eventbridge_backlog')) === 0, { what: 'backlog drained', timeoutMs: 20_000 })
    await sleep(300)
    t.same(
      target.received.slice(deliveredBefore).map((r) => r.body.id),
      [out.Entries![0].EventId],
      'only the new event: nothing before the checkpoint came again',
    )
    t.equal((await getJson(`${eb.url}/health`)).service, 'eventbridge')
  })
})
