// A free port on 127.0.0.1, chosen by the kernel. The local backend picks a member's port once,
// so a restarted member comes back on the same address (as a replaced server keeps its name).
import net from 'node:net'

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** n distinct free ports (the kernel may hand a just-closed port out again). */
export async function freePorts(n: number, host = '127.0.0.1', avoid: Set<number> = new Set()): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < n) {
    const p = await freePort(host)
    if (!avoid.has(p) && !ports.includes(p)) ports.push(p)
  }
  return ports
}
