// A game day on containers: `outage-lab up --platform compose` and the same control commands as on
// the local platform (scale, restart, status-page post, env, down), each run as a user types it.
// `down` leaves no container or network of the run's compose project.
import t from 'tap'
import { request } from 'undici'
import { composeSkip, projectResources } from './skip.js'
import { runCli, startUp } from '../helpers/cli-run.js'

t.test('outage-lab up --platform compose: a game day on containers through the control commands', { skip: await composeSkip() }, async (t) => {
  t.setTimeout(600_000)
  const started = await startUp(
    t,
    t.testdir(),
    ['--platform', 'compose', '--frontends', '2', '--thread-limit', '64', '--learn-delay', '0', '--services', 'cognito,status-page'],
    { timeoutMs: 300_000 },
  )
  const e = started.endpoints
  const project = `outage-lab-${e.runId}`
  const file = ['--endpoints-file', started.endpointsFile]

  t.match(started.stderr(), /outage-lab up --platform compose: 2 front-ends, thread limit 64/)
  t.match(started.stderr(), /thread limit 64 per front-end, enforced by each front-end container's pids_limit/)
  for (const name of ['kinesis-endpoint-main', 'cognito', 'status-page'])
    t.match(e.services[name], /^http:\/\/127\.0\.0\.1:\d+$/, `${name} is published on 127.0.0.1 only`)
  t.same(e.fleets.main.members, ['kinesis-frontend-main-1', 'kinesis-frontend-main-2'])

  const scale = await runCli(['scale', '--fleet', 'main', '--to', '3', ...file])
  t.equal(scale.code, 0, scale.stderr)
  t.match(scale.stdout, /fleet main: 2 -> 3\n {2}added: kinesis-frontend-main-3/)

  const restart = await runCli(['restart', '--fleet', 'main', '--json', ...file])
  t.equal(restart.code, 0, restart.stderr)
  t.match(JSON.parse(restart.stdout), {
    fleet: 'main',
    restarted: ['kinesis-frontend-main-1', 'kinesis-frontend-main-2', 'kinesis-frontend-main-3'],
    notReady: [],
  })

  const post = await runCli([
    'status-page',
    'post',
    '--backup',
    'Kinesis: increased error rates in US-EAST-1',
    '--component',
    'kinesis',
    '--status',
    'degraded',
    ...file,
  ])
  t.equal(post.code, 0, post.stderr)
  const page = await (await request(e.services['status-page'])).body.text()
  t.match(page, /increased error rates in US-EAST-1/, 'the update is on the status page')

  const env = await runCli(['env', ...file])
  t.equal(env.code, 0, env.stderr)
  t.match(env.stdout, new RegExp(`^export AWS_ENDPOINT_URL_KINESIS='${e.kinesisEndpoint}'$`, 'm'), 'env points an SDK at the containers')

  t.not(projectResources(project).containers.length, 0, `the containers run under compose project ${project}`)
  const down = await runCli(['down', ...file])
  t.equal(down.code, 0, down.stderr)
  t.not(await started.exited, null, 'up ended')
  t.match(started.stderr(), /stopped; nothing left running/)
  t.same(projectResources(project), { containers: [], networks: [] }, 'no container or network of the project is left')
})
