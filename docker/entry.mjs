// The image's one entry: `node /app/docker/entry.mjs <kind>` runs the service of that kind
// ("kinesis-frontend" -> dist/services/kinesis/frontend/main.js, "cognito" ->
// dist/services/cognito/main.js) in this same process, after filling in what only the container
// knows about itself:
//   ADVERTISE_URL  http://<this container's IPv4>:$PORT, the address other containers reach
//                  (127.0.0.1 would name the caller's own container)
//   FRONTEND_ID    <MEMBER_PREFIX>-<n> for a replica of a scaled fleet, n being compose's replica
//                  number read back from Docker's DNS (the container's name), so members keep
//                  the local backend's names and a restarted replica rejoins under its own name
//   CELL           cell-<ceil(n / CELL_SIZE)> when the fleet is cellular
// Nothing else: no shell in the image, no wrapper process, so the service is PID 1, receives
// SIGTERM itself (the kit's serve() closes on it) and is the only task counted by pids_limit.
import { promises as dns } from 'node:dns'
import { existsSync } from 'node:fs'
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
  if (!/^[a-z][a-z0-9-]*$/.test(kind ?? '')) fail(`expected a service kind as argument or OUTAGE_LAB_SERVICE (e.g. kinesis-frontend, cognito), got ${JSON.stringify(kind)}`)
  const rel = kind.startsWith('kinesis-') ? `kinesis/${kind.slice('kinesis-'.length)}` : kind
  const file = path.join(app, 'dist', 'services', rel, 'main.js')
  if (!existsSync(file)) fail(`no service of kind ${JSON.stringify(kind)} in this image (${file} is missing)`)
  return file
}

function ownAddress() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

/**
 * Compose's replica number: the container's name is `<project>_<service>_<n>` (v1) or `-<n>` (v2).
 * Docker's DNS may not know a container in the first moments after it (re)starts: ask again for a
 * while rather than join the fleet under a second name.
 */
async function replicaNumber(address, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const [name] = await dns.reverse(address)
      const m = /[-_](\d+)$/.exec((name ?? '').split('.')[0])
      if (m) return Number(m[1])
    } catch {}
    if (Date.now() > deadline) return undefined
    await new Promise((r) => setTimeout(r, 200))
  }
}

const file = entryOf(process.argv[2] ?? env.OUTAGE_LAB_SERVICE)
const address = ownAddress()
const port = env.PORT ?? '8080'
env.PORT = port
if (!env.ADVERTISE_URL && address) env.ADVERTISE_URL = `http://${address}:${port}`
if (env.MEMBER_PREFIX && !env.FRONTEND_ID) {
  const n = address ? await replicaNumber(address) : undefined
  if (n === undefined) process.stderr.write(`outage-lab entry: replica number unknown (no DNS name for ${address}); member id is the hostname\n`)
  env.FRONTEND_ID = n === undefined ? `${env.MEMBER_PREFIX}-${os.hostname()}` : `${env.MEMBER_PREFIX}-${n}`
  const cellSize = Number(env.CELL_SIZE)
  if (n !== undefined && !env.CELL && Number.isInteger(cellSize) && cellSize > 0) env.CELL = `cell-${Math.ceil(n / cellSize)}`
}
await import(pathToFileURL(file).href)
