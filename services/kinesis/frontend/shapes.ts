// What CBOR needs to know about Kinesis's operations beyond their JSON shape: where blobs and
// timestamps are, so that Data travels as a byte string and ApproximateArrivalTimestamp as tag 1
// (awsCbor 1.1, what the Java SDKs and the KCL send by default). Members not listed pass unchanged;
// the handlers keep reading and writing the JSON shape (base64 Data, epoch-second timestamps).
import { shape, type OperationShapes } from '../../kit/index.js'

const { blob, timestamp, list, structure } = shape

const streamCreated = structure({ StreamCreationTimestamp: timestamp })

export const KINESIS_SHAPES: Record<string, OperationShapes> = {
  CreateStream: { input: structure({}) },
  DescribeStream: { input: structure({}), output: structure({ StreamDescription: streamCreated }) },
  DescribeStreamSummary: { input: structure({}), output: structure({ StreamDescriptionSummary: streamCreated }) },
  ListStreams: { input: structure({}), output: structure({ StreamSummaries: list(streamCreated) }) },
  ListShards: {
    input: structure({ StreamCreationTimestamp: timestamp, ShardFilter: structure({ Timestamp: timestamp }) }),
    output: structure({}),
  },
  PutRecord: { input: structure({ Data: blob }), output: structure({}) },
  PutRecords: { input: structure({ Records: list(structure({ Data: blob })) }), output: structure({}) },
  GetShardIterator: { input: structure({ Timestamp: timestamp }), output: structure({}) },
  GetRecords: {
    input: structure({}),
    output: structure({ Records: list(structure({ Data: blob, ApproximateArrivalTimestamp: timestamp })) }),
  },
}
