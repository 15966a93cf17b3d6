// The front-end's shard-map: public surface for app.ts / main.ts.
//
//   const shardMap = createShardMap({ metadataUrl, fleet, cell, selfId, bootstrap, ..., logger: app.log, metrics })
//   app.register(peerRoutes, { shardMap })        // GET /peer/stream, GET /peer/shardmap
//   await serve(app, ...)                          // listen first: peers must reach us
//   shardMap.start(advertiseUrl)                   // registers in metadata, polls, spawns peer threads
//   ... shardMap.requireUsable() in every data-plane call; await shardMap.close() on shutdown.
//
// createShardMap registers these series on opts.metrics (do not register them again):
// kinesis_frontend_threads, _thread_limit, _thread_limit_enforcement{enforcement}, _peer_threads,
// _peers, _pending_peers, _shard_map_state{state}, _shard_map_version,
// _thread_create_failures_total, _peer_bootstrap_seconds{phase}. stats() carries the same values
// for /health (threads, thread_limit, thread_limit_enforcement, shard_map_state, peers, peer_threads).
export { createShardMap, type FrontendShardMap } from './shard-map.js'
export type { PeerMapDocument } from './map-document.js'
export type { PeerGossip } from './peer-protocol.js'
export type { ShardMapOptions, ShardMapLogger } from './options.js'
export type { ShardMap, ShardMapState, ShardMapStats, StreamInfo, ShardInfo, ThreadLimitEnforcement } from './types.js'
export { PROCESS_CAP_CODE } from './thread-limit.js'
export { peerRoutes, type PeerRoutesOptions } from '../peer-routes.js'
