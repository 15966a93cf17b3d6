// The customers as a program of their own: docker-compose.yml's `customers` service runs this
// (`node /app/docker/entry.mjs customers`). The same seed steps, generators and default rates as a
// run's customers (customers.ts, experiment/defaults.ts), against the compose services by their
// names, and one line per second on stdout with every service's last second (calls, success ratio,
// p99; recorder.ts formats it as a run's live lines do), so `docker compose logs -f customers`
// shows the cascade as it happens. SIGTERM (`docker compose down`) stops it at once: no new
// call, the calls in flight given a fraction of a second, then exit 0.
//
// Env (every URL optional: no URL, no customers of that service):
//   KINESIS_URL, COGNITO_URL, CLOUDWATCH_URL, EVENTBRIDGE_URL, LAMBDA_URL, AUTOSCALER_URL, STATUS_PAGE_URL
//   OUTAGE_LAB_SEED (1), OUTAGE_LAB_CREDENTIALS (the first AKID:SECRET pair), CLIENT_TIMEOUT_MS (2000)
import { seededRandom } from '../../services/kit/prng.js'
import { DEFAULT_CREDENTIALS, DEFAULT_REGION, envCredentials, envInt } from '../../services/kit/config.js'
import { DEFAULT_CLIENT_TIMEOUT_MS, DEFAULT_RATES, DEFAULT_RETRIES, DEFAULT_STREAM_SHARDS } from '../experiment/defaults.js'
import { COMPOSE_HOSTS, customerClients } from './clients.js'
import { seedCustomers, startWorkload, type Seeded, type Workload } from './customers.js'
import { ClientRecorder, formatWindow } from './recorder.js'

const env = process.env
const started = performance.now()
const clock = () => performance.now() - started
const out = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)

const url = (name: string) => env[name] || undefined
const seed = envInt(env, 'OUTAGE_LAB_SEED', { fallback: 1 })
const [[accessKeyId, secretAccessKey]] = envCredentials(env, 'OUTAGE_LAB_CREDENTIALS', DEFAULT_CREDENTIALS)
const timeoutMs = envInt(env, 'CLIENT_TIMEOUT_MS', { fallback: DEFAULT_CLIENT_TIMEOUT_MS, min: 1 })
const statusPageUrl = url('STATUS_PAGE_URL')
const autoscalerUrl = url('AUTOSCALER_URL')

const clients = customerClients(
  {
    kinesis: url('KINESIS_URL'),
    cognito: url('COGNITO_URL'),
    cloudwatch: url('CLOUDWATCH_URL'),
    eventbridge: url('EVENTBRIDGE_URL'),
    lambda: url('LAMBDA_URL'),
    autoscaler: autoscalerUrl,
  },
  { region: DEFAULT_REGION, credentials: { accessKeyId, secretAccessKey } },
  { timeoutMs, maxAttempts: DEFAULT_RETRIES.maxAttempts, retryMode: DEFAULT_RETRIES.mode },
  COMPOSE_HOSTS,
)
const recorder = new ClientRecorder(clock)
let workload: Workload | undefined
let ticker: NodeJS.Timeout | undefined
let stopping = false

async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(ticker)
  // Whatever happens below, the container is gone within a second of its SIGTERM.
  setTimeout(() => process.exit(0), 1_000).unref()
  await Promise.all((workload?.loops ?? []).map((l) => l.stop(300)))
  const totals = [...recorder.totals()].map(([service, t]) => `${service} ${t.calls} calls ${t.calls ? ((t.ok / t.calls) * 100).toFixed(1) : '-'}% ok`)
  out(`customers: ${signal}, stopped${totals.length ? `; in all: ${totals.join(' | ')}` : ''}`)
  clients.destroy()
  process.exit(0)
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))

// Seeding needs every service up; until it succeeds (the system may be broken already), try again.
out(`customers: seed ${seed}, seeding streams, user pools, alarms, rules and services`)
let seeded: Seeded | undefined
while (!seeded && !stopping) {
  try {
    seeded = await seedCustomers(clients, { autoscalerUrl, streamShards: DEFAULT_STREAM_SHARDS, timeoutMs: 30_000 })
  } catch (err) {
    out(`customers: ${(err as Error).message}; seeding again`)
  }
}
if (seeded && !stopping) {
  out(
    `customers: seeded (${seeded.shards.length} shards${seeded.userPool ? `, ${seeded.userPool.users.length} users` : ''}); one line a second: each service's calls, success ratio and p99 of the last second`,
  )
  ticker = setInterval(
    () =>
      out(
        `t=${Math.round(clock() / 1000)}s  ${recorder
          .window()
          .map((s) => formatWindow(s))
          .join(' | ')}`,
      ),
    1_000,
  )
  workload = startWorkload(clients, seeded, {
    rates: DEFAULT_RATES,
    random: seededRandom(`${seed}:workload`),
    recorder,
    // Until stopped (setTimeout's longest delay: about 24 days).
    maxDurationMs: 2 ** 31 - 1,
    timeoutMs,
    statusPageUrl,
    clock,
  })
}
