// examples/clickstream-ts's HTTP service in process, its AWS clients replaced by fakes: the naive
// variant fails its caller when Kinesis fails; the resilient one answers 202 from its spool, lists
// what it acknowledged, and ships it all once Kinesis is back. No lab service is started.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { createApp } from '../../examples/clickstream-ts/src/app.js'
import { SignIn, type Clients } from '../../examples/clickstream-ts/src/aws.js'

interface Fake {
  kinesisDown: boolean
  cloudwatchDown: boolean
  records: string[]
  metrics: number[]
  signIns: number
}

function fakeClients(f: Fake): Clients {
  const fail = (name: string) => Promise.reject(Object.assign(new Error(`${name} failed`), { name: 'InternalFailure' }))
  const idToken = `h.${Buffer.from(JSON.stringify({ sub: 'sub-1' })).toString('base64url')}.s`
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const op = cmd.constructor.name
    if (op === 'InitiateAuthCommand') {
      f.signIns++
      return { AuthenticationResult: { IdToken: idToken, ExpiresIn: 3600 } }
    }
    if (op === 'PutRecordCommand') {
      if (f.kinesisDown) return fail('PutRecord')
      f.records.push(JSON.parse(Buffer.from(cmd.input.Data as Uint8Array).toString()).id)
      return { SequenceNumber: '1' }
    }
    if (op === 'PutRecordsCommand') {
      if (f.kinesisDown) return fail('PutRecords')
      const rs = cmd.input.Records as { Data: Uint8Array }[]
      for (const r of rs) f.records.push(JSON.parse(Buffer.from(r.Data).toString()).id)
      return { FailedRecordCount: 0, Records: rs.map(() => ({ SequenceNumber: '1' })) }
    }
    if (op === 'PutMetricDataCommand') {
      if (f.cloudwatchDown) return fail('PutMetricData')
      f.metrics.push((cmd.input.MetricData as { Value: number }[])[0].Value)
      return {}
    }
    throw new Error(`unexpected ${op}`)
  }
  const c = { send } as unknown
  return { kinesis: c, cloudwatch: c, cognito: c } as Clients
}

async function started(variant: 'naive' | 'resilient', f: Fake, spoolDir?: string) {
  const clients = fakeClients(f)
  const app = createApp(clients, { variant, stream: 'clickstream', users: 5, namespace: 'Clickstream', spoolDir, shipWaitMs: 300 })
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r))
  app.start(new SignIn(clients.cognito, { poolId: 'p', clientId: 'c', password: 'x' }))
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const post = async (user: number) => {
    const r = await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify({ user, page: '/home' }) })
    return { status: r.status, body: (await r.json()) as { id?: string; error?: string } }
  }
  const get = async (p: string) => fetch(`${url}${p}`).then(async (r) => ({ status: r.status, text: await r.text() }))
  return { app, post, get }
}

const fresh = (): Fake => ({ kinesisDown: false, cloudwatchDown: false, records: [], metrics: [], signIns: 0 })

t.test('naive: 200 while Kinesis works, 503 when it fails; signs each user in once', async (t) => {
  const f = fresh()
  const { app, post, get } = await started('naive', f)
  t.teardown(() => app.close())
  const a = await post(1)
  t.equal(a.status, 200)
  await post(6)
  t.equal(f.signIns, 1, 'user 6 is user-1 again: its token is cached')
  t.same(f.metrics, [1, 1], 'one datapoint per event, on the request path')
  f.kinesisDown = true
  const b = await post(2)
  t.equal(b.status, 503)
  t.equal(b.body.error, 'InternalFailure')
  const acked = JSON.parse((await get('/acknowledged')).text)
  t.same(acked.ids, f.records, 'it acknowledged exactly what reached the stream')
  const m = (await get('/metrics')).text
  t.match(m, /lab_server_requests_total\{outcome="ok"\} 2/)
  t.match(m, /lab_server_requests_total\{outcome="server_error"\} 1/)
  t.equal((await get('/health')).status, 200)
})

t.test('resilient: 200 when shipped in time, 202 from the spool while Kinesis fails, nothing lost after', async (t) => {
  const f = fresh()
  const { app, post, get } = await started('resilient', f, t.testdir())
  t.teardown(() => app.close())
  const a = await post(1)
  t.equal(a.status, 200, 'healthy: answered once in the stream')
  t.same(f.records, [a.body.id])
  f.kinesisDown = true
  f.cloudwatchDown = true
  const answers = []
  for (let i = 0; i < 8; i++) answers.push(await post(i))
  t.same(
    answers.map((x) => x.status),
    [202, 202, 202, 202, 202, 202, 202, 202],
    'every click accepted while Kinesis and CloudWatch fail',
  )
  t.match((await get('/metrics')).text, /clickstream_breaker_state\{dependency="kinesis",state="(open|half-open)"\} 1/)
  f.kinesisDown = false
  f.cloudwatchDown = false
  const acked = JSON.parse((await get('/acknowledged')).text).ids as string[]
  t.equal(acked.length, 9)
  for (let i = 0; i < 200 && acked.some((id) => !f.records.includes(id)); i++) await new Promise((r) => setTimeout(r, 50))
  t.same(
    acked.filter((id) => !f.records.includes(id)),
    [],
    'every acknowledged event reached the stream after recovery',
  )
  for (let i = 0; i < 200 && f.metrics.reduce((x, y) => x + y, 0) < 9; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(
    f.metrics.reduce((x, y) => x + y, 0),
    9,
    'the metric counted every event, aggregated',
  )
})
