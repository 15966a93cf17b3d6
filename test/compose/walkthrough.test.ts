// docs/compose.md's walkthrough, run as written against the real engine: the ```sh blocks marked
// `<!-- walkthrough: <claim> -->`, in order, each followed by the check of what its claim (and the
// comments in it) say. `docker compose ...` runs as `docker-compose ...` where only compose v1 is
// installed. A project of the test's own (COMPOSE_PROJECT_NAME), free host ports (every
// OUTAGE_LAB_PORT_* empty) and the test's image (OUTAGE_LAB_IMAGE); `down` at teardown whatever
// happened.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { detectDocker } from '../../harness/platform/compose/engine.js'
import { composeSkip, IMAGE } from './skip.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const DOC = path.join(ROOT, 'docs/compose.md')
const PROJECT = `olab-walk-${process.pid}`
const FLEET = 'kinesis-frontend-main'
/** What the walkthrough claims, in its order; each has its check below. */
const CLAIMS = ['healthy', 'broken', 'still-broken', 'healed', 'down'] as const
type Claim = (typeof CLAIMS)[number]

export function walkthrough(markdown: string): { claim: string; script: string }[] {
  return [...markdown.matchAll(/<!-- walkthrough: ([a-z-]+) -->\n```sh\n([\s\S]*?)```/g)].map((m) => ({ claim: m[1], script: m[2] }))
}

function sh(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  )
}

const lines = (s: string) => s.split('\n').filter(Boolean)
const label = `label=com.docker.compose.project=${PROJECT}`
const containers = async (service?: string) =>
  lines(await sh('docker', ['ps', '-q', '--filter', label, ...(service ? ['--filter', `label=com.docker.compose.service=${service}`] : [])]))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface FrontendHealth {
  id: string
  shard_map_state?: string
  threads?: number
  thread_limit?: number
  error?: string
}

/**
 * Every running front-end's GET /health. Front-ends are not published (AWS keeps them inside its
 * network): asked from the endpoint's container on the project's network, by each replica's
 * short container id (a DNS alias there), in one exec as docs/compose.md shows.
 */
const ASK_FRONTENDS = `Promise.all(process.argv.slice(1).map(async (id) => {
  try { return { id, ...(await (await fetch('http://' + id + ':8080/health', { signal: AbortSignal.timeout(3000) })).json()) } }
  catch (err) { return { id, error: err.message } }
})).then((all) => console.log(JSON.stringify(all)))`

async function frontends(): Promise<FrontendHealth[]> {
  const ids = (await containers(FLEET)).map((id) => id.slice(0, 12))
  const [endpoint] = await containers('kinesis-endpoint-main')
  if (!ids.length) return []
  if (!endpoint) return ids.map((id) => ({ id, error: 'no kinesis-endpoint-main container to ask from' }))
  return JSON.parse(await sh('docker', ['exec', endpoint, 'node', '-e', ASK_FRONTENDS, ...ids])) as FrontendHealth[]
}

/** The customers' per-second lines since a moment: each service's success ratio (null: no call). */
async function customerLines(sinceMs: number): Promise<{ line: string; ok: Record<string, number | null> }[]> {
  const [id] = await containers('customers')
  if (!id) return []
  const out = await sh('docker', ['logs', '--since', String(Math.floor(sinceMs / 1000)), id])
  return lines(out)
    .filter((l) => / t=\d+s /.test(l))
    .map((line) => ({
      line,
      ok: Object.fromEntries(
        [...line.matchAll(/([a-z-]+) \d+ calls\/s {2}ok (\d+%|-)/g)].map((m) => [m[1], m[2] === '-' ? null : Number(m[2].slice(0, -1)) / 100]),
      ),
    }))
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const start = Date.now()
  let last: unknown
  while (Date.now() - start < timeoutMs) {
    try {
      const value = await probe()
      if (value !== undefined) return { value, ms: Date.now() - start }
    } catch (err) {
      last = err
    }
    await sleep(1_000)
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`)
}

const engine = await detectDocker()
const skip = await composeSkip()

t.test('docs/compose.md marks its walkthrough: up, the capacity addition, its removal, the restart, down', async (t) => {
  t.same(
    walkthrough(fs.readFileSync(DOC, 'utf8')).map((b) => b.claim),
    CLAIMS,
  )
})

t.test("docs/compose.md's walkthrough by hand: the outage, no help from removing capacity, a restart heals", { skip }, async (t) => {
  t.setTimeout(15 * 60_000)
  if (!engine.ok) throw new Error('unreachable: skipped without an engine')
  const compose = engine.compose === 'v2' ? 'docker compose' : 'docker-compose'
  const file = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')
  // The file's own defaults (none of its variables from the caller's shell), free host ports, the test's project and image.
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const v of new Set([...file.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]))) delete env[v]
  for (const v of new Set(file.match(/OUTAGE_LAB_PORT_[A-Z0-9_]+/g))) env[v] = ''
  Object.assign(env, { COMPOSE_PROJECT_NAME: PROJECT, OUTAGE_LAB_IMAGE: IMAGE })
  // Where only v1 is installed, `docker compose` is `docker-compose`; every other docker command is itself.
  const prelude = engine.compose === 'v2' ? '' : 'docker() { if [ "$1" = compose ]; then shift; docker-compose "$@"; else command docker "$@"; fi; }\n'
  t.teardown(async () => {
    await new Promise<void>((resolve) => {
      const down = spawn('bash', ['-c', `${compose} down -t 1 --remove-orphans -v`], { cwd: ROOT, env, stdio: 'ignore' })
      const timer = setTimeout(() => down.kill('SIGKILL'), 120_000)
      down.on('exit', () => (clearTimeout(timer), resolve()))
      down.on('error', () => resolve())
    })
  })
  const run = (script: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', prelude + script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (d) => (output = (output + d).slice(-8000)))
      child.stderr.on('data', (d) => (output = (output + d).slice(-8000)))
      const timer = setTimeout(() => child.kill('SIGKILL'), 5 * 60_000)
      child.on('exit', (code) => {
        clearTimeout(timer)
        if (code === 0) resolve()
        else reject(new Error(`walkthrough block failed (exit ${code}):\n${script}\n${output}`))
      })
    })

  const checks: Record<Claim, (since: number) => Promise<void>> = {
    async healthy(since) {
      const unhealthy = async () =>
        (
          await Promise.all(
            (await containers()).map(async (id) =>
              (await sh('docker', ['inspect', '-f', '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', id])).trim(),
            ),
          )
        ).filter((h) => h.split(' ')[1] && h.split(' ')[1] !== 'healthy')
      await until('every health check passing', 60_000, async () => ((await unhealthy()).length === 0 ? true : undefined)).catch(() => {})
      t.same(await unhealthy(), [], 'every service with a health check is healthy')
      const { ms } = await until('4 front-ends with a ready shard-map', 90_000, async () => {
        const f = await frontends()
        return f.length === 4 && f.every((h) => h.shard_map_state === 'ready' && h.threads! <= h.thread_limit!) ? f : undefined
      })
      t.pass(`4 front-ends, every shard-map ready under its thread limit (${ms} ms after up)`)
      const served = await until('a customers line with every service served', 120_000, async () =>
        (await customerLines(since)).find((l) => Object.keys(l.ok).length >= 6 && Object.values(l.ok).every((r) => r !== null && r >= 0.95)),
      )
      t.comment(served.value.line)
      t.pass('the customers are served')
    },
    async broken() {
      const { value, ms } = await until('every front-end of 10 broken', 120_000, async () => {
        const f = await frontends()
        return f.length === 10 && f.every((h) => h.shard_map_state === 'broken') ? f : undefined
      })
      t.pass(`all 10 front-ends broken, ${ms} ms after the scale; threads at most ${Math.max(...value.map((h) => h.threads ?? 0))} of ${value[0].thread_limit}`)
    },
    async 'still-broken'(since) {
      await until('4 front-ends left', 60_000, async () => ((await frontends()).length === 4 ? true : undefined))
      // Long enough for the janitor to delete the removed members (15 s) and for a healing to show.
      await sleep(20_000)
      const f = await frontends()
      t.equal(f.length, 4)
      t.same(
        f.filter((h) => h.shard_map_state !== 'broken').map((h) => h.id),
        [],
        'every remaining front-end still broken 20 s after the removal',
      )
      const failing = (await customerLines(since)).filter((l) => l.ok.kinesis !== undefined && l.ok.kinesis !== null && l.ok.kinesis < 0.5)
      t.ok(failing.length > 0, "the customers' Kinesis calls fail")
      if (failing.length) t.comment(failing.at(-1)!.line)
    },
    async healed(since) {
      const { ms } = await until('every front-end ready again', 120_000, async () => {
        const f = await frontends()
        return f.length === 4 && f.every((h) => h.shard_map_state === 'ready') ? f : undefined
      })
      t.pass(`every front-end ready again, ${ms} ms after the restart returned`)
      const served = await until("a customers line with Kinesis's calls served again", 60_000, async () =>
        (await customerLines(since)).find((l) => l.ok.kinesis !== undefined && l.ok.kinesis !== null && l.ok.kinesis >= 0.95),
      )
      t.comment(served.value.line)
    },
    async down() {
      t.same(lines(await sh('docker', ['ps', '-aq', '--filter', label])), [], 'no container of the project')
      t.same(lines(await sh('docker', ['network', 'ls', '-q', '--filter', label])), [], 'no network of the project')
    },
  }

  for (const block of walkthrough(fs.readFileSync(DOC, 'utf8'))) {
    const claim = block.claim as Claim
    if (!CLAIMS.includes(claim)) throw new Error(`docs/compose.md: walkthrough claim ${claim} has no check in this test`)
    const since = Date.now()
    await run(block.script)
    t.comment(`block "${claim}" ran in ${Date.now() - since} ms`)
    await checks[claim](since)
  }
})
