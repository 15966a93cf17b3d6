// When the compose tests cannot run, they are skipped with the reason in tap's output: no Docker
// engine answers, no compose is installed, or the image is not built (`make image`).
import { execFile } from 'node:child_process'
import { detectDocker } from '../../harness/platform/compose/engine.js'

export const IMAGE = process.env.OUTAGE_LAB_IMAGE ?? 'outage-lab:latest'

export async function composeSkip(): Promise<string | false> {
  const docker = await detectDocker()
  if (!docker.ok) return docker.reason
  const built = await new Promise<boolean>((resolve) => execFile('docker', ['image', 'inspect', IMAGE], (err) => resolve(!err)))
  if (!built) return `image ${IMAGE} is not built (run make image)`
  return false
}
