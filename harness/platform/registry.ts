// Every platform a topology can run on, by the name users give `--platform` (or `--backend`).
// Adding a platform is one folder under harness/platform/ and one line here; the runner, the CLI,
// the journal's type and the suite take their choices from this record. Each platform loads when
// it is used: the CLI's other commands need not pay for Docker's client.
import type { Platform } from './platform.js'

export const PLATFORMS = {
  local: () => import('./local/index.js').then((m) => m.localPlatform as Platform),
  compose: () => import('./compose/index.js').then((m) => m.composePlatform as Platform),
} as const satisfies Record<string, () => Promise<Platform>>

export type PlatformName = keyof typeof PLATFORMS
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[]
export const DEFAULT_PLATFORM: PlatformName = 'local'

export function isPlatformName(name: string): name is PlatformName {
  return Object.hasOwn(PLATFORMS, name)
}

/** The platform of that name; an unknown name is refused with the names there are. */
export function loadPlatform(name: string): Promise<Platform> {
  if (!isPlatformName(name)) return Promise.reject(new UnknownPlatform(name))
  return PLATFORMS[name]()
}

export class UnknownPlatform extends Error {
  readonly code = 'UNKNOWN_PLATFORM'
  constructor(name: string) {
    super(`no platform named ${JSON.stringify(name)}; platforms: ${PLATFORM_NAMES.join(', ')}`)
    this.name = 'UnknownPlatform'
  }
}
