// `outage-lab up` without flags and `outage-lab env`, without booting anything: up's topology comes
// from the flagship experiment where no flag says otherwise; env turns an endpoints file into the
// shell lines every SDK and the AWS CLI read.
import t from 'tap'
import path from 'node:path'
import { upTopology, FLAGSHIP_FILE } from '../../harness/control/up.js'
import { envLines, envOf, shellQuote } from '../../harness/control/env.js'
import { loadExperiment } from '../../harness/experiment/index.js'
import { UsageError } from '../../harness/control/cli-support.js'
import { DEFAULT_TIME_SCALE } from '../../harness/experiment/defaults.js'
import type { EndpointsFile } from '../../harness/control/endpoints-file.js'

t.test("up without flags: the flagship's fleet, thread limit, learn delay, back-ends and services", async (t) => {
  const flagship = await loadExperiment(FLAGSHIP_FILE)
  const main = flagship.topology.fleets.main
  const topo = await upTopology({ seed: 1 } as never)
  t.same(
    [topo.frontends, topo.threadLimit, topo.learnDelay, topo.bootstrap, topo.backends, topo.services],
    [main.frontends, main.threadLimit, main.learnDelayMs, main.bootstrap, flagship.topology.backends, flagship.topology.services],
  )
  t.match(topo.from, /experiments\/kinesis-2020-11-25\.yaml$/)
  t.equal(
    topo.timeScale,
    flagship.timeScale,
    "the flagship's time scale: the back-ends keep Kinesis's 24 h compressed as a run's do, so a long game day's data stays bounded",
  )
  const mixed = await upTopology({ seed: 1, frontends: 2, services: [] } as never)
  t.same([mixed.frontends, mixed.threadLimit, mixed.services], [2, main.threadLimit, []], 'each flag given wins; the rest is the flagship')
  const all = await upTopology(
    { seed: 1, frontends: 2, threadLimit: 30, backends: 1, learnDelay: 0, bootstrap: 'peers', services: ['cognito'] },
    '/nonexistent.yaml',
  )
  t.equal(all.from, '', 'every flag given: the file is not read')
  t.equal(all.timeScale, DEFAULT_TIME_SCALE)
})

t.test('an unreadable flagship is bad input that says what to give instead', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'title: [\n' })
  const err = await upTopology({ seed: 1 } as never, path.join(dir, 'bad.yaml')).catch((e: unknown) => e)
  t.ok(err instanceof UsageError)
  t.match(
    (err as Error).message,
    /^the flags left out come from the flagship experiment, which cannot be read:\n.*bad\.yaml: line 2, column 1: expected valid YAML/,
  )
  t.match((err as Error).message, /\(give --frontends and --thread-limit, or fix the file\)$/)
})

const endpoints: EndpointsFile = {
  runId: 'r1',
  pid: 1,
  runDir: '/tmp/r1',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' },
  shellCredentials: { accessKeyId: 'AKIDCUSTSHELLABCDEF', secretAccessKey: "it's" },
  kinesisEndpoint: 'http://127.0.0.1:4001',
  control: { url: 'http://127.0.0.1:4999', token: 't' },
  threadLimitEnforcement: 'cgroup',
  services: {
    'kinesis-endpoint-main': 'http://127.0.0.1:4001',
    cloudwatch: 'http://127.0.0.1:4002',
    cognito: 'http://127.0.0.1:4003',
    'status-page': 'http://127.0.0.1:4004',
  },
  fleets: {},
}

t.test("env: the shell's key, an endpoint for each AWS API the run has, quoted for the shell", async (t) => {
  t.same(envLines(envOf(endpoints)), [
    'unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CREDENTIAL_EXPIRATION',
    "export AWS_ENDPOINT_URL='http://127.0.0.1:4001'",
    "export AWS_ENDPOINT_URL_KINESIS='http://127.0.0.1:4001'",
    "export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER='http://127.0.0.1:4003'",
    "export AWS_ENDPOINT_URL_CLOUDWATCH='http://127.0.0.1:4002'",
    "export AWS_REGION='us-east-1'",
    "export AWS_DEFAULT_REGION='us-east-1'",
    "export AWS_ACCESS_KEY_ID='AKIDCUSTSHELLABCDEF'",
    "export AWS_SECRET_ACCESS_KEY='it'\\''s'",
    "export AWS_EC2_METADATA_DISABLED='true'",
  ])
  t.equal(envOf(endpoints, { labKey: true }).AWS_ACCESS_KEY_ID, 'AKIDOUTAGELAB', "--lab-key: the lab's own")
  const { shellCredentials: _none, ...older } = endpoints
  t.equal(envOf(older).AWS_ACCESS_KEY_ID, 'AKIDOUTAGELAB', "an endpoints file of an older up: the lab's key")
  t.equal(shellQuote("a'b"), "'a'\\''b'")
})
