// GET /peer/stream and GET /peer/shardmap: what other fleet members' peer threads read.
import type { FastifyInstance } from 'fastify'
import type { FrontendShardMap } from './shardmap/shard-map.js'

export interface PeerRoutesOptions {
  shardMap: FrontendShardMap
}

export async function peerRoutes(_app: FastifyInstance, _opts: PeerRoutesOptions): Promise<void> {
  throw new Error('peer routes: implementation in progress')
}
