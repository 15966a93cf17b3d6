// The files the harness writes that hold the run's secrets are readable by their owner only: the
// endpoints file of `outage-lab up` (the control token, the operator key, the keys) and the compose
// override of a run on compose (every service's OUTAGE_LAB_ADMIN_TOKEN and per-run secrets). Also
// with a permissive umask, over an existing file, and over a temporary left behind with another mode.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { endpointsFileContent, readEndpointsFile, writeEndpointsFile } from '../../harness/control/endpoints-file.js'
import { writeOverride, type ComposePlan } from '../../harness/platform/compose/file.js'

const mode = (file: string) => fs.statSync(file).mode & 0o777

function withUmask<T>(mask: number, fn: () => T): T {
  const before = process.umask(mask)
  try {
    return fn()
  } finally {
    process.umask(before)
  }
}

const content = endpointsFileContent(
  { runId: 'r', region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, services: {}, fleets: {} },
  { pid: 1, runDir: '/tmp/r', control: { url: 'http://127.0.0.1:1', token: 'the-token' }, threadLimitEnforcement: 'process', operatorKey: 'the-operator-key' },
)

t.test('the endpoints file is 0600, with umask 000, over a 0644 file and over a stale 0666 temporary', async (t) => {
  const dir = t.testdir()
  const file = path.join(dir, '.outage-lab', 'endpoints.json')
  withUmask(0o000, () => writeEndpointsFile(file, content))
  t.equal(mode(file), 0o600, 'a new file')
  t.equal(readEndpointsFile(file).control.token, 'the-token')

  fs.chmodSync(file, 0o644)
  fs.writeFileSync(`${file}.${process.pid}.tmp`, 'left by a crash', { mode: 0o666 })
  fs.chmodSync(`${file}.${process.pid}.tmp`, 0o666)
  withUmask(0o000, () => writeEndpointsFile(file, content))
  t.equal(mode(file), 0o600, 'over a 0644 file and a stale temporary')
  t.same(
    fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary left',
  )
})

t.test('the compose override, which carries OUTAGE_LAB_ADMIN_TOKEN, is 0600', async (t) => {
  const file = path.join(t.testdir(), 'docker-compose.override.yml')
  const plan: ComposePlan = {
    services: ['cloudwatch'],
    profiles: [],
    variables: {},
    override: { version: '2.4', services: { cloudwatch: { environment: { OUTAGE_LAB_ADMIN_TOKEN: 'the-token' } } } },
    scale: {},
  }
  withUmask(0o000, () => writeOverride(file, plan))
  t.equal(mode(file), 0o600)
  t.match(fs.readFileSync(file, 'utf8'), /OUTAGE_LAB_ADMIN_TOKEN: the-token/)
  fs.chmodSync(file, 0o644)
  withUmask(0o022, () => writeOverride(file, plan))
  t.equal(mode(file), 0o600, 'rewritten (a fleet scaled) over a 0644 file')
})
