// A Kinesis front-end process: env -> shard-map + app -> listen -> join the fleet.
import { createOutbound, serve, type Served } from '../../kit/index.js'
import { EXIT_REMOVED_FROM_FLEET } from '../../kit/outage-facts.js'
import { readConfig } from './config.js'
import { buildApp } from './app.js'
import { createShardMap, peerRoutes, type FrontendShardMap } from './shardmap/index.js'

const cfg = readConfig(process.env)
let shardMap!: FrontendShardMap
let served: Served | undefined

const app = buildApp({
  instance: cfg.frontendId,
  adminToken: cfg.adminToken,
  internalToken: cfg.internalToken,
  logLevel: cfg.logLevel,
  keys: cfg.keys,
  metadataUrl: cfg.metadataUrl,
  throttle: cfg.throttle,
  shardMap: (service) =>
    (shardMap = createShardMap({
      metadataUrl: cfg.metadataUrl,
      fleet: cfg.fleet,
      cell: cfg.cell,
      selfId: cfg.frontendId,
      selfUrl: cfg.advertiseUrl,
      bootstrap: cfg.bootstrap,
      cacheFleet: cfg.cacheFleet,
      learnDelayMs: cfg.learnDelayMs,
      seed: cfg.seed,
      membershipPollMs: cfg.membershipPollMs,
      peerHeartbeatMs: cfg.peerHeartbeatMs,
      retryMs: cfg.shardMapRetryMs,
      threadLimit: cfg.threadLimit,
      enforcement: cfg.enforcement,
      logger: service.app.log,
      metrics: service.metrics,
      dispatcher: createOutbound(service.outboundFaults),
      internalToken: cfg.internalToken,
      onRemovedFromFleet: () => void served?.close('removed from the fleet', EXIT_REMOVED_FROM_FLEET),
    })),
  register: (app, service) => {
    app.register(peerRoutes, { shardMap, metrics: service.metrics })
  },
})

served = await serve(app, { port: cfg.port, host: cfg.host, watchParent: cfg.watchParent })
// Peers and metadata learn this member's URL only now: with PORT=0 the port is known after listen.
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : cfg.port
shardMap.start(cfg.advertiseUrl ?? `http://127.0.0.1:${port}`)
