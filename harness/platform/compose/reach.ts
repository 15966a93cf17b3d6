// How the harness reaches the internal services docker-compose.yml does not publish (metadata, the
// back-ends, the front-ends: AWS keeps them inside its own network): at each container's own
// address on the project's network. That needs a route from this host to the engine's bridges,
// which a Linux engine in the host's own network namespace gives (its bridge gateway is an
// address of this host). Docker Desktop (the engine in a VM), a rootless engine (its bridges in
// another namespace) and a remote engine give none: the run then publishes its internal services
// on 127.0.0.1 as well, and says so.
import fs from 'node:fs'
import os from 'node:os'
import type { Dockerode } from './docker.js'

/** Set to 1: publish the internal services on 127.0.0.1 even where their addresses are reachable. */
export const PUBLISH_INTERNAL_VARIABLE = 'OUTAGE_LAB_COMPOSE_PUBLISH_INTERNAL'

export type InternalReach = { published: false; how: string } | { published: true; why: string }

export interface ReachFacts {
  platform: string
  /** The engine's default bridge gateway(s), '' or none when it has no bridge. */
  gateways: string[]
  /** Every address of this host, interfaces down or up. */
  hostAddresses: Set<string>
  forced: boolean
}

export function decideReach(f: ReachFacts): InternalReach {
  if (f.forced) return { published: true, why: `${PUBLISH_INTERNAL_VARIABLE}=1` }
  if (f.platform !== 'linux') return { published: true, why: `on ${f.platform} the engine runs in a VM: its container addresses are not routed to this host` }
  const gateways = f.gateways.filter(Boolean)
  if (!gateways.length) return { published: true, why: 'the engine has no default bridge network to route through' }
  const local = gateways.find((g) => f.hostAddresses.has(g))
  if (!local) {
    return {
      published: true,
      why: `the engine's bridge gateway ${gateways.join(', ')} is not an address of this host (Docker Desktop, a rootless or a remote engine): no route to its containers`,
    }
  }
  return { published: false, how: `at their container addresses on the project's network (this host is the engine's bridge gateway ${local})` }
}

/** This host's addresses: the kernel's local routes (interfaces without carrier too, which os.networkInterfaces() skips). */
export function hostAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.add(a.address)
  try {
    // `|-- 172.17.0.1` followed by `/32 host LOCAL`: an address of one of this host's interfaces.
    const trie = fs.readFileSync('/proc/net/fib_trie', 'utf8')
    for (const m of trie.matchAll(/\|-- ([0-9.]+)\n\s+\/32 host LOCAL/g)) out.add(m[1])
  } catch {}
  return out
}

export async function internalReach(d: Dockerode, env: NodeJS.ProcessEnv = process.env): Promise<InternalReach> {
  let gateways: string[] = []
  try {
    const bridge = await d.getNetwork('bridge').inspect()
    gateways = (bridge.IPAM?.Config ?? []).map((c) => c.Gateway ?? '')
  } catch {}
  return decideReach({ platform: process.platform, gateways, hostAddresses: hostAddresses(), forced: env[PUBLISH_INTERNAL_VARIABLE] === '1' })
}
