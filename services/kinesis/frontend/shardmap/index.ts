// The front-end's shard-map: public surface for app.ts / main.ts.
//
//   const shardMap = createShardMap({ metadataUrl, fleet, cell, selfId, bootstrap, ..., logger: app.log, metrics })
//   app.register(peerRoutes, { shardMap })        // GET /peer/stream, GET /peer/shardmap
//   await serve(app, ...)                          // listen first: peers must reach us
//   shardMap.start(advertiseUrl)                   // registers in metadata, polls, spawns peer threads
//   ... shardMap.requireUsable() in every data-plane call; await shardMap.close() on shutdown.
export { createShardMap, type FrontendShardMap, type PeerMapDocument, type PeerGossip } from './shard-map.js'
export type { ShardMapOptions, ShardMapLogger } from './options.js'
export type { ShardMap, ShardMapState, ShardMapStats, StreamInfo, ShardInfo, ThreadLimitEnforcement } from './types.js'
export { peerRoutes, type PeerRoutesOptions } from '../peer-routes.js'
