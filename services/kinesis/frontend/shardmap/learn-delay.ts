// How long a front-end waits before it learns a member that joined after its initial snapshot
// (the compressed "up to an hour" of the incident). Seeded by seed + self + peer, so a run with
// the same seed learns every peer at the same moment, while different servers learn the same new
// member at different moments, all within [0, learnDelayMs].
import { seededRandom } from '../../../kit/prng.js'

export function learnDelayMs(seed: number | string, selfId: string, peerId: string, maxMs: number): number {
  if (maxMs <= 0) return 0
  return Math.round(seededRandom(`${seed}/${selfId}/${peerId}/learn`)() * maxMs)
}
