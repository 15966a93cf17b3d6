// How operators post to the status page during the run. The primary path signs in through
// Cognito and posts with the token: while Cognito blocks, the operator retries until it works or
// gives up. The backup path posts with the local operator key and needs nothing else.
import { postBackup, postWithToken } from '../status-page/post.js'
import { signIn } from '../status-page/sign-in.js'
import type { Seeded } from '../workload/customers.js'

export interface StatusPosting {
  statusPageUrl: string
  cognitoUrl?: string
  operator?: Seeded['operator']
  operatorKey?: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  region: string
}

/** How long an operator keeps retrying the primary path before the action fails. */
export const PRIMARY_RETRY_MS = 8_000
const ATTEMPT_TIMEOUT_MS = 3_000

export function statusPoster(p: StatusPosting) {
  return async (args: { path: 'primary' | 'backup'; message: string; retryForMs?: number }): Promise<Record<string, unknown>> => {
    const started = Date.now()
    if (args.path === 'backup') {
      if (!p.operatorKey) throw new Error('no operator key for the backup path')
      const u = await postBackup({ url: p.statusPageUrl, operatorKey: p.operatorKey, message: args.message, timeoutMs: ATTEMPT_TIMEOUT_MS })
      return { path: 'backup', posted: true, attempts: 1, tookMs: Date.now() - started, updateId: u.id }
    }
    if (!p.cognitoUrl || !p.operator) throw new Error('the primary path needs Cognito and a seeded operator')
    const deadline = started + (args.retryForMs ?? PRIMARY_RETRY_MS)
    let attempts = 0
    let last: unknown
    while (Date.now() < deadline) {
      attempts++
      try {
        const tokens = await signIn({
          cognitoUrl: p.cognitoUrl,
          clientId: p.operator.clientId,
          username: p.operator.username,
          password: p.operator.password,
          timeoutMs: ATTEMPT_TIMEOUT_MS,
          credentials: p.credentials,
          region: p.region,
        })
        const u = await postWithToken({ url: p.statusPageUrl, token: tokens.idToken, message: args.message, timeoutMs: ATTEMPT_TIMEOUT_MS })
        return { path: 'primary', posted: true, attempts, tookMs: Date.now() - started, updateId: u.id }
      } catch (err) {
        last = err
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    const e = last as { name?: string; type?: string; message?: string }
    throw Object.assign(
      new Error(`primary path: no update posted after ${attempts} attempts in ${Date.now() - started} ms (last: ${e?.type ?? e?.name}: ${e?.message})`),
      { detail: { path: 'primary', posted: false, attempts } },
    )
  }
}
