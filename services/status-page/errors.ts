// Why a post was refused. Each failure carries the AWS-shaped body the poster sees and a stable
// `reason`, the label of status_page_post_failures_total.
import { AwsError } from '../kit/index.js'

export type FailureReason =
  'invalid_request' | 'missing_token' | 'invalid_token' | 'expired_token' | 'cognito_unavailable' | 'backup_disabled' | 'missing_key' | 'wrong_key' | 'storage'

export class PostRejected extends AwsError {
  readonly reason: FailureReason
  constructor(reason: FailureReason, type: string, statusCode: number, message: string) {
    super(type, statusCode, message)
    this.reason = reason
  }
}

export const Rejections = {
  invalid: (message: string) => new PostRejected('invalid_request', 'ValidationException', 400, message),
  missingToken: () =>
    new PostRejected('missing_token', 'NotAuthorizedException', 401, 'missing operator token: send Authorization: Bearer <Cognito ID or access token>'),
  invalidToken: (message: string) => new PostRejected('invalid_token', 'NotAuthorizedException', 401, message),
  expiredToken: () => new PostRejected('expired_token', 'NotAuthorizedException', 401, 'operator token expired: sign in through Cognito again'),
  // The 2020 failure: the dashboard's posting tool could not sign operators in.
  cognitoUnavailable: (detail: string) =>
    new PostRejected(
      'cognito_unavailable',
      'ServiceUnavailable',
      503,
      `cannot verify the operator token: Cognito is unavailable (${detail}); post through the backup path: outage-lab status-page post --backup "message"`,
    ),
  backupDisabled: () =>
    new PostRejected('backup_disabled', 'AccessDeniedException', 403, 'backup posting is disabled: the status page has no OUTAGE_LAB_OPERATOR_KEY'),
  missingKey: () => new PostRejected('missing_key', 'NotAuthorizedException', 401, 'missing X-Operator-Key header'),
  wrongKey: () => new PostRejected('wrong_key', 'NotAuthorizedException', 401, 'wrong operator key'),
  storage: (detail: string) => new PostRejected('storage', 'InternalFailure', 500, `the update was not stored: ${detail}`),
} as const
