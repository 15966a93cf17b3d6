// One port, two protocols. The stock Kinesis SDK client speaks HTTP/2 with prior knowledge
// (cleartext h2c) while most other clients speak HTTP/1.1, so a listener peeks at the first bytes
// of each connection: the HTTP/2 preface goes to an http2 server, anything else to an http server.
// Both share one request handler (fastify's), through the http2 compatibility API.
import net from 'node:net'
import http from 'node:http'
import http2 from 'node:http2'
import { Duplex } from 'node:stream'

type Handler = (req: any, res: any) => void

const PREFACE = Buffer.from('PRI * HTTP/2.0')

class ReplaySocket extends Duplex {
  readonly socket: net.Socket
  constructor(socket: net.Socket, head: Buffer) {
    super()
    this.socket = socket
    this.push(head)
    socket.on('data', (chunk) => {
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('close', () => this.destroy())
    socket.on('error', (err) => this.destroy(err))
  }
  get remoteAddress() {
    return this.socket.remoteAddress
  }
  get remotePort() {
    return this.socket.remotePort
  }
  get remoteFamily() {
    return this.socket.remoteFamily
  }
  get localAddress() {
    return this.socket.localAddress
  }
  get localPort() {
    return this.socket.localPort
  }
  setTimeout(ms: number, cb?: () => void) {
    this.socket.setTimeout(ms, cb)
    return this
  }
  setNoDelay(noDelay?: boolean) {
    this.socket.setNoDelay(noDelay)
    return this
  }
  setKeepAlive(enable?: boolean, delay?: number) {
    this.socket.setKeepAlive(enable, delay)
    return this
  }
  override _read() {
    this.socket.resume()
  }
  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void) {
    this.socket.write(chunk, encoding, cb)
  }
  // http2 writes a response as several frames at once; one writev instead of a syscall per frame.
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (err?: Error | null) => void) {
    this.socket.cork()
    for (let i = 0; i < chunks.length; i++) this.socket.write(chunks[i].chunk, chunks[i].encoding, i === chunks.length - 1 ? cb : undefined)
    this.socket.uncork()
  }
  override _final(cb: (err?: Error | null) => void) {
    this.socket.end(cb)
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void) {
    this.socket.destroy(err ?? undefined)
    cb(err)
  }
}

export interface DualServer extends net.Server {
  closeAllConnections(): void
  closeIdleConnections(): void
  h1: http.Server
  h2: http2.Http2Server
}

export function createDualServer(handler: Handler, opts: { keepAliveTimeoutMs?: number } = {}): DualServer {
  const h1 = http.createServer(handler)
  h1.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000
  // The inner server never listens itself; 'listening' is what turns on its connection tracking,
  // which closeAllConnections() and closeIdleConnections() rely on.
  h1.emit('listening')
  const h2 = http2.createServer({}, handler)
  const sessions = new Set<http2.ServerHttp2Session>()
  h2.on('session', (s) => {
    sessions.add(s)
    s.on('close', () => sessions.delete(s))
  })

  // Connections that have not sent enough bytes to pick a protocol belong to neither inner server,
  // so neither would close them: without this set, one silent client keeps close() waiting forever.
  const undecided = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy())
    undecided.add(socket)
    socket.once('close', () => undecided.delete(socket))
    // http.Server turns Nagle off for its sockets, http2 does not: with Nagle on, an h2 WINDOW_UPDATE
    // waits for the peer's delayed ACK and any body over the 64 KB initial window costs ~40 ms.
    socket.setNoDelay(true)
    // Wait for enough bytes to tell the protocols apart; a client may send the preface in pieces.
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      const n = Math.min(buffered.length, PREFACE.length)
      const isH2 = buffered.subarray(0, n).equals(PREFACE.subarray(0, n))
      if (isH2 && buffered.length < PREFACE.length) return
      socket.off('data', onData)
      undecided.delete(socket)
      if (isH2) {
        // http2 reads from the native handle, past anything unshifted into the JS stream, so
        // it gets a duplex that replays the bytes already read and then relays the socket.
        h2.emit('connection', new ReplaySocket(socket, buffered))
      } else {
        socket.pause()
        socket.unshift(buffered)
        h1.emit('connection', socket)
        socket.resume()
      }
    }
    socket.on('data', onData)
  }) as DualServer

  server.h1 = h1
  server.h2 = h2
  server.closeAllConnections = () => {
    h1.closeAllConnections()
    for (const s of sessions) s.destroy()
    for (const socket of undecided) socket.destroy()
  }
  server.closeIdleConnections = () => {
    h1.closeIdleConnections()
    for (const s of sessions) s.close()
    for (const socket of undecided) socket.destroy()
  }
  server.on('close', () => {
    h1.close()
    h2.close()
  })
  return server
}
