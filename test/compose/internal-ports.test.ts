// On containers, what AWS keeps inside its own network (metadata, the back-ends, the front-ends)
// has no published port, while what customers call (the Kinesis endpoint, Cognito...) is on
// 127.0.0.1 only; the harness still reads every internal service's health. Checked with
// `docker port` on each container of an `outage-lab up --platform compose`, and its control API;
// then the same with the fallback forced (what a host without a route to container addresses gets).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { request } from 'undici'
import { PUBLISH_INTERNAL_VARIABLE } from '../../harness/platform/compose/reach.js'
import { composeSkip, projectResources } from './skip.js'
import { runCli, startUp } from '../helpers/cli-run.js'

const INTERNAL = new Set(['kinesis-metadata', 'kinesis-backend-1', 'kinesis-backend-2', 'kinesis-frontend-main'])
const FACING = new Set(['kinesis-endpoint-main', 'cognito'])

const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim()

const skip = await composeSkip()

// Where this host reaches container addresses (Linux), nothing internal is published; forced (as
// on Docker Desktop), the fallback publishes it on 127.0.0.1 only and the harness reads it there.
for (const forced of [false, true]) {
  const how = forced ? `${PUBLISH_INTERNAL_VARIABLE}=1: internal services on 127.0.0.1 too` : 'internal services unpublished'
  t.test(`outage-lab up --platform compose, ${how}; AWS-facing ones on 127.0.0.1; every health read`, { skip }, async (t) => {
    t.setTimeout(400_000)
    const started = await startUp(t, t.testdir(), ['--platform', 'compose', '--frontends', '2', '--thread-limit', '64', '--services', 'cognito'], {
      timeoutMs: 300_000,
      env: { ...process.env, [PUBLISH_INTERNAL_VARIABLE]: forced ? '1' : '' },
    })
    const e = started.endpoints
    const project = `outage-lab-${e.runId}`
    const reach = /internal services \(metadata, back-ends, front-ends\) (not published; the harness reaches them .*|published on 127\.0\.0\.1 too: .*)/.exec(
      started.stderr(),
    )
    t.ok(reach, 'up says how the harness reaches the internal services')
    t.comment(reach?.[0] ?? started.stderr())
    const unpublished = !!reach?.[1].startsWith('not published')
    if (forced) t.notOk(unpublished, 'forced: the fallback')
    else if (!unpublished) t.comment('this host has no route to container addresses: the fallback publishes them on 127.0.0.1')

    const seen = new Set<string>()
    for (const id of projectResources(project).containers) {
      const service = docker(['inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}}', id])
      seen.add(service)
      const ports = docker(['port', id]).split('\n').filter(Boolean)
      if (INTERNAL.has(service) && unpublished) t.same(ports, [], `${service} (${id.slice(0, 12)}): no published port`)
      else t.match(ports, [/^8080\/tcp -> 127\.0\.0\.1:\d+$/], `${service} (${id.slice(0, 12)}): 127.0.0.1 only`)
    }
    t.same([...seen].filter((s) => INTERNAL.has(s) || FACING.has(s)).sort(), [...INTERNAL, ...FACING].sort(), 'every service checked')

    for (const [name, url] of Object.entries(e.services as Record<string, string>)) {
      const internal = INTERNAL.has(name) || name.startsWith('kinesis-frontend-main-')
      if (internal && unpublished) t.notMatch(url, /127\.0\.0\.1/, `${name} at its container address (${url})`)
      else t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `${name} on 127.0.0.1`)
    }

    // The harness's own view: the control API's topology with each service's GET /health.
    const res = await request(`${e.control.url}/topology`, { headers: { authorization: `Bearer ${e.control.token}` } })
    const topo = (await res.body.json()) as { services: { name: string; state: string; health: { status: number | null; error?: string } }[] }
    t.equal(res.statusCode, 200)
    for (const s of topo.services)
      t.equal(s.health?.status, 200, `the harness reads ${s.name}'s health (${s.state}${s.health?.error ? `: ${s.health.error}` : ''})`)
    t.ok(
      topo.services.some((s) => s.name === 'kinesis-frontend-main-1') && topo.services.some((s) => s.name === 'kinesis-metadata'),
      'internal services among them',
    )

    // A member added after boot is reached the same way (its address learnt when it starts).
    const scale = await runCli(['scale', '--fleet', 'main', '--to', '3', '--endpoints-file', started.endpointsFile])
    t.equal(scale.code, 0, scale.stderr)
    t.match(scale.stdout, /added: kinesis-frontend-main-3/)

    const down = await runCli(['down', '--endpoints-file', started.endpointsFile])
    t.equal(down.code, 0, down.stderr)
    t.not(await started.exited, null, 'up ended')
    t.same(projectResources(project), { containers: [], networks: [] }, 'no container or network of the project is left')
  })
}
