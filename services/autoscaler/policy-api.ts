// The scaling-policy API as customers call it: Application Auto Scaling's PutScalingPolicy,
// DescribeScalingPolicies and DeleteScalingPolicy, reduced to REST paths. AWS signs those calls
// (SigV4, signing name "application-autoscaling"), so every call here is verified the same way and
// with the same keys as the autoscaler's ECS API; an unsigned or badly signed call is refused before
// its handler runs, with the JSON 1.1 errors the ECS API answers (x-amzn-ErrorType + {"__type", "message"}).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AwsErrors, sendError, toAwsError, verifySigV4 } from '../kit/index.js'

/** The signing name of Application Auto Scaling, which the policy API stands for. */
export const POLICY_SIGNING_NAME = 'application-autoscaling'

const JSON_11 = 'application/x-amz-json-1.1'
const EMPTY = Buffer.alloc(0)

/**
 * Makes `scope` (an encapsulated plugin holding the policy routes) take bodies as bytes, verify
 * SigV4 over them, then hand the handlers the parsed JSON. Only the routes in `scope` are affected:
 * the alarm action (/policies/:name/invoke) is internal and stays outside.
 */
export function signedPolicyRoutes(scope: FastifyInstance, keys: Map<string, string>): void {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  scope.setErrorHandler((err, req, reply) => {
    const aws = toAwsError(err)
    if (aws.statusCode >= 500) req.log.error({ err }, 'request failed')
    return sendError(reply, JSON_11, aws)
  })
  scope.addHook('preHandler', async (req: FastifyRequest) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : EMPTY
    verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw }, { keys, service: POLICY_SIGNING_NAME })
    req.body = raw.length === 0 ? undefined : parseJson(raw)
  })
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    throw AwsErrors.SerializationException('Expected a JSON body')
  }
}
