// Nobody beyond the machine: every socket a process of a local run listens on (or binds, for UDP)
// is on 127.0.0.1 or ::1. Read from the kernel, not from the URLs the harness hands out: each
// process of the run (found by its run marker, children of services included) is matched to its
// sockets through /proc/<pid>/fd and /proc/net/{tcp,tcp6,udp,udp6}.
import t from 'tap'
import fs from 'node:fs'
import { localPlatform } from '../../harness/platform/local/index.js'
import { processesOfRun } from '../../harness/platform/local/run-state.js'
import { systemTopology, DOWNSTREAM } from '../../harness/topology/system.js'

const LISTEN = '0A'
const UNCONNECTED = '07'

/** A /proc/net hex address as text: 0100007F:1F90 -> 127.0.0.1:8080 (v4), v6 as 8 groups. */
function address(hex: string): { ip: string; port: number } {
  const [ipHex, portHex] = hex.split(':')
  const port = parseInt(portHex, 16)
  if (ipHex.length === 8) {
    const b = Buffer.from(ipHex, 'hex').reverse()
    return { ip: [...b].join('.'), port }
  }
  // Four little-endian 32-bit words.
  const words = ipHex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse())
  const b = Buffer.concat(words)
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16))
  return { ip: groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::'), port }
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '0:0:0:0:0:0:0:1'])

/** Sockets bound on this machine, by inode: TCP ones in LISTEN, UDP ones bound. */
function boundSockets(): Map<string, { proto: string; ip: string; port: number }> {
  const out = new Map<string, { proto: string; ip: string; port: number }>()
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = readOr(`/proc/net/${proto}`)
    if (text === undefined) continue
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      const state = f[3]
      if (proto.startsWith('tcp') ? state !== LISTEN : state !== UNCONNECTED) continue
      out.set(f[9], { proto, ...address(f[1]) })
    }
  }
  return out
}

function socketInodes(pid: number): string[] {
  const inodes: string[] = []
  let fds: string[]
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`)
  } catch {
    return inodes
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.push(m[1])
    } catch {}
  }
  return inodes
}

t.test("the kernel's socket addresses read as the test reads them", async (t) => {
  t.same(address('0100007F:1F90'), { ip: '127.0.0.1', port: 8080 })
  t.same(address('00000000:0050'), { ip: '0.0.0.0', port: 80 })
  t.same(address('00000000000000000000000001000000:0050'), { ip: '::1', port: 80 })
  t.notOk(LOOPBACK.has(address('00000000000000000000000000000000:0050').ip), ':: (every address) is not loopback')
})

t.test('on the local platform every socket of a run listens on 127.0.0.1 or ::1 only', async (t) => {
  const topo = await localPlatform.start(
    systemTopology({ frontends: 2, threadLimit: 64, backends: 2, learnDelayMs: 0, bootstrap: 'peers', seed: 1, services: [...DOWNSTREAM] }),
    { runDir: t.testdir(), signals: false },
  )
  t.teardown(() => topo.stop())
  const pids = processesOfRun(topo.runId)
  t.ok(pids.length >= topo.services().length, `${pids.length} processes of the run`)
  const bound = boundSockets()
  const seen: string[] = []
  const outside: string[] = []
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) {
      const s = bound.get(inode)
      if (!s) continue
      seen.push(`${pid} ${s.proto} ${s.ip}:${s.port}`)
      if (!LOOPBACK.has(s.ip))
        outside.push(`pid ${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, 3).join(' ')}): ${s.proto} ${s.ip}:${s.port}`)
    }
  }
  const names = topo.services().map((s) => s.name)
  t.ok(seen.length >= names.length, `every service listens somewhere (${seen.length} sockets of ${names.length} services)`)
  t.same(outside, [], 'no socket beyond loopback')
  t.comment(`${seen.length} listening sockets of ${pids.length} processes, all on loopback`)
})
