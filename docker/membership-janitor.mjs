// For a stack started by hand (`docker compose up`): front-end replicas register themselves with
// kinesis/metadata, which keeps a member until someone deletes it. `docker compose up --scale
// kinesis-frontend-main=3` after 8 removes five containers but not their membership, and every
// remaining peer would keep a thread for each of them. This janitor deletes members whose
// heartbeat (every ~1 s) stopped more than STALE_AFTER_MS ago.
// The harness does not run it: it deregisters what it removes, and a paused member must stay a
// member during an experiment, as on the local backend.
// Env: METADATA_URL, FLEETS (main,cloudwatch), STALE_AFTER_MS (15000), INTERVAL_MS (5000),
// OUTAGE_LAB_INTERNAL_TOKEN (metadata's membership routes are internal: every call carries it).
const metadata = (process.env.METADATA_URL ?? 'http://kinesis-metadata:8080').replace(/\/+$/, '')
const credential = process.env.OUTAGE_LAB_INTERNAL_TOKEN ? { 'x-outage-lab-internal': process.env.OUTAGE_LAB_INTERNAL_TOKEN } : {}
const fleets = (process.env.FLEETS ?? 'main,cloudwatch')
  .split(',')
  .map((f) => f.trim())
  .filter(Boolean)
const staleAfterMs = Number(process.env.STALE_AFTER_MS ?? 15_000)
const intervalMs = Number(process.env.INTERVAL_MS ?? 5_000)
for (const [name, v] of [
  ['STALE_AFTER_MS', staleAfterMs],
  ['INTERVAL_MS', intervalMs],
]) {
  if (!Number.isInteger(v) || v < 100) {
    process.stderr.write(`membership-janitor: ${name} must be an integer >= 100, got ${process.env[name]}\n`)
    process.exit(2)
  }
}

const log = (msg, fields = {}) => process.stdout.write(`${JSON.stringify({ time: Date.now(), service: 'membership-janitor', ...fields, msg })}\n`)

async function sweep() {
  for (const fleet of fleets) {
    const res = await fetch(`${metadata}/fleets/${encodeURIComponent(fleet)}/members`, { headers: credential, signal: AbortSignal.timeout(5_000) })
    if (!res.ok) throw new Error(`GET members of ${fleet}: HTTP ${res.status}`)
    const { members = [] } = await res.json()
    const now = Date.now()
    for (const m of members) {
      if (now - (m.lastHeartbeatAtMs ?? m.registeredAtMs ?? now) <= staleAfterMs) continue
      const del = await fetch(`${metadata}/fleets/${encodeURIComponent(fleet)}/members/${encodeURIComponent(m.id)}`, {
        method: 'DELETE',
        headers: credential,
        signal: AbortSignal.timeout(5_000),
      })
      log('removed a member whose heartbeats stopped', { fleet, member: m.id, url: m.url, silentMs: now - m.lastHeartbeatAtMs, status: del.status })
    }
  }
}

const timer = setInterval(() => sweep().catch((err) => log('sweep failed', { err: String(err?.message ?? err) })), intervalMs)
log('listening', { metadata, fleets, staleAfterMs, intervalMs })
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => {
    clearInterval(timer)
    process.exit(0)
  })
