// CloudWatch's error catalogue: each error's Smithy shape name (the JSON and CBOR __type), HTTP
// status, and Query code (awsQuery's <Code>, and the x-amzn-query-error header of JSON and CBOR
// answers, "InvalidParameterValue;Sender", which the SDKs put on err.Code). Handlers throw by name.
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

const define = (type: CloudWatchErrorName) => (message: string) => new AwsError(type, CATALOGUE[type][0], message, { queryCode: CATALOGUE[type][1] })

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
