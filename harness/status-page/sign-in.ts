// The primary path's first step, as the 2020 posting tool did it: sign the operator in through
// Cognito (InitiateAuth, USER_PASSWORD_AUTH) with the stock SDK client pointed at the run's
// Cognito. Loaded only by --primary, so the backup path never loads the SDK.
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider'
import { StatusPagePostError } from './post.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const LOCAL_URL = /^http:\/\/127\.0\.0\.1(:\d{1,5})?\/?$/
const DEFAULT_CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }

export interface SignInOptions {
  cognitoUrl: string
  clientId: string
  username: string
  password: string
  timeoutMs?: number
  region?: string
  /** Used only to sign the request, as every SDK client of the run does. */
  credentials?: { accessKeyId: string; secretAccessKey: string }
}

export interface OperatorTokens {
  idToken: string
  accessToken: string
}

export async function signIn(opts: SignInOptions): Promise<OperatorTokens> {
  // Never let the SDK pick its default endpoint: that would be the real AWS.
  if (!LOCAL_URL.test(opts.cognitoUrl))
    throw new StatusPagePostError('InvalidArgument', `the Cognito URL must be http://127.0.0.1:PORT, got ${JSON.stringify(opts.cognitoUrl)}`, 400)
  const timeoutMs = opts.timeoutMs ?? 10_000
  const client = new CognitoIdentityProviderClient({
    endpoint: opts.cognitoUrl,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? DEFAULT_CREDENTIALS,
    // An operator retries by hand; a sign-in that hangs must end.
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true }),
  })
  try {
    const out = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: opts.clientId,
        AuthParameters: { USERNAME: opts.username, PASSWORD: opts.password },
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    )
    if (out.ChallengeName)
      throw new StatusPagePostError('ChallengeRequired', `Cognito asks ${opts.username} to answer ${out.ChallengeName} before signing in`, 400)
    const idToken = out.AuthenticationResult?.IdToken
    const accessToken = out.AuthenticationResult?.AccessToken
    if (!idToken || !accessToken) throw new StatusPagePostError('InternalFailure', 'Cognito answered InitiateAuth without tokens')
    return { idToken, accessToken }
  } catch (err) {
    if (err instanceof StatusPagePostError) throw err
    const e = err as Error & { $metadata?: { httpStatusCode?: number }; code?: string }
    const status = e.$metadata?.httpStatusCode
    if (status !== undefined) throw new StatusPagePostError(e.name, `sign-in through Cognito failed: ${e.message}`, status)
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.code ?? '')
    throw new StatusPagePostError(
      timedOut ? 'Timeout' : 'Unreachable',
      timedOut
        ? `Cognito at ${opts.cognitoUrl} did not answer the sign-in within ${timeoutMs} ms`
        : `cannot reach Cognito at ${opts.cognitoUrl} (${e.code ?? e.message})`,
    )
  } finally {
    client.destroy()
  }
}
