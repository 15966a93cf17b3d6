// CloudWatch's wire protocols, as the SDKs of today and of the past speak them: SigV4 with signing
// name "monitoring" and the same operations in
//   - AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`): the JS SDK v3, and botocore
//     >= 1.40 (boto3, the AWS CLI v1), whose priority list puts json before the model's first protocol;
//   - Smithy RPC v2 CBOR (`/service/GraniteServiceVersion20100801/operation/<Op>`): the model's first
//     protocol, for the SDKs that take it (the JS SDK with AwsSmithyRpcV2CborProtocol);
//   - awsQuery (`Action=<Op>&Version=2010-08-01`): the AWS CLI v2 of Debian, boto3 of 2024 and before,
//     the Java and Go v1 SDKs.
// The service is awsQueryCompatible: JSON and CBOR errors carry x-amzn-query-error with the Query
// code ("InvalidParameterValue;Sender"), which the SDKs put on the error's Code. PutMetricData bodies
// of 10 KiB and more arrive gzip-encoded (the SDKs' request compression, signed over the compressed
// bytes). The kit (services/kit/protocols) does the rest; docs/protocols.md tells it all.
import type { AwsApiOptions, Operation } from '../kit/index.js'
import { CloudWatchErrors } from './errors.js'
import { CLOUDWATCH_SHAPES } from './shapes.js'

export const TARGET_PREFIX = 'GraniteServiceVersion20100801'
export const SIGNING_NAME = 'monitoring'
export const NAMESPACE = 'com.amazonaws.cloudwatch'
export const API_VERSION = '2010-08-01'
export const XML_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/'
/** A gzip bomb must not take the process down: decompressed bodies above this are refused. */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024

export function cloudWatchApi(opts: { operations: Record<string, Operation>; keys: Map<string, string>; onCall?: AwsApiOptions['onCall'] }): AwsApiOptions {
  return {
    targetPrefix: TARGET_PREFIX,
    jsonVersion: '1.0',
    signingName: SIGNING_NAME,
    protocols: ['rpcv2Cbor', 'awsQuery'],
    namespace: NAMESPACE,
    apiVersion: API_VERSION,
    xmlNamespace: XML_NAMESPACE,
    queryCompatible: true,
    shapes: CLOUDWATCH_SHAPES,
    requestCompression: { maxInflatedBytes: MAX_INFLATED_BYTES, invalid: (message) => CloudWatchErrors.InvalidParameterValue(message) },
    ...opts,
  }
}
