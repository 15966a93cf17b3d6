// Is there a Docker engine, and which compose: v2 (`docker compose`, the CLI plugin) or v1
// (`docker-compose`, standalone)? testcontainers drives either; v1 only through
// `withClientOptions({ executable: { standalone: true } })`. Asked once per process.
import { execFile } from 'node:child_process'

export type ComposeFlavour = 'v2' | 'v1'

export type DockerSupport =
  { ok: true; engineVersion: string; compose: ComposeFlavour; composeVersion: string; cgroups: EngineCgroups } | { ok: false; reason: string }

function run(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: (err ? `${stderr || err.message}` : stdout).trim() })
    })
  })
}

/** How the engine places containers in cgroups (`docker info`): driver cgroupfs|systemd, version 1|2. */
export interface EngineCgroups {
  driver: string
  version: string
}

let cached: Promise<DockerSupport> | undefined

/** Never throws: a machine without Docker gets `{ ok: false, reason }` naming what is missing. */
export function detectDocker(): Promise<DockerSupport> {
  cached ??= (async (): Promise<DockerSupport> => {
    const answer = await run('docker', ['info', '--format', '{{.ServerVersion}} {{.CgroupDriver}} {{.CgroupVersion}}'], 15_000)
    if (!answer.ok || !answer.out) {
      return { ok: false, reason: `no Docker engine answers (docker info: ${firstLine(answer.out) || 'no output'})` }
    }
    const [version, driver = '', cgroupVersion = ''] = firstLine(answer.out).split(' ')
    const info = { out: version }
    const cgroups = { driver, version: cgroupVersion }
    const v2 = await run('docker', ['compose', 'version', '--short'], 15_000)
    if (v2.ok && v2.out) return { ok: true, engineVersion: info.out, compose: 'v2', composeVersion: firstLine(v2.out), cgroups }
    const v1 = await run('docker-compose', ['version', '--short'], 15_000)
    if (v1.ok && v1.out) return { ok: true, engineVersion: info.out, compose: 'v1', composeVersion: firstLine(v1.out), cgroups }
    return { ok: false, reason: `Docker ${info.out} answers but neither \`docker compose\` (v2) nor \`docker-compose\` (v1) is installed` }
  })()
  return cached
}

/** What testcontainers' compose client needs to run the flavour found. */
export function composeExecutable(flavour: ComposeFlavour): { executable?: { standalone: true } } {
  return flavour === 'v1' ? { executable: { standalone: true } } : {}
}

/** The command line a user would type for the flavour (for messages and the exit-time cleanup). */
export function composeCommand(flavour: ComposeFlavour): [string, ...string[]] {
  return flavour === 'v1' ? ['docker-compose'] : ['docker', 'compose']
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim()
}
