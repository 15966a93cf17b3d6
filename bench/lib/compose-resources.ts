// What of compose projects exists on the engine, read through the docker CLI by the label compose
// puts on all it creates: one way for the benchmarks and the tests to see what a run left.
import { execFileSync } from 'node:child_process'
import { RUN_LABEL } from '../../harness/platform/compose/file.js'

export type ResourceKind = 'container' | 'network' | 'volume'

export interface ComposeResource {
  kind: ResourceKind
  project: string
  name: string
}

const LIST: Record<ResourceKind, { args: string[]; name: string }> = {
  container: { args: ['ps', '-a'], name: '{{.Names}}' },
  network: { args: ['network', 'ls'], name: '{{.Name}}' },
  volume: { args: ['volume', 'ls'], name: '{{.Name}}' },
}

/** Every container (any state), network and volume carrying a compose project label, optionally of one project. */
export function composeResources(project?: string): ComposeResource[] {
  const out: ComposeResource[] = []
  for (const kind of Object.keys(LIST) as ResourceKind[]) {
    const filter = project ? ['--filter', `label=com.docker.compose.project=${project}`] : []
    const text = execFileSync('docker', [...LIST[kind].args, ...filter, '--format', `{{.Label "com.docker.compose.project"}} ${LIST[kind].name}`], {
      encoding: 'utf8',
    })
    for (const line of text.split('\n')) {
      const [p, name] = line.split(' ')
      if (p && name) out.push({ kind, project: p, name })
    }
  }
  return out
}

/** The containers (any state) and networks of one compose project, by name. */
export function projectResources(project: string): { containers: string[]; networks: string[] } {
  const all = composeResources(project)
  const names = (kind: ResourceKind) => all.filter((r) => r.kind === kind).map((r) => r.name)
  return { containers: names('container'), networks: names('network') }
}

/**
 * Images built for a run: labelled with its id (RUN_LABEL), or
 * named after its project as compose names what it builds (v1 `<project>_<service>`, v2
 * `<project>-<service>`), so an unlabelled one is seen too.
 */
export function runImages(runId: string, project = `outage-lab-${runId}`): string[] {
  const list = (filter: string) =>
    execFileSync('docker', ['images', '--filter', filter, '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  return [...new Set([`label=${RUN_LABEL}=${runId}`, `reference=${project}_*`, `reference=${project}-*`].flatMap(list))]
}
