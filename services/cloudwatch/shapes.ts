// The shapes of the six operations, as the CloudWatch model (2010-08-01) declares them, for the
// protocols that need them: awsQuery reads every value as a string and needs each member's type;
// CBOR and awsQuery write timestamps in their own form. Members the service does not implement are
// declared when they appear in botocore's model, so a client sending them gets the same treatment in
// every protocol (test/cloudwatch/protocols.test.ts checks these against botocore when it is here).
import { shape, type OperationShapes, type Shape } from '../kit/index.js'

const { string, integer, double, boolean, timestamp, list, map, structure } = shape

const dimension = structure({ Name: string, Value: string })
const dimensions = list(dimension)
const metric = structure({ Namespace: string, MetricName: string, Dimensions: dimensions })
const metricStat = structure({ Metric: metric, Period: integer, Stat: string, Unit: string })
const metricDataQuery = structure({
  Id: string,
  MetricStat: metricStat,
  Expression: string,
  Label: string,
  ReturnData: boolean,
  Period: integer,
  AccountId: string,
})
const statisticSet = structure({ SampleCount: double, Sum: double, Minimum: double, Maximum: double })
const metricDatum = structure({
  MetricName: string,
  Dimensions: dimensions,
  Timestamp: timestamp,
  Value: double,
  StatisticValues: statisticSet,
  Values: list(double),
  Counts: list(double),
  Unit: string,
  StorageResolution: integer,
})
const entity = structure({ KeyAttributes: map(string, string), Attributes: map(string, string) })
const messageData = structure({ Code: string, Value: string })
const strings = list(string)
const evaluationCriteria = structure({ PromQLCriteria: structure({ Query: string, PendingPeriod: integer, RecoveryPeriod: integer }) })

const metricAlarm: Shape = structure({
  AlarmName: string,
  AlarmArn: string,
  AlarmDescription: string,
  AlarmConfigurationUpdatedTimestamp: timestamp,
  ActionsEnabled: boolean,
  OKActions: strings,
  AlarmActions: strings,
  InsufficientDataActions: strings,
  StateValue: string,
  StateReason: string,
  StateReasonData: string,
  StateUpdatedTimestamp: timestamp,
  MetricName: string,
  Namespace: string,
  Statistic: string,
  ExtendedStatistic: string,
  Dimensions: dimensions,
  Period: integer,
  Unit: string,
  EvaluationPeriods: integer,
  DatapointsToAlarm: integer,
  Threshold: double,
  ComparisonOperator: string,
  TreatMissingData: string,
  EvaluateLowSampleCountPercentile: string,
  Metrics: list(metricDataQuery),
  ThresholdMetricId: string,
  EvaluationState: string,
  StateTransitionedTimestamp: timestamp,
  EvaluationCriteria: evaluationCriteria,
  EvaluationInterval: integer,
})

export const CLOUDWATCH_SHAPES: Record<string, OperationShapes> = {
  PutMetricData: {
    input: structure({
      Namespace: string,
      MetricData: list(metricDatum),
      EntityMetricData: list(structure({ Entity: entity, MetricData: list(metricDatum) })),
      StrictEntityValidation: boolean,
    }),
  },
  GetMetricStatistics: {
    input: structure({
      Namespace: string,
      MetricName: string,
      Dimensions: dimensions,
      StartTime: timestamp,
      EndTime: timestamp,
      Period: integer,
      Statistics: strings,
      ExtendedStatistics: strings,
      Unit: string,
    }),
    output: structure({
      Label: string,
      Datapoints: list(
        structure({
          Timestamp: timestamp,
          SampleCount: double,
          Average: double,
          Sum: double,
          Minimum: double,
          Maximum: double,
          Unit: string,
          ExtendedStatistics: map(string, double),
        }),
      ),
    }),
  },
  GetMetricData: {
    input: structure({
      MetricDataQueries: list(metricDataQuery),
      StartTime: timestamp,
      EndTime: timestamp,
      NextToken: string,
      ScanBy: string,
      MaxDatapoints: integer,
      LabelOptions: structure({ Timezone: string }),
    }),
    output: structure({
      MetricDataResults: list(
        structure({
          Id: string,
          Label: string,
          Timestamps: list(timestamp),
          Values: list(double),
          StatusCode: string,
          Messages: list(messageData),
        }),
      ),
      NextToken: string,
      Messages: list(messageData),
    }),
  },
  ListMetrics: {
    input: structure({
      Namespace: string,
      MetricName: string,
      Dimensions: dimensions,
      NextToken: string,
      RecentlyActive: string,
      IncludeLinkedAccounts: boolean,
      OwningAccount: string,
    }),
    output: structure({ Metrics: list(metric), NextToken: string, OwningAccounts: strings }),
  },
  PutMetricAlarm: {
    input: structure({
      AlarmName: string,
      AlarmDescription: string,
      ActionsEnabled: boolean,
      OKActions: strings,
      AlarmActions: strings,
      InsufficientDataActions: strings,
      MetricName: string,
      Namespace: string,
      Statistic: string,
      ExtendedStatistic: string,
      Dimensions: dimensions,
      Period: integer,
      Unit: string,
      EvaluationPeriods: integer,
      DatapointsToAlarm: integer,
      Threshold: double,
      ComparisonOperator: string,
      TreatMissingData: string,
      EvaluateLowSampleCountPercentile: string,
      Metrics: list(metricDataQuery),
      Tags: list(structure({ Key: string, Value: string })),
      ThresholdMetricId: string,
      EvaluationCriteria: evaluationCriteria,
      EvaluationInterval: integer,
    }),
  },
  DescribeAlarms: {
    input: structure({
      AlarmNames: strings,
      AlarmNamePrefix: string,
      AlarmTypes: strings,
      ChildrenOfAlarmName: string,
      ParentsOfAlarmName: string,
      StateValue: string,
      ActionPrefix: string,
      MaxRecords: integer,
      NextToken: string,
    }),
    output: structure({ CompositeAlarms: list(structure({})), MetricAlarms: list(metricAlarm), NextToken: string }),
  },
}
