// The customers as docker-compose.yml's `customers` service runs them
// (dist/harness/workload/container.js): their traffic stays on this machine (127.0.0.1, or the
// lab's compose service names), their line is the run's live line, and SIGTERM ends them at once.
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { COMPOSE_HOSTS, localEndpoint } from '../../harness/workload/clients.js'
import { formatWindow } from '../../harness/workload/recorder.js'
import { ROOT } from '../helpers/spawn.js'

const PROGRAM = path.join(ROOT, 'dist/harness/workload/container.js')

t.test('customer traffic: 127.0.0.1, or a compose service name of the lab when allowed; never elsewhere', async (t) => {
  t.equal(localEndpoint('kinesis', 'http://127.0.0.1:4567'), 'http://127.0.0.1:4567')
  t.throws(() => localEndpoint('kinesis', 'http://kinesis-endpoint-main:8080'), /not on 127\.0\.0\.1/)
  t.equal(localEndpoint('kinesis', 'http://kinesis-endpoint-main:8080', COMPOSE_HOSTS), 'http://kinesis-endpoint-main:8080')
  t.throws(() => localEndpoint('kinesis', 'https://kinesis.us-east-1.amazonaws.com', COMPOSE_HOSTS), /refusing/)
  t.throws(() => localEndpoint('kinesis', 'http://kinesis-endpoint-main.example.com:8080', COMPOSE_HOSTS), /refusing/)
  t.throws(() => localEndpoint('kinesis', 'http://shop:8080', COMPOSE_HOSTS), /refusing/, "only the lab's own names")
})

t.test("one service's second, as the run's live block and the customers' line show it", async (t) => {
  const s = { service: 'kinesis', calls: 25, successRatio: 0.96, p99Ms: 45.4, inFlight: 0, oldestInFlightMs: 0 }
  t.equal(formatWindow(s), 'kinesis 25 calls/s  ok 96%  p99 45 ms')
  t.equal(formatWindow(s, { pad: true }), 'kinesis        25 calls/s  ok  96%  p99 45 ms')
  t.equal(formatWindow({ ...s, calls: 0, successRatio: null, p99Ms: 2100, inFlight: 3 }), 'kinesis 0 calls/s  ok -  p99 2100 ms  in flight 3')
})

function runProgram(env: Record<string, string>) {
  const proc = spawn(process.execPath, [PROGRAM], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return { proc, exit, out: () => out }
}

t.test('the program refuses a URL off this machine before any call', async (t) => {
  const p = runProgram({ KINESIS_URL: 'https://kinesis.us-east-1.amazonaws.com' })
  t.not(await p.exit, 0)
  t.match(p.out(), /refusing to send customer traffic there/)
})

t.test('SIGTERM ends the customers at once, even while they are still seeding', async (t) => {
  // Nothing listens on port 9: seeding retries until stopped.
  const p = runProgram({ KINESIS_URL: 'http://127.0.0.1:9' })
  t.teardown(() => void p.proc.kill('SIGKILL'))
  for (let i = 0; i < 100 && !/seeding/.test(p.out()); i++) await new Promise((r) => setTimeout(r, 100))
  t.match(p.out(), /customers: seed 1, seeding/)
  const sent = Date.now()
  p.proc.kill('SIGTERM')
  t.equal(await p.exit, 0)
  t.ok(Date.now() - sent < 1_500, `exited ${Date.now() - sent} ms after SIGTERM`)
  t.match(p.out(), /customers: SIGTERM, stopped/)
})
