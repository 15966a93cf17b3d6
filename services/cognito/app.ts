// cognito: a subset of AWSCognitoIdentityProviderService (JSON 1.1) for the stock
// @aws-sdk/client-cognito-identity-provider, RS256 tokens with the pool's JWKS served as Cognito
// serves it, and an access-pattern record per call buffered for Kinesis (access-log.ts), whose
// full buffer blocks the call in the 2020 behaviour.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createService, awsApi, isAwsError, PUBLIC, type Operation } from '../kit/index.js'
import { AccessLog, type ShipBatch } from './access-log.js'
import { CognitoErrors } from './errors.js'
import { createCognitoMetrics } from './metrics.js'
import { cognitoOperations } from './operations.js'
import type { UserStore } from './store.js'
import { TokenIssuer, jwks } from './tokens.js'
import type { StreamStatus } from './kinesis-stream.js'

/** Where the access-pattern records go: the Kinesis stream (kinesis-stream.ts) in a process. */
export interface AccessSink {
  ship: ShipBatch
  readonly ready: boolean
  status(): StreamStatus
  start?(): void
  close?(): void
}

export interface CognitoDeps {
  store: UserStore
  /** Accepted SigV4 credentials for the signed (admin) operations. */
  keys: Map<string, string>
  /** The sink, or a factory given the app's logger (the Kinesis client logs through it). */
  accessSink: AccessSink | ((log: FastifyInstance['log']) => AccessSink)
  accessBufferRecords: number
  accessFlushIntervalMs: number
  sustainKinesisErrors: boolean
  /** Token issuer base URL (COGNITO_PUBLIC_URL); default: http://<the request's Host>. */
  publicUrl?: string
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logLevel?: string
  logger?: boolean
  now?: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    cognito: { store: UserStore; accessLog: AccessLog; sink: AccessSink; tokens: TokenIssuer }
  }
}

// Only the end user's own calls travel without SigV4, as the SDK sends them.
const UNSIGNED = ['InitiateAuth', 'GetUser']

export function buildApp(deps: CognitoDeps): FastifyInstance {
  const service = createService({
    name: 'cognito',
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logLevel: deps.logLevel,
    logger: deps.logger,
  })
  const { app } = service
  const metrics = createCognitoMetrics(service.metrics)
  const sink = typeof deps.accessSink === 'function' ? deps.accessSink(app.log) : deps.accessSink
  const accessLog = new AccessLog({
    capacity: deps.accessBufferRecords,
    flushIntervalMs: deps.accessFlushIntervalMs,
    sustainKinesisErrors: deps.sustainKinesisErrors,
    ship: sink.ship,
    ready: () => sink.ready,
    events: {
      ...metrics.accessEvents,
      shipFailed: rateLimited(
        (err: unknown, records: number) => app.log.warn({ records, err: (err as Error)?.message }, 'shipping access patterns failed'),
        metrics.accessEvents.shipFailed,
      ),
    },
  })
  metrics.observe(accessLog, () => sink.ready)
  const tokens = new TokenIssuer(deps.store, deps.now)
  app.decorate('cognito', { store: deps.store, accessLog, sink, tokens })

  service.setHealth(() => ({
    status: 'ok',
    sustainKinesisErrors: deps.sustainKinesisErrors,
    accessBuffer: accessLog.stats(),
    stream: sink.status(),
    userPools: deps.store.poolCount,
  }))

  const issuerBase = (req: FastifyRequest) => deps.publicUrl ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`
  const operations = withAccessRecords(cognitoOperations({ store: deps.store, tokens, issuerBase }), accessLog)
  app.register(awsApi, {
    targetPrefix: 'AWSCognitoIdentityProviderService',
    jsonVersion: '1.1',
    operations,
    keys: deps.keys,
    signingName: 'cognito-idp',
    unsignedOperations: UNSIGNED,
    onCall: metrics.call,
  })

  // Cognito publishes each pool's keys under the issuer: <issuer>/.well-known/jwks.json, public as
  // in AWS (any relying party verifies tokens with them).
  app.get('/:userPoolId/.well-known/jwks.json', PUBLIC, async (req, reply) => {
    const pool = deps.store.findPool((req.params as { userPoolId: string }).userPoolId)
    if (!pool)
      return reply
        .code(404)
        .send(CognitoErrors.ResourceNotFoundException(`User pool ${(req.params as { userPoolId: string }).userPoolId} does not exist.`).toJSON())
    return jwks(pool)
  })
  app.get('/:userPoolId/.well-known/openid-configuration', PUBLIC, async (req, reply) => {
    const pool = deps.store.findPool((req.params as { userPoolId: string }).userPoolId)
    if (!pool)
      return reply
        .code(404)
        .send(CognitoErrors.ResourceNotFoundException(`User pool ${(req.params as { userPoolId: string }).userPoolId} does not exist.`).toJSON())
    const issuer = `${issuerBase(req).replace(/\/+$/, '')}/${pool.id}`
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
      response_types_supported: ['code', 'token'],
    }
  })

  app.addHook('onReady', async () => {
    accessLog.start()
    sink.start?.()
  })
  app.addHook('onClose', async () => {
    await accessLog.close()
    sink.close?.()
    await deps.store.flush()
  })
  return app
}

/**
 * Every call, failed or not, appends its access-pattern record before it answers. In the 2020
 * behaviour that append waits while the buffer is full, so the answer waits too.
 */
function withAccessRecords(operations: Record<string, Operation>, accessLog: AccessLog): Record<string, Operation> {
  const wrapped: Record<string, Operation> = {}
  for (const [name, op] of Object.entries(operations)) {
    wrapped[name] = async (input, ctx) => {
      let outcome = 'OK'
      try {
        return await op(input, ctx)
      } catch (err) {
        outcome = isAwsError(err) ? err.type : 'InternalErrorException'
        throw err
      } finally {
        const wait = accessLog.append(accessRecord(name, outcome, input, ctx.req, String(ctx.reply.getHeader('x-amzn-requestid') ?? '')))
        if (wait) await wait
      }
    }
  }
  return wrapped
}

function accessRecord(operation: string, outcome: string, input: any, req: FastifyRequest, requestId: string) {
  const userPoolId = typeof input?.UserPoolId === 'string' ? input.UserPoolId : undefined
  const clientId = typeof input?.ClientId === 'string' ? input.ClientId : undefined
  const rawUser = input?.Username ?? input?.AuthParameters?.USERNAME
  const username = typeof rawUser === 'string' ? rawUser.slice(0, 128) : undefined
  const record = {
    atMs: Date.now(),
    operation,
    outcome,
    userPoolId,
    clientId,
    username,
    sourceIp: req.ip,
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
    requestId,
  }
  return { data: Buffer.from(JSON.stringify(record)), partitionKey: `${userPoolId ?? clientId ?? '-'}/${username ?? '-'}` }
}

/** Calls `always` every time and `log` at most once a second: an outage repeats the same failure. */
function rateLimited<A extends unknown[]>(log: (...a: A) => void, always?: (...a: A) => void, intervalMs = 1_000): (...a: A) => void {
  let last = 0
  return (...a: A) => {
    always?.(...a)
    const now = Date.now()
    if (now - last >= intervalMs) {
      last = now
      log(...a)
    }
  }
}
