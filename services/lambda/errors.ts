// Lambda's REST errors. Lambda speaks restJson1, not the JSON 1.x protocol of the kit's catalogue:
// the error type travels in the x-amzn-ErrorType header, the body is {"Type": "User"|"Service",
// "Message"|"message": ...} and the status is the one in Lambda's API model. The message key differs
// per error in that model (ResourceNotFoundException and ServiceException say "Message", the others
// "message"); the SDK reads either, and a customer's raw-JSON tooling sees what AWS sends.
import { AwsError } from '../kit/index.js'

const ACCOUNT = '000000000000'
const REGION = 'us-east-1'

export class LambdaError extends AwsError {
  /** "User" for faults of the caller, "Service" for Lambda's own. */
  readonly kind: 'User' | 'Service'
  readonly messageKey: 'Message' | 'message'
  /** Extra body members (TooManyRequestsException's Reason). */
  readonly extra: Record<string, string>
  constructor(
    type: string,
    statusCode: number,
    message: string,
    opts: { kind: 'User' | 'Service'; messageKey: 'Message' | 'message'; extra?: Record<string, string> },
  ) {
    super(type, statusCode, message)
    this.kind = opts.kind
    this.messageKey = opts.messageKey
    this.extra = opts.extra ?? {}
  }
  body(): Record<string, string> {
    return { Type: this.kind, [this.messageKey]: this.message, ...this.extra }
  }
}

export const functionArn = (name: string, qualifier?: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`

export const LambdaErrors = {
  ResourceNotFoundException: (arn: string) =>
    new LambdaError('ResourceNotFoundException', 404, `Function not found: ${arn}`, { kind: 'User', messageKey: 'Message' }),
  InvalidRequestContentException: (message: string) => new LambdaError('InvalidRequestContentException', 400, message, { kind: 'User', messageKey: 'message' }),
  InvalidParameterValueException: (message: string) => new LambdaError('InvalidParameterValueException', 400, message, { kind: 'User', messageKey: 'message' }),
  RequestTooLargeException: (message: string) => new LambdaError('RequestTooLargeException', 413, message, { kind: 'User', messageKey: 'message' }),
  TooManyRequestsException: (message: string, reason: string) =>
    new LambdaError('TooManyRequestsException', 429, message, { kind: 'User', messageKey: 'message', extra: { Reason: reason } }),
  UnsupportedMediaTypeException: (message: string) => new LambdaError('UnsupportedMediaTypeException', 415, message, { kind: 'User', messageKey: 'message' }),
  ServiceException: (message: string) => new LambdaError('ServiceException', 500, message, { kind: 'Service', messageKey: 'Message' }),
} as const

/** Any error thrown in a route, as the Lambda REST error it answers with. */
export function toLambdaError(err: unknown): LambdaError {
  if (err instanceof LambdaError) return err
  if (err instanceof AwsError) {
    // The kit's SigV4 failures carry the JSON-protocol status (400). REST APIs such as Lambda's
    // answer authentication failures with 403 and a lowercase "message".
    const status = err.statusCode === 400 ? 403 : err.statusCode
    return new LambdaError(err.type, status, err.message, { kind: status >= 500 ? 'Service' : 'User', messageKey: 'message' })
  }
  const e = err as { code?: string; message?: string }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return LambdaErrors.RequestTooLargeException('Request must be smaller than 6291456 bytes for the InvokeFunction operation')
  // A Content-Type fastify cannot read is the caller's fault, as Lambda's model says (415), not a ServiceException.
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return LambdaErrors.UnsupportedMediaTypeException('The content type of the request is not supported.')
  const status = (err as { statusCode?: number })?.statusCode
  if (status !== undefined && status >= 400 && status < 500) return LambdaErrors.InvalidRequestContentException(e?.message ?? 'invalid request')
  return LambdaErrors.ServiceException(e?.message ?? 'internal failure')
}
