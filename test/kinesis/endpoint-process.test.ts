// kinesis/endpoint as the harness runs it: the compiled process, configured by env, its members
// vended by the real kinesis/metadata process. Run `npx tsc -p .` first.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { awsJsonProtocol, createService } from '../../services/kit/index.js'
import { INTERNAL, ADMIN_TOKEN, CREDENTIALS, spawnService } from '../helpers/spawn.js'
import { eventually } from '../helpers/eventually.js'

const ENTRY = 'services/kinesis/endpoint/main.js'
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` }

async function json(url: string, init: Parameters<typeof request>[1] = {}): Promise<any> {
  // Metadata's membership routes are internal: the test calls them as a platform does.
  const res = await request(url, { ...init, headers: { ...INTERNAL, ...(init.headers as Record<string, string> | undefined) } })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${init.method ?? 'GET'} ${url} -> ${res.statusCode} ${text}`)
  return JSON.parse(text)
}

/** A member as the endpoint sees a front-end: /health plus a signed Kinesis JSON 1.1 API. */
async function startSignedMember(t: Test, name: string) {
  const svc = createService({ name, logger: false })
  let calls = 0
  svc.app.register(awsJsonProtocol, {
    targetPrefix: 'Kinesis_20131202',
    jsonVersion: '1.1',
    keys: new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]),
    signingName: 'kinesis',
    operations: {
      ListStreams: () => {
        calls++
        return { StreamNames: [name], HasMoreStreams: false }
      },
    },
  })
  await svc.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => svc.app.close())
  return { url: `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`, calls: () => calls }
}

t.test('a bad variable stops the endpoint before it listens, naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /environment variable METADATA_URL: expected the metadata service URL/],
    [{ ENDPOINT_MEMBERS: 'http://127.0.0.1:1,ftp://127.0.0.1:2' }, /environment variable ENDPOINT_MEMBERS: expected http:\/\/ URLs/],
    [
      { ENDPOINT_MEMBERS: 'http://127.0.0.1:1', HEALTH_TIMEOUT_MS: 'soon' },
      /environment variable HEALTH_TIMEOUT_MS: expected an integer in \[1, \d+\], got "soon"/,
    ],
    [{ METADATA_URL: 'http://127.0.0.1:1', UNHEALTHY_THRESHOLD: '0' }, /environment variable UNHEALTHY_THRESHOLD: expected an integer in \[1, 100\], got "0"/],
    [{ ENDPOINT_MEMBERS: 'http://127.0.0.1:1', HEALTH_PATH: 'health' }, /environment variable HEALTH_PATH: expected a path starting with \//],
  ]
  for (const [env, message] of cases) {
    const err = await spawnService(ENTRY, env).then(
      (s) => (s.stop(), new Error('it started')),
      (e: Error) => e,
    )
    t.match(err.message, /exited with 2 before listening/)
    t.match(err.message, message)
  }
})

t.test(
  'membership follows the metadata service: members join unhealthy, serve once they pass, leave when deleted, and stay when metadata is gone',
  async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-endpoint-'))
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
    const metadata = await spawnService('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir })
    t.teardown(() => metadata.stop('SIGKILL'))
    const [one, two, other] = await Promise.all([startSignedMember(t, 'fe-1'), startSignedMember(t, 'fe-2'), startSignedMember(t, 'fe-other')])
    const endpoint = await spawnService(ENTRY, {
      METADATA_URL: metadata.url,
      FLEET: 'main',
      MEMBERSHIP_POLL_MS: '50',
      HEALTH_INTERVAL_MS: '50',
      HEALTH_TIMEOUT_MS: '500',
    })
    t.teardown(() => endpoint.stop())
    const members = () => json(`${endpoint.url}/admin/members`, { headers: ADMIN }) as Promise<any[]>

    const put = (fleet: string, id: string, url: string) =>
      json(`${metadata.url}/fleets/${fleet}/members/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) })
    await put('main', 'fe-1', one.url)
    await put('main', 'fe-2', two.url)
    await put('cloudwatch', 'fe-other', other.url)
    const joined = await eventually(
      async () => {
        const list = await members()
        return list.length === 2 && list
      },
      { what: 'both members listed', intervalMs: 25 },
    )
    t.same(
      joined.map((m) => [m.id, m.url]),
      [
        ['fe-1', one.url],
        ['fe-2', two.url],
      ],
      'only the members of its fleet, with their metadata ids',
    )
    await eventually(async () => (await members()).every((m) => m.healthy), { what: 'both members healthy', intervalMs: 25 })

    // The stock SDK client (HTTP/2 by default) through the endpoint process, signatures verified by the members.
    const client = new KinesisClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
    t.teardown(() => client.destroy())
    const served = new Set<string>()
    for (let i = 0; i < 4; i++) served.add((await client.send(new ListStreamsCommand({}))).StreamNames![0])
    t.same([...served].sort(), ['fe-1', 'fe-2'])
    t.equal(one.calls() + two.calls(), 4)
    t.equal(other.calls(), 0, 'a member of another fleet gets nothing')

    await json(`${metadata.url}/fleets/main/members/fe-2`, { method: 'DELETE' })
    await eventually(async () => (await members()).length === 1, { what: 'fe-2 left', intervalMs: 25 })
    for (let i = 0; i < 3; i++) t.same((await client.send(new ListStreamsCommand({}))).StreamNames, ['fe-1'])

    await metadata.stop('SIGKILL')
    await eventually(
      async () =>
        /kinesis_endpoint_membership_errors_total\{[^}]*\} [1-9]/.test(await (await request(`${endpoint.url}/metrics`, { headers: INTERNAL })).body.text()),
      {
        what: 'a failed membership poll',
        intervalMs: 25,
      },
    )
    t.same(
      (await members()).map((m) => m.id),
      ['fe-1'],
      'the last member list stands without metadata',
    )
    t.same((await client.send(new ListStreamsCommand({}))).StreamNames, ['fe-1'])
  },
)

t.test('an endpoint of one cell proxies to the members of that cell only', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-endpoint-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const metadata = await spawnService('services/kinesis/metadata/main.js', { OUTAGE_LAB_DATA_DIR: dir })
  t.teardown(() => metadata.stop('SIGKILL'))
  const apps = await Promise.all(
    ['c1', 'c2'].map(async (cell) => {
      const app = Fastify()
      app.get('/health', async () => ({ ok: true }))
      app.all('/*', async () => ({ cell }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      t.teardown(() => app.close())
      return { cell, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
    }),
  )
  for (const a of apps) {
    await json(`${metadata.url}/fleets/main/members/fe-${a.cell}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: a.url, cell: a.cell }),
    })
  }
  const endpoint = await spawnService(ENTRY, { METADATA_URL: metadata.url, FLEET: 'main', CELL: 'c2', MEMBERSHIP_POLL_MS: '50', HEALTH_INTERVAL_MS: '50' })
  t.teardown(() => endpoint.stop())
  await eventually(
    async () => {
      const list = (await json(`${endpoint.url}/admin/members`, { headers: ADMIN })) as any[]
      return list.length === 1 && list[0].healthy && list
    },
    { what: 'the cell member healthy', intervalMs: 25 },
  )
  for (let i = 0; i < 3; i++)
    t.same(await json(`${endpoint.url}/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), { cell: 'c2' })
  const health = await json(`${endpoint.url}/health`)
  t.match(health, { service: 'kinesis-endpoint', instance: 'endpoint-main-c2', fleet: 'main', cell: 'c2', members: 1, healthyMembers: 1 })
})
