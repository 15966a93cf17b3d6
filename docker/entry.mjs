// The image's one entry: `node /app/docker/entry.mjs <kind>` runs the service of that kind
// ("kinesis-frontend" -> dist/services/kinesis/frontend/main.js, "cognito" ->
// dist/services/cognito/main.js, "customers" -> dist/harness/workload/container.js) in this same process, after filling in what only the container
// knows about itself:
//   ADVERTISE_URL  http://<this container's IPv4>:$PORT, the address other containers reach
//                  (127.0.0.1 would name the caller's own container)
//   FRONTEND_ID    <MEMBER_PREFIX>-<container id> for a replica of a scaled fleet: replicas share
//                  one config, and a container cannot learn its compose replica number (Docker's
//                  DNS answers no PTR query on compose networks); the id is unique and survives
//                  a restart, so a restarted replica rejoins under its own name
//   CELL           for a replica of a cellular fleet, from $OUTAGE_LAB_DATA_DIR/placement.json,
//                  which the harness writes into the created container before its first start
//                  (a cell follows from the replica number, which the replica cannot learn)
// Nothing else: no shell in the image, no wrapper process, so the service is PID 1, receives
// SIGTERM itself (the kit's serve() closes on it) and is the only task counted by pids_limit.
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const env = process.env

function fail(message) {
  process.stderr.write(`outage-lab entry: ${message}\n`)
  process.exit(2)
}

function entryOf(kind) {
  if (!/^[a-z][a-z0-9-]*$/.test(kind ?? ''))
    fail(`expected a service kind as argument or OUTAGE_LAB_SERVICE (e.g. kinesis-frontend, cognito), got ${JSON.stringify(kind)}`)
  // "customers": the harness's seeded workload as a program (docker-compose.yml's customers service).
  const file =
    kind === 'customers'
      ? path.join(app, 'dist', 'harness', 'workload', 'container.js')
      : path.join(app, 'dist', 'services', kind.startsWith('kinesis-') ? `kinesis/${kind.slice('kinesis-'.length)}` : kind, 'main.js')
  if (!existsSync(file)) fail(`no service of kind ${JSON.stringify(kind)} in this image (${file} is missing)`)
  return file
}

function ownAddress() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

const file = entryOf(process.argv[2] ?? env.OUTAGE_LAB_SERVICE)
const address = ownAddress()
const port = env.PORT ?? '8080'
env.PORT = port
if (!env.ADVERTISE_URL && address) env.ADVERTISE_URL = `http://${address}:${port}`
// The container's hostname is its id: unique in the fleet, and kept across restarts.
if (env.MEMBER_PREFIX && !env.FRONTEND_ID) env.FRONTEND_ID = `${env.MEMBER_PREFIX}-${os.hostname()}`
const placement = path.join(env.OUTAGE_LAB_DATA_DIR ?? '/data', 'placement.json')
if (!env.CELL && existsSync(placement)) {
  let cell
  try {
    cell = JSON.parse(readFileSync(placement, 'utf8')).cell
  } catch (err) {
    fail(`${placement}: expected JSON {"cell": "<id>"}: ${err.message}`)
  }
  if (typeof cell !== 'string' || !cell) fail(`${placement}: expected a non-empty string at "cell", got ${JSON.stringify(cell)}`)
  env.CELL = cell
}
await import(pathToFileURL(file).href)
