// Header rewriting at the proxy. End-to-end headers pass untouched (SigV4 signs them); hop-by-hop
// headers belong to one connection and are dropped. An HTTP/2 client names the host in
// :authority; the member speaks HTTP/1.1, so it becomes `host` with the client's value, which is
// what the client signed.
import type { IncomingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  // Node answers 100-continue itself before the proxy reads the body; the member needs no second round.
  'expect',
])

export function requestHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in incoming) {
    // HTTP/2 pseudo-headers (:method, :path, :scheme, :authority) start with a colon.
    if (name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue
    const value = incoming[name]
    if (value !== undefined) out[name] = value
  }
  dropConnectionListed(out, incoming.connection)
  if (out.host === undefined) {
    const authority = incoming[':authority']
    if (typeof authority === 'string') out.host = authority
  }
  return out
}

export function responseHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name)) continue
    const value = upstream[name]
    if (value !== undefined) out[name] = value
  }
  dropConnectionListed(out, upstream.connection)
  return out
}

function dropConnectionListed(headers: Record<string, unknown>, connection: string | string[] | undefined): void {
  if (!connection) return
  for (const token of String(connection).split(',')) {
    const name = token.trim().toLowerCase()
    if (name) delete headers[name]
  }
}
