// What other members' peer threads read from this front-end (docs/internals.md):
//   GET /peer/stream?from=<id>  NDJSON gossip: a hello with this member's shard-map version, a line
//                               on every version change, a heartbeat every peerHeartbeatMs.
//   GET /peer/authoritative     the authoritative map this member last read (the shard-map cache
//                               fleet of remediation 5 serves it to front-ends of other fleets).
//   GET /peer/shardmap          this member's whole shard-map (bootstrap from peers), NDJSON: a
//                               header line, then one checksummed entry per line (map-document.ts).
// Both are served whatever the map's state: a broken server still gossips (as at AWS, where the
// fleet kept talking while no server could route), and a building one hands out what it read
// from metadata, so a whole fleet cold-starting from peers cannot wait on itself.
import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { AwsErrors } from '../../kit/errors.js'
import type { FrontendShardMap } from './shardmap/shard-map.js'
import type { PeerGossip } from './shardmap/peer-protocol.js'
import type { Registry } from 'prom-client'

export interface PeerRoutesOptions {
  shardMap: FrontendShardMap
  /** Registry for kinesis_frontend_peer_streams_served (optional). */
  metrics?: Registry
}

export async function peerRoutes(app: FastifyInstance, opts: PeerRoutesOptions): Promise<void> {
  const map = opts.shardMap
  const open = new Map<string, number>()
  if (opts.metrics) {
    new Gauge({
      name: 'kinesis_frontend_peer_streams_served',
      help: 'Open GET /peer/stream connections (other members reading this one)',
      registers: [opts.metrics],
      collect() {
        this.set([...open.values()].reduce((a, b) => a + b, 0))
      },
    })
  }

  app.get('/peer/stream', async (req, reply) => {
    const from = (req.query as Record<string, unknown>).from
    if (typeof from !== 'string' || from === '')
      throw AwsErrors.InvalidArgumentException('GET /peer/stream: query parameter from (the reading member id) is required')
    const out = new PassThrough()
    const send = (line: PeerGossip) => out.write(JSON.stringify(line) + '\n')
    const member = map.selfId
    send({ kind: 'hello', member, version: map.version, atMs: Date.now(), heartbeatMs: map.peerHeartbeatMs })
    let seq = 0
    const beat = setInterval(() => send({ kind: 'heartbeat', member, version: map.version, atMs: Date.now(), seq: seq++ }), map.peerHeartbeatMs)
    const unsubscribe = map.onVersion((version) => send({ kind: 'version', member, version, atMs: Date.now() }))
    open.set(from, (open.get(from) ?? 0) + 1)
    // The response's 'close' fires when the reader goes away or the server closes.
    reply.raw.once('close', () => {
      clearInterval(beat)
      unsubscribe()
      const n = (open.get(from) ?? 1) - 1
      if (n > 0) open.set(from, n)
      else open.delete(from)
      out.end()
    })
    reply.header('content-type', 'application/x-ndjson').header('cache-control', 'no-store')
    return reply.send(out)
  })

  // A member of the shard-map cache fleet (remediation 5) hands the authoritative map it read to
  // front-ends that no longer build one themselves.
  app.get('/peer/authoritative', async (_req, reply) => {
    const m = map.authoritative()
    if (!m) throw AwsErrors.ServiceUnavailable('this member has not read the shard-map yet')
    reply.header('cache-control', 'no-store')
    return m
  })

  app.get('/peer/shardmap', async (_req, reply) => {
    const ndjson = map.peerDocumentNdjson()
    reply.header('content-type', 'application/x-ndjson')
    return reply.send(ndjson)
  })
}
