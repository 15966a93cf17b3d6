// EventBridge's own error types, beside the kit's catalogue. Statuses as AWSEvents answers them:
// client faults 400, InternalException 500.
import { AwsError } from '../kit/index.js'

export const EventsErrors = {
  InvalidEventPatternException: (reason: string) => new AwsError('InvalidEventPatternException', 400, `Event pattern is not valid. Reason: ${reason}`),
  InternalException: (message = 'Internal service error.') => new AwsError('InternalException', 500, message),
  ResourceNotFoundException: (message: string) => new AwsError('ResourceNotFoundException', 400, message),
  ValidationException: (message: string) => new AwsError('ValidationException', 400, message),
  LimitExceededException: (message: string) => new AwsError('LimitExceededException', 400, message),
} as const

export const ACCOUNT = '000000000000'
export const DEFAULT_BUS = 'default'
