// Kinesis's own error messages, in one place. The types and statuses come from the kit's
// catalogue; the wording is what Kinesis answers (as observed by SDK users and mirrored by
// kinesalite and moto), so that code branching on messages behaves as it would against AWS.
import { AwsError, AwsErrors } from '../../kit/index.js'

/** Every stream lives in this account (the ARNs metadata hands out say so too). */
export const ACCOUNT_ID = '000000000000'

export const KinesisErrors = {
  streamNotFound: (stream: string, account = ACCOUNT_ID) => AwsErrors.ResourceNotFoundException(`Stream ${stream} under account ${account} not found.`),
  shardNotFound: (shardId: string, stream: string) =>
    AwsErrors.ResourceNotFoundException(`Shard ${shardId} in stream ${stream} under account ${ACCOUNT_ID} does not exist`),
  rateExceeded: (shardId: string, stream: string) =>
    AwsErrors.ProvisionedThroughputExceededException(`Rate exceeded for shard ${shardId} in stream ${stream} under account ${ACCOUNT_ID}.`),
  invalidShardIterator: () => AwsErrors.InvalidArgumentException('Invalid ShardIterator.'),
  invalidNextToken: () => AwsErrors.InvalidArgumentException('Invalid NextToken.'),
  expiredNextToken: () => new AwsError('ExpiredNextTokenException', 400, 'The timestamp on the NextToken has expired.'),
  noStreamIdentifier: () => AwsErrors.InvalidArgumentException('Either StreamName or StreamARN should be provided.'),
  shardCountRequired: () =>
    AwsErrors.ValidationException("1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null"),
  listShardsNeedsStream: () => AwsErrors.InvalidArgumentException('Either NextToken or StreamName should be provided.'),
  listShardsTokenAndName: () => AwsErrors.InvalidArgumentException('NextToken and StreamName cannot be provided together.'),
  shardFilterNeedsShardId: () => AwsErrors.InvalidArgumentException('ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.'),
  invalidExplicitHashKey: (value: string) =>
    AwsErrors.InvalidArgumentException(`Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${value}`),
  recordTooLarge: (bytes: number) =>
    AwsErrors.InvalidArgumentException(`Record size of ${bytes} bytes (data plus partition key) exceeds the 1 MiB (1048576 bytes) limit.`),
  batchTooLarge: () => AwsErrors.InvalidArgumentException('Records size exceeds 5 MB limit'),
  noShardForHashKey: (stream: string) => AwsErrors.InternalFailure(`The shard-map of stream ${stream} has no shard for this hash key.`),
  internalFailure: (detail: string) => AwsErrors.InternalFailure(detail),
  /** Kinesis's per-entry answer when the storage behind a shard failed. */
  internalFailureMessage: 'Internal service failure.',
} as const
