// Cognito's own error types (beside the kit's catalogue), with the status and messages Cognito
// answers with. Every Cognito client fault is a 400 on the wire.
import { AwsError } from '../kit/index.js'

const define =
  (type: string, statusCode = 400) =>
  (message: string) =>
    new AwsError(type, statusCode, message)

export const CognitoErrors = {
  NotAuthorizedException: define('NotAuthorizedException'),
  UserNotFoundException: define('UserNotFoundException'),
  UsernameExistsException: define('UsernameExistsException'),
  ResourceNotFoundException: define('ResourceNotFoundException'),
  InvalidParameterException: define('InvalidParameterException'),
  InvalidPasswordException: define('InvalidPasswordException'),
  InternalErrorException: define('InternalErrorException', 500),
} as const

export const INCORRECT_CREDENTIALS = 'Incorrect username or password.'
