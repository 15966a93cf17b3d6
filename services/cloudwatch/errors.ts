// CloudWatch's error catalogue. The service speaks JSON 1.0 in awsQuery-compatible mode: the body's
// __type is the Smithy shape name, and the x-amzn-query-error header carries the old Query code
// ("InvalidParameterValue;Sender"), which the stock SDK puts on err.Code. Handlers throw by name.
import { AwsError } from '../kit/index.js'

/** Shape name -> [HTTP status, Query error code], as @aws-sdk/client-cloudwatch's schema declares them. */
const CATALOGUE = {
  InvalidParameterValueException: [400, 'InvalidParameterValue'],
  MissingRequiredParameterException: [400, 'MissingParameter'],
  InvalidParameterCombinationException: [400, 'InvalidParameterCombination'],
  InvalidNextToken: [400, 'InvalidNextToken'],
  LimitExceededFault: [400, 'LimitExceeded'],
  ResourceNotFound: [404, 'ResourceNotFound'],
  InternalServiceFault: [500, 'InternalServiceError'],
  // Not a modelled shape: the SDK builds a CloudWatchServiceException named "Throttling", as AWS sends it.
  Throttling: [400, 'Throttling'],
} as const satisfies Record<string, readonly [number, string]>

export type CloudWatchErrorName = keyof typeof CATALOGUE

const define = (type: CloudWatchErrorName) => (message: string) => new AwsError(type, CATALOGUE[type][0], message)

export const CloudWatchErrors = {
  InvalidParameterValue: define('InvalidParameterValueException'),
  MissingParameter: define('MissingRequiredParameterException'),
  InvalidParameterCombination: define('InvalidParameterCombinationException'),
  InvalidNextToken: define('InvalidNextToken'),
  LimitExceeded: define('LimitExceededFault'),
  ResourceNotFound: define('ResourceNotFound'),
  InternalServiceError: define('InternalServiceFault'),
  Throttling: define('Throttling'),
} as const

/** The x-amzn-query-error value for an error type: "<Code>;Sender" or "<Code>;Receiver". */
export function queryErrorHeader(err: AwsError): string {
  const code = Object.hasOwn(CATALOGUE, err.type) ? CATALOGUE[err.type as CloudWatchErrorName][1] : err.type
  return `${code};${err.statusCode >= 500 ? 'Receiver' : 'Sender'}`
}
