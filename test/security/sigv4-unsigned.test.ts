// SigV4 where AWS requires it, and only there. Which operations AWS leaves unsigned is read from the
// stock SDK clients' own auth scheme resolvers (generated from AWS's service models: an operation
// with "smithy.api#noAuth" is sent without a signature; docs/security.md lists them; EventBridge's
// resolver goes through its endpoint rules, hence Region). For every operation each AWS API of the lab serves: the lab's unsigned list is exactly AWS's, an unsigned
// call of a signed operation is refused with MissingAuthenticationTokenException (Lambda: 403), and an
// unsigned call of an unsigned operation is not refused for want of a signature. The REST APIs
// (Lambda's, the autoscaler's scaling policies) are checked by route.
import t from 'tap'
import { KinesisClient } from '@aws-sdk/client-kinesis'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { ECSClient } from '@aws-sdk/client-ecs'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { startLab } from '../../bench/lib/fuzz/lab.js'
import { apiOf } from '../../bench/lib/fuzz/run.js'
import { encodeCall } from '../../bench/lib/fuzz/cases.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

type AuthResolver = (p: { operation: string; region: string; Region: string }) => Array<{ schemeId: string }>
const CLIENTS: Record<string, { config: { httpAuthSchemeProvider: AuthResolver }; destroy(): void }> = {
  Kinesis_20131202: new KinesisClient({ region: 'us-east-1' }) as never,
  GraniteServiceVersion20100801: new CloudWatchClient({ region: 'us-east-1' }) as never,
  AWSCognitoIdentityProviderService: new CognitoIdentityProviderClient({ region: 'us-east-1' }) as never,
  AWSEvents: new EventBridgeClient({ region: 'us-east-1' }) as never,
  AmazonEC2ContainerServiceV20141113: new ECSClient({ region: 'us-east-1' }) as never,
  Lambda: new LambdaClient({ region: 'us-east-1' }) as never,
}
t.teardown(() => Object.values(CLIENTS).forEach((c) => c.destroy()))

/** How the stock SDK authenticates an operation: 'sigv4', or 'none' where AWS's model says noAuth. */
function awsAuth(prefix: string, operation: string): 'sigv4' | 'none' {
  const schemes = CLIENTS[prefix].config.httpAuthSchemeProvider({ operation, region: 'us-east-1', Region: 'us-east-1' }).map((o) => o.schemeId)
  return schemes[0] === 'smithy.api#noAuth' ? 'none' : 'sigv4'
}

t.test("the SDK's resolvers are what docs/security.md says: Cognito's user operations unsigned, every other operation signed", async (t) => {
  t.equal(awsAuth('AWSCognitoIdentityProviderService', 'InitiateAuth'), 'none')
  t.equal(awsAuth('AWSCognitoIdentityProviderService', 'SignUp'), 'none')
  t.equal(awsAuth('AWSCognitoIdentityProviderService', 'ConfirmSignUp'), 'none')
  t.equal(awsAuth('AWSCognitoIdentityProviderService', 'GetUser'), 'none')
  t.equal(awsAuth('AWSCognitoIdentityProviderService', 'AdminInitiateAuth'), 'sigv4')
  t.equal(awsAuth('Kinesis_20131202', 'PutRecords'), 'sigv4')
  t.equal(awsAuth('AWSEvents', 'PutEvents'), 'sigv4')
  t.equal(awsAuth('Lambda', 'Invoke'), 'sigv4')
})

t.test('every operation the lab serves is signed or unsigned as in AWS, and refused unsigned only when AWS signs it', async (t) => {
  const lab = await startLab()
  t.teardown(() => lab.close())
  let checked = 0
  for (const { name, app } of lab.apps) {
    const api = apiOf(app)
    if (!api || name === 'kinesis-endpoint') continue
    const unsignedInAws = api.operations.filter((op) => awsAuth(api.targetPrefix, op) === 'none')
    t.same(
      [...api.unsignedOperations].sort(),
      unsignedInAws.sort(),
      `${name}: the operations it takes unsigned are AWS's (${unsignedInAws.join(', ') || 'none'})`,
    )
    for (const op of api.operations) {
      for (const protocol of api.speaks) {
        const req = encodeCall(api, protocol, op, {})
        const res = await app.inject({ ...req, headers: { ...req.headers, host: 'localhost' } })
        const refused =
          res.statusCode === 403 || res.headers['x-amzn-errortype'] === 'MissingAuthenticationTokenException' || /MissingAuthenticationToken/.test(res.body)
        if (awsAuth(api.targetPrefix, op) === 'sigv4') t.ok(refused, `${name} ${protocol} ${op} unsigned is refused (${res.statusCode})`)
        else t.notOk(refused, `${name} ${protocol} ${op} unsigned is served as AWS serves it (${res.statusCode} ${res.body.slice(0, 80)})`)
        checked++
      }
    }
  }
  // Lambda's REST API: Invoke, GetFunction and ListFunctions, all signed in AWS.
  const lambda = lab.get('lambda')
  for (const [operation, method, url] of [
    ['Invoke', 'POST', '/2015-03-31/functions/echo/invocations'],
    ['GetFunction', 'GET', '/2015-03-31/functions/echo'],
    ['ListFunctions', 'GET', '/2015-03-31/functions'],
  ] as const) {
    t.equal(awsAuth('Lambda', operation), 'sigv4')
    const res = await lambda.inject({ method, url, payload: method === 'POST' ? '{}' : undefined })
    t.equal(res.statusCode, 403, `lambda ${operation} unsigned`)
    t.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException')
    checked++
  }
  // The autoscaler's scaling-policy API stands for Application Auto Scaling's PutScalingPolicy,
  // DescribeScalingPolicies and DeleteScalingPolicy, all signed in AWS (no SDK client of it is
  // installed to read the resolver from). JSON 1.1's refusal: 400, x-amzn-ErrorType.
  const autoscaler = lab.get('autoscaler')
  for (const [operation, method, url] of [
    ['PutScalingPolicy', 'POST', '/policies'],
    ['DescribeScalingPolicies', 'GET', '/policies'],
    ['DeleteScalingPolicy', 'DELETE', '/policies/fuzz-a'],
  ] as const) {
    const res = await autoscaler.inject({
      method,
      url,
      headers: { 'content-type': 'application/json' },
      payload: method === 'POST' ? '{"service":"fuzz","name":"fuzz-a","adjustment":1}' : undefined,
    })
    t.equal(res.statusCode, 400, `autoscaler ${operation} unsigned`)
    t.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException')
    t.same(res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' })
    checked++
  }
  t.comment(`${checked} operation x protocol pairs`)
})
