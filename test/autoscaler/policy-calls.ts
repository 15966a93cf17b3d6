// Calls of the scaling-policy API as a customer makes them: SigV4-signed (signing name
// application-autoscaling, as Application Auto Scaling's calls are) with the test's credentials,
// through inject() or over a real port.
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { signRequest, type SigningCredentials } from '../../services/kit/index.js'
import { POLICY_SIGNING_NAME } from '../../services/autoscaler/policy-api.js'
import { CREDENTIALS } from '../helpers/spawn.js'

type Method = 'GET' | 'POST' | 'DELETE'

export interface PolicyCallOptions {
  credentials?: SigningCredentials
  /** The signing name of the credential scope; default application-autoscaling. */
  service?: string
  unsigned?: boolean
}

async function headersFor(method: Method, url: string, body: string | undefined, opts: PolicyCallOptions): Promise<Record<string, string>> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
  if (opts.unsigned) return { host: new URL(url).host, ...headers }
  return signRequest(
    { method, url, headers, body },
    { credentials: opts.credentials ?? CREDENTIALS, region: 'us-east-1', service: opts.service ?? POLICY_SIGNING_NAME },
  )
}

/** A policy call through app.inject(), signed unless `unsigned`. */
export async function injectPolicy(app: FastifyInstance, method: Method, path: string, payload?: unknown, opts: PolicyCallOptions = {}) {
  const body = payload === undefined ? undefined : JSON.stringify(payload)
  const headers = await headersFor(method, `http://localhost${path}`, body, opts)
  const res = await app.inject({ method, url: path, headers, payload: body })
  return { status: res.statusCode, type: res.headers['x-amzn-errortype'], body: res.json() }
}

/** A signed policy call over HTTP to `baseUrl` (a spawned autoscaler). */
export async function requestPolicy(baseUrl: string, method: Method, path: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const body = payload === undefined ? undefined : JSON.stringify(payload)
  const headers = await headersFor(method, `${baseUrl}${path}`, body, {})
  const res = await request(`${baseUrl}${path}`, { method, headers, body })
  return { status: res.statusCode, body: await res.body.json() }
}
