// What the compose platform does through the engine itself rather than through compose: the
// shapes of dockerode it uses, container logs, the placement file a replica reads at start, and
// the removal of everything that carries the project's label (at teardown, at process exit, and by
// a detached watcher when the harness is SIGKILLed).
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pack } from 'tar-stream'
import { RUN_LABEL } from './file.js'

// The few shapes of testcontainers and dockerode this platform uses (dockerode's own types are a
// transitive dependency; not imported, so the build does not depend on their presence).
export interface DockerContainer {
  start(): Promise<unknown>
  stop(opts: { t: number }): Promise<unknown>
  restart(opts: { t: number }): Promise<unknown>
  kill(opts: { signal: string }): Promise<unknown>
  pause(): Promise<unknown>
  unpause(): Promise<unknown>
  remove(opts: { force: boolean; v: boolean }): Promise<unknown>
  update(opts: { PidsLimit: number }): Promise<unknown>
  putArchive(tar: Buffer, opts: { path: string }): Promise<unknown>
  logs(opts: { stdout: boolean; stderr: boolean; tail?: number }): Promise<unknown>
  inspect(): Promise<ContainerInfo>
}
export interface ContainerInfo {
  State?: { Pid?: number }
  NetworkSettings?: {
    Ports?: Record<string, { HostIp: string; HostPort: string }[] | null>
    Networks?: Record<string, { Aliases?: string[] | null; IPAddress?: string }>
  }
}
export interface ContainerSummary {
  Id: string
  State: string
  Labels: Record<string, string>
}
export interface Dockerode {
  getContainer(id: string): DockerContainer
  getImage(name: string): { inspect(): Promise<unknown>; remove(o?: { force?: boolean }): Promise<unknown> }
  getNetwork(id: string): {
    connect(o: object): Promise<unknown>
    disconnect(o: object): Promise<unknown>
    remove(): Promise<unknown>
    inspect(): Promise<{ IPAM?: { Config?: { Gateway?: string }[] | null } }>
  }
  listContainers(o: { all: boolean; filters: object }): Promise<ContainerSummary[]>
  listNetworks(o: { filters: object }): Promise<{ Id: string }[]>
  listImages(o: { filters: object }): Promise<{ Id: string }[]>
  getEvents(o: { filters: object }): Promise<NodeJS.ReadableStream & { destroy?: () => void }>
}
export interface RuntimeClient {
  container: { dockerode: Dockerode }
  compose: { down(options: unknown, down: { timeout: number; removeVolumes: boolean }): Promise<void> }
}
export interface StartedComposeEnvironment {
  down(options?: { timeout?: number; removeVolumes?: boolean }): Promise<unknown>
}

/** The host port a container's port is published on, 127.0.0.1's first. */
export function publishedPort(info: ContainerInfo, port: number): number | undefined {
  const bindings = info.NetworkSettings?.Ports?.[`${port}/tcp`]
  const binding = bindings?.find((b) => b.HostIp === '127.0.0.1') ?? bindings?.[0]
  return binding?.HostPort ? Number(binding.HostPort) : undefined
}

/** The container's address on its network (undefined when it is on none: partitioned, or not started). */
export function containerAddress(info: ContainerInfo): string | undefined {
  return Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress || undefined
}

/** Where a replica finds its placement (docker/entry.mjs): the image's data directory. */
const PLACEMENT_DIR = '/data'
const PLACEMENT_FILE = 'placement.json'

/** Writes `{"cell": …}` into a created container, where docker/entry.mjs reads it at start. */
export async function writePlacement(c: DockerContainer, cell: string | undefined): Promise<void> {
  const tar = pack()
  tar.entry({ name: PLACEMENT_FILE, mode: 0o644, uid: 1000, gid: 1000 }, `${JSON.stringify({ cell })}\n`)
  tar.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of tar) chunks.push(chunk as Buffer)
  await c.putArchive(Buffer.concat(chunks), { path: PLACEMENT_DIR })
}

/** A container's log, stdout and stderr, as text ('' when it cannot be read). */
export async function containerLog(d: Dockerode, id: string, tail?: number): Promise<string> {
  try {
    const buf = (await d.getContainer(id).logs({ stdout: true, stderr: true, ...(tail !== undefined ? { tail } : {}) })) as Buffer
    return demux(buf)
  } catch {
    return ''
  }
}

/** docker logs of a container without a TTY: frames of [stream, 0, 0, 0, size (BE u32)] + payload. */
export function demux(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf)
  const parts: Buffer[] = []
  let i = 0
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4)
    parts.push(buf.subarray(i + 8, i + 8 + size))
    i += 8 + size
  }
  return Buffer.concat(parts).toString('utf8')
}

const projectLabel = (project: string) => `com.docker.compose.project=${project}`

/** Every container and network of the project still on the engine, one line each. */
export async function projectResources(d: Dockerode, project: string): Promise<string[]> {
  const filters = { label: [projectLabel(project)] }
  const containers = await d.listContainers({ all: true, filters })
  const networks = await d.listNetworks({ filters })
  return [...containers.map((c) => `container ${c.Id.slice(0, 12)}`), ...networks.map((n) => `network ${n.Id.slice(0, 12)}`)]
}

/** Removes every container and network of the project that compose left (a failed down, a container it no longer knows). */
export async function removeProject(d: Dockerode, project: string): Promise<void> {
  const filters = { label: [projectLabel(project)] }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const left = await d.listContainers({ all: true, filters })
      await Promise.all(
        left.map((c) =>
          d
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => {}),
        ),
      )
      const nets = await d.listNetworks({ filters })
      await Promise.all(
        nets.map((n) =>
          d
            .getNetwork(n.Id)
            .remove()
            .catch(() => {}),
        ),
      )
      if (left.length === 0 && nets.length === 0) return
    } catch {}
  }
}

const runImageLabel = (runId: string) => `${RUN_LABEL}=${runId}`

/** Images built for the run (a customer service's build context), removed with it: each run builds its own. */
export async function removeRunImages(d: Dockerode, runId: string): Promise<void> {
  try {
    const images = await d.listImages({ filters: { label: [runImageLabel(runId)] } })
    for (const i of images)
      await d
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => {})
  } catch {}
}

/** The same, synchronously: the last resort when the process exits without a teardown. */
export function removeProjectSync(project: string, runId?: string): void {
  const label = `label=${projectLabel(project)}`
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', label], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' })
  const nets = spawnSync('docker', ['network', 'ls', '-q', '--filter', label], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []
  if (nets.length) spawnSync('docker', ['network', 'rm', ...nets], { stdio: 'ignore' })
  if (!runId) return
  const images =
    spawnSync('docker', ['images', '-q', '--filter', `label=${runImageLabel(runId)}`], { encoding: 'utf8' })
      .stdout?.split('\n')
      .filter(Boolean) ?? []
  if (images.length) spawnSync('docker', ['rmi', '-f', ...new Set(images)], { stdio: 'ignore' })
}

/**
 * A detached shell that outlives a SIGKILLed harness: once the harness pid is gone it removes
 * every container and network of the project and the images built for the run, and again 5 and 10 s later. Returns its pid; SIGTERM it after a normal teardown.
 */
export function startProjectReaper(project: string, runId: string, logFile: string): number | undefined {
  const label = `label=${projectLabel(project)}`
  const images = `label=${runImageLabel(runId)}`
  // Swept three times, 5 s apart: the harness's own `create` dies with it (dies-with-parent.ts),
  // but a call it had sent to the engine may still land, and where that guard is missing (no
  // setpriv) the create goes on after the harness died.
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    'for sweep in 1 2 3; do',
    `  ids=$(docker ps -aq --filter "${label}"); [ -n "$ids" ] && docker rm -f $ids`,
    `  nets=$(docker network ls -q --filter "${label}"); [ -n "$nets" ] && docker network rm $nets`,
    `  imgs=$(docker images -q --filter "${images}" | sort -u); [ -n "$imgs" ] && docker rmi -f $imgs`,
    '  [ $sweep = 3 ] || sleep 5',
    'done',
    'exit 0',
  ].join('\n')
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const log = fs.openSync(logFile, 'a')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) }
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', log, log], env })
  fs.closeSync(log)
  child.unref()
  return child.pid
}

/** The service image is not built. */
export class MissingImage extends Error {
  readonly code = 'MISSING_IMAGE'
  constructor(image: string) {
    super(`image ${image} is not built; run \`make image\` (it builds the base image too when none can be pulled)`)
    this.name = 'MissingImage'
  }
}

/** Takes a container off every network it is on; returns what it had, for `reconnect`. */
export async function disconnectAll(d: Dockerode, id: string): Promise<{ network: string; aliases: string[] }[]> {
  const info = await d.getContainer(id).inspect()
  const nets = Object.entries(info.NetworkSettings?.Networks ?? {}).map(([network, ep]) => ({
    network,
    aliases: (ep.Aliases ?? []).filter((a) => !id.startsWith(a)),
  }))
  for (const { network } of nets) await d.getNetwork(network).disconnect({ Container: id, Force: true })
  return nets
}

export async function reconnect(d: Dockerode, id: string, nets: { network: string; aliases: string[] }[]): Promise<void> {
  for (const { network, aliases } of nets) await d.getNetwork(network).connect({ Container: id, EndpointConfig: { Aliases: aliases } })
}

/** Copies each container's log to `<dir>/<name>.log`. */
export async function saveLogs(d: Dockerode, containers: { name: string; containerId?: string }[], dir: string): Promise<void> {
  await Promise.all(
    containers.map(async (m) => {
      if (!m.containerId) return
      const log = await containerLog(d, m.containerId)
      try {
        fs.writeFileSync(path.join(dir, `${m.name}.log`), log)
      } catch {}
    }),
  )
}
