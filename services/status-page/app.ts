// status-page: the Service Health Dashboard. A server-rendered page and a JSON API of component
// status and posted updates, with two ways to post: the primary path (an operator signed in through
// Cognito, whose token is verified against Cognito's JWKS) and the backup path (a local operator
// key, no Cognito). In 2020 the primary path could not post while Cognito was down.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createService, createOutbound, toAwsError, PUBLIC } from '../kit/index.js'
import { DEFAULT_COMPONENTS, componentStates } from './components.js'
import { PostRejected, Rejections } from './errors.js'
import { operatorTokenVerifier } from './operator-token.js'
import { backupKeyCheck } from './backup-key.js'
import { statusPageMetrics } from './metrics.js'
import { renderPage } from './page.js'
import { postBody } from './validate.js'
import type { UpdateLog, PostingPath, UpdateDraft } from './updates.js'

export interface StatusPageDeps {
  log: UpdateLog
  /** Base URL of Cognito; operator tokens must be issued by one of its user pools. */
  cognitoUrl: string
  operatorPoolId?: string
  operatorClientId?: string
  jwksTimeoutMs?: number
  jwksCacheMs?: number
  /** The backup path's key; without one the backup path answers 403. */
  operatorKey?: string
  components?: readonly string[]
  title?: string
  /** <meta http-equiv="refresh"> of the page, in seconds (0: none). */
  refreshSeconds?: number
  now?: () => number
  adminToken?: string
  /** OUTAGE_LAB_INTERNAL_TOKEN: demanded on internal routes, sent on calls to the lab's own services. */
  internalToken?: string
  logger?: boolean
  logLevel?: string
}

export function buildApp(deps: StatusPageDeps): FastifyInstance {
  const svc = createService({
    name: 'status-page',
    adminToken: deps.adminToken,
    internalToken: deps.internalToken,
    logger: deps.logger,
    logLevel: deps.logLevel,
    bodyLimit: 64 * 1024,
  })
  const { app } = svc
  const { log } = deps
  const now = deps.now ?? Date.now
  const components = deps.components ?? DEFAULT_COMPONENTS
  const title = deps.title ?? 'Service Health Dashboard'
  const metrics = statusPageMetrics(svc.metrics, log)
  const jwksTimeoutMs = deps.jwksTimeoutMs ?? 2_000
  const outbound = createOutbound(svc.outboundFaults, { timeoutMs: jwksTimeoutMs, connections: 8 })
  const verifyOperator = operatorTokenVerifier({
    cognitoUrl: deps.cognitoUrl,
    poolId: deps.operatorPoolId,
    clientId: deps.operatorClientId,
    jwksTimeoutMs,
    jwksCacheMs: deps.jwksCacheMs ?? 0,
    dispatcher: outbound,
  })
  const checkBackupKey = backupKeyCheck(deps.operatorKey)
  svc.setHealth(() => ({ status: 'ok', updates: log.size, backupPath: deps.operatorKey ? 'enabled' : 'disabled', cognitoUrl: deps.cognitoUrl }))
  app.addHook('onClose', async () => {
    await log.close()
    await outbound.close()
  })

  // The status page is for everybody; posting has its own credentials (a Cognito token, the operator key).
  app.get('/', PUBLIC, async (_req, reply) => {
    metrics.pageViewed()
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      // No script runs on this page, whatever a poster wrote.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
    return renderPage({
      title,
      components: componentStates(components, log.list()),
      updates: log.list(),
      nowMs: now(),
      refreshSeconds: deps.refreshSeconds ?? 30,
    })
  })

  app.get('/api/status', PUBLIC, async (_req, reply) => {
    reply.header('cache-control', 'no-store')
    return { generatedAt: new Date(now()).toISOString(), components: componentStates(components, log.list()), updates: [...log.list()].reverse() }
  })

  const post = async (path: PostingPath, body: unknown, operator: string, req: FastifyRequest) => {
    const draft: UpdateDraft = { ...postBody(body, components), path, operator }
    let update
    try {
      update = await log.append(draft)
    } catch (err) {
      req.log.error({ err }, 'update not stored')
      throw Rejections.storage((err as Error).message)
    }
    metrics.posted(path, update.postedAtMs)
    req.log.info({ update: update.id, path, operator, component: update.component, status: update.status }, 'update posted')
    return update
  }

  app.register(
    async (api) => {
      // Every refusal of a post is counted by path and reason, bad JSON bodies included.
      api.setErrorHandler((err, req, reply) => {
        const rejection = err instanceof PostRejected ? err : bodyError(err)
        const path: PostingPath = req.routeOptions.url?.includes('/backup/') ? 'backup' : 'primary'
        metrics.failed(path, rejection?.reason ?? 'storage')
        const aws = rejection ?? toAwsError(err)
        if (aws.statusCode >= 500 && aws.statusCode !== 503) req.log.error({ err }, 'post failed')
        else req.log.info({ path, reason: rejection?.reason, message: aws.message }, 'post refused')
        reply.code(aws.statusCode).header('content-type', 'application/json').send(aws.toJSON())
      })

      api.post('/updates', PUBLIC, async (req, reply) => {
        const operator = await verifyOperator(req.headers.authorization)
        reply.code(201)
        return post('primary', req.body, operator.name, req)
      })

      api.post('/backup/updates', PUBLIC, async (req, reply) => {
        checkBackupKey(req.headers['x-operator-key'])
        reply.code(201)
        return post('backup', req.body, 'backup-key', req)
      })
    },
    { prefix: '/api' },
  )

  return app
}

/** fastify's own body errors, said in the poster's terms. */
function bodyError(err: unknown): PostRejected | undefined {
  const code = (err as { code?: string })?.code
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return Rejections.invalid('send the update as JSON (content-type: application/json)')
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return Rejections.invalid('the body is empty: expected {"message": "..."}')
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err as Error)?.name === 'SyntaxError')
    return Rejections.invalid(`the body is not valid JSON: ${(err as Error).message}`)
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PostRejected('invalid_request', 'ValidationException', 413, 'the body is larger than 64 KiB')
  return undefined
}
