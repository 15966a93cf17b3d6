// What the compose tests share: when they cannot run, they are skipped with the reason in tap's
// output (no Docker engine answers, no compose is installed, or the image is not built: `make
// image`); and what of a compose project exists on the engine.
import { composePlatform, DEFAULT_IMAGE } from '../../harness/platform/compose/index.js'

export const IMAGE = DEFAULT_IMAGE

export async function composeSkip(): Promise<string | false> {
  return (await composePlatform.unavailable({ image: IMAGE })) ?? false
}

export { projectResources, runImages } from '../../bench/lib/compose-resources.js'
