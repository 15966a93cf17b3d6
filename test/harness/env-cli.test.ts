// `eval "$(outage-lab env)"` against a real `outage-lab up`: the AWS CLI, configured by nothing but
// the variables env prints, reaches the lab's Kinesis and CloudWatch, and the lab counts those calls
// under the shell's own key. The AWS CLI v1 (botocore >= 1.31) reads AWS_ENDPOINT_URL_<SERVICE>;
// Debian's v2 (2.9) does not, and is given the same URL with --endpoint-url. A CLI that is not
// installed is skipped with the reason.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { request } from 'undici'
import { PACKAGE_ROOT } from '../../harness/platform/paths.js'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { customerAccessKey } from '../../harness/topology/customers.js'
import { eventually } from '../helpers/eventually.js'
import { startUp } from '../helpers/cli-run.js'
import { kinesisOutageSkip } from '../helpers/kinesis-outage.js'

const CLI = path.join(PACKAGE_ROOT, 'dist/harness/cli.js')
/** The shell's environment without any AWS_* of the user's (the test must see only what env prints). */
const shellEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'NODE_OPTIONS')) as Record<string, string>

function version(cmd: string): string | undefined {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', env: shellEnv(), timeout: 30_000 })
  return r.status === 0 ? (r.stdout || r.stderr).trim() : undefined
}

/** `sh -c 'eval "$(outage-lab env ...)"; <script>'`: what a user types. */
function inShell(endpointsFile: string, script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', `eval "$("${process.execPath}" "${CLI}" env --endpoints-file "${endpointsFile}")" && ${script}`], {
    encoding: 'utf8',
    env: shellEnv(),
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('eval "$(outage-lab env)" points the AWS CLI at a running up', { skip: kinesisOutageSkip }, async (t) => {
  const v1 = version('aws')
  const v2 = fs.existsSync('/usr/bin/aws') ? version('/usr/bin/aws') : undefined
  if (!v1 && !v2) return t.skip('no AWS CLI installed (aws, /usr/bin/aws)')
  const {
    proc: up,
    endpointsFile,
    endpoints: e,
    exited,
  } = await startUp(t, t.testdir(), ['--frontends', '2', '--thread-limit', '64', '--services', 'cloudwatch'], { env: shellEnv() })
  const shell = customerAccessKey('shell')
  t.same(e.shellCredentials, shell, "the endpoints file holds the shell's key")

  const printed = inShell(endpointsFile, 'env | grep ^AWS_ | sort')
  t.equal(printed.code, 0, printed.stderr)
  t.same(printed.stdout.trim().split('\n'), [
    'AWS_ACCESS_KEY_ID=' + shell.accessKeyId,
    'AWS_DEFAULT_REGION=us-east-1',
    'AWS_EC2_METADATA_DISABLED=true',
    `AWS_ENDPOINT_URL=${e.kinesisEndpoint}`,
    `AWS_ENDPOINT_URL_CLOUDWATCH=${e.services.cloudwatch}`,
    `AWS_ENDPOINT_URL_KINESIS=${e.kinesisEndpoint}`,
    'AWS_REGION=us-east-1',
    'AWS_SECRET_ACCESS_KEY=' + shell.secretAccessKey,
  ])

  if (!v1) t.comment('AWS CLI v1 (aws) not installed: skipped')
  else {
    await t.test(`the AWS CLI v1 (${v1.split(' ')[0]}) with nothing but the environment`, async (t) => {
      const created = inShell(endpointsFile, 'aws kinesis create-stream --stream-name from-the-shell --shard-count 1')
      t.equal(created.code, 0, created.stderr)
      await eventually(
        () => /"StreamStatus": "ACTIVE"/.test(inShell(endpointsFile, 'aws kinesis describe-stream-summary --stream-name from-the-shell').stdout),
        { what: 'the stream ACTIVE', timeoutMs: 20_000, intervalMs: 500 },
      )
      const put = inShell(endpointsFile, 'aws kinesis put-record --stream-name from-the-shell --partition-key k --data hello')
      t.equal(put.code, 0, put.stderr)
      t.match(JSON.parse(put.stdout), { ShardId: 'shardId-000000000000', SequenceNumber: /^\d+$/ })
      const metric = inShell(endpointsFile, 'aws cloudwatch put-metric-data --namespace Shell --metric-name Orders --value 3')
      t.equal(metric.code, 0, metric.stderr)
      const listed = inShell(endpointsFile, 'aws kinesis list-streams')
      t.ok(JSON.parse(listed.stdout).StreamNames.includes('from-the-shell'), listed.stdout)
    })
  }
  if (!v2) t.comment('AWS CLI v2 (/usr/bin/aws) not installed: skipped')
  else {
    await t.test(`the AWS CLI v2 (${v2.split(' ')[0]}) with the endpoint from the environment`, async (t) => {
      const listed = inShell(endpointsFile, '/usr/bin/aws kinesis list-streams --endpoint-url "$AWS_ENDPOINT_URL_KINESIS"')
      t.equal(listed.code, 0, listed.stderr)
      t.ok(Array.isArray(JSON.parse(listed.stdout).StreamNames))
      const metric = inShell(
        endpointsFile,
        '/usr/bin/aws cloudwatch put-metric-data --namespace Shell --metric-name Orders --value 4 --endpoint-url "$AWS_ENDPOINT_URL_CLOUDWATCH"',
      )
      t.equal(metric.code, 0, metric.stderr)
    })
  }

  await t.test("the lab counted the shell's calls under the shell's own key", async (t) => {
    let text = ''
    // /metrics is internal: the operator reads it with the run's internal credential from the endpoints file.
    const headers = { 'x-outage-lab-internal': e.internalToken as string }
    for (const url of e.fleets.main.memberUrls as string[]) text += await (await request(`${url}/metrics`, { headers })).body.text()
    text += await (await request(`${e.services.cloudwatch}/metrics`, { headers })).body.text()
    const calls = [...text.matchAll(new RegExp(`^lab_caller_calls_total\\{caller="${shell.accessKeyId}",operation="(\\w+)"`, 'gm'))].map((m) => m[1])
    t.ok(calls.includes('ListStreams'), `Kinesis saw the shell's ListStreams (${[...new Set(calls)].join(', ')})`)
    t.ok(calls.includes('PutMetricData'), "CloudWatch saw the shell's PutMetricData")
  })

  up.kill('SIGINT')
  t.equal(await exited, 130)
  t.same(processesOfRun(e.runId), [], 'nothing of the run is left')
})
