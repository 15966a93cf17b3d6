// One catalogue of AWS errors. Handlers throw by name; the protocol layer (protocols/errors.ts)
// shapes them into the body each wire protocol's SDKs parse: {"__type", "message"} in JSON and CBOR,
// <ErrorResponse><Error><Code> in awsQuery.

export class AwsError extends Error {
  readonly type: string
  readonly statusCode: number
  /**
   * The error's code in the awsQuery protocol, where the service's catalogue gives one
   * ("InvalidParameterValue" for CloudWatch's InvalidParameterValueException). It is also what a
   * query-compatible service puts in x-amzn-query-error. Absent: the type, or QUERY_FORMS below.
   */
  readonly queryCode?: string
  constructor(type: string, statusCode: number, message: string, opts: { queryCode?: string } = {}) {
    super(message)
    this.name = type
    this.type = type
    this.statusCode = statusCode
    if (opts.queryCode !== undefined) this.queryCode = opts.queryCode
  }
  toJSON(): { __type: string; message: string } {
    return { __type: this.type, message: this.message }
  }
}

const define = (type: string, statusCode: number) => (message: string) => new AwsError(type, statusCode, message)

// Status codes as AWS JSON-protocol services return them (client faults are 400 for these).
export const AwsErrors = {
  ValidationException: define('ValidationException', 400),
  InvalidArgumentException: define('InvalidArgumentException', 400),
  ResourceNotFoundException: define('ResourceNotFoundException', 400),
  ResourceInUseException: define('ResourceInUseException', 400),
  LimitExceededException: define('LimitExceededException', 400),
  ProvisionedThroughputExceededException: define('ProvisionedThroughputExceededException', 400),
  ExpiredIteratorException: define('ExpiredIteratorException', 400),
  SerializationException: define('SerializationException', 400),
  UnknownOperationException: define('UnknownOperationException', 400),
  MissingAuthenticationTokenException: define('MissingAuthenticationTokenException', 400),
  IncompleteSignatureException: define('IncompleteSignatureException', 400),
  InvalidSignatureException: define('InvalidSignatureException', 400),
  UnrecognizedClientException: define('UnrecognizedClientException', 400),
  AccessDeniedException: define('AccessDeniedException', 400),
  NotAuthorizedException: define('NotAuthorizedException', 400),
  InternalFailure: define('InternalFailure', 500),
  ServiceUnavailable: define('ServiceUnavailable', 503),
  // Lambda's REST errors carry their status on the wire as well (x-amzn-errortype).
  TooManyRequestsException: define('TooManyRequestsException', 429),
  // awsQuery: a form without Action=, and a form value the operation's shape cannot hold.
  MissingAction: define('MissingAction', 400),
  InvalidQueryParameter: define('InvalidQueryParameter', 400),
} as const

/**
 * How the kit's own errors read in the awsQuery protocol: the codes and statuses of AWS's "Common
 * Errors" for query APIs (InvalidClientTokenId 403, MissingAuthenticationToken 403, IncompleteSignature
 * 400, InvalidAction 400), and SignatureDoesNotMatch (403), which query APIs answer for a wrong or
 * expired signature. JSON and CBOR keep Coral's JSON names (UnrecognizedClientException, 400).
 */
export const QUERY_FORMS: Readonly<Record<string, { code: string; statusCode: number }>> = {
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', statusCode: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', statusCode: 403 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', statusCode: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', statusCode: 400 },
  UnknownOperationException: { code: 'InvalidAction', statusCode: 400 },
  ValidationException: { code: 'ValidationError', statusCode: 400 },
}

/** Any thrown value as an AwsError: fastify's own errors (body too large, bad media type) included. */
export function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AwsError('SerializationException', 413, 'Request body too large')
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return AwsErrors.SerializationException(`Unsupported content type`)
  if (e?.statusCode && e.statusCode < 500) return AwsErrors.ValidationException(e.message ?? 'invalid request')
  return AwsErrors.InternalFailure(e?.message ?? 'internal failure')
}

export type AwsErrorName = keyof typeof AwsErrors

export function isAwsError(err: unknown): err is AwsError {
  return err instanceof AwsError
}
