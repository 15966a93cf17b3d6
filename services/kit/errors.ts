// One catalogue of AWS errors. Handlers throw by name; one error handler (aws-json.ts) shapes
// them into the JSON body the AWS SDK parses: {"__type": "...", "message": "..."}.

export class AwsError extends Error {
  readonly type: string
  readonly statusCode: number
  constructor(type: string, statusCode: number, message: string) {
    super(message)
    this.name = type
    this.type = type
    this.statusCode = statusCode
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
} as const

export type AwsErrorName = keyof typeof AwsErrors

export function isAwsError(err: unknown): err is AwsError {
  return err instanceof AwsError
}
