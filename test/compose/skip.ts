// What the compose tests share: when they cannot run, they are skipped with the reason in tap's
// output (no Docker engine answers, no compose is installed, or the image is not built: `make
// image`); and what of a compose project exists on the engine.
import { execFileSync } from 'node:child_process'
import { composePlatform, DEFAULT_IMAGE } from '../../harness/platform/compose/index.js'

export const IMAGE = DEFAULT_IMAGE

export async function composeSkip(): Promise<string | false> {
  return (await composePlatform.unavailable({ image: IMAGE })) ?? false
}

/** The containers (any state) and networks of a compose project, by the label compose puts on them. */
export function projectResources(project: string): { containers: string[]; networks: string[] } {
  const label = `label=com.docker.compose.project=${project}`
  const lines = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean)
  return { containers: lines(['ps', '-aq', '--filter', label]), networks: lines(['network', 'ls', '-q', '--filter', label]) }
}
