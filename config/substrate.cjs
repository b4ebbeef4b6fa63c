'use strict';
// The substrate of the spine: buckets and Kinesis streams, declared once.
// serverless.yml builds its CloudFormation resources and the functions' environment from this file;
// the local cloud bootstraps from the resolved serverless.yml, so there is no second list.

/** Logical id → bucket base name (stage-suffixed where AWS needs global uniqueness). */
const buckets = {
  OracleStoreBucket: 'oracle-store',
  PlatformBucket: 'fraud-platform',
};

/** Logical id → Kinesis stream name and shard count. */
const streams = {
  SrControlBusStream: { name: 'sr-control-bus', shards: 1 },
  TrafficFraudStream: { name: 'fp.bus.traffic.fraud.v1', shards: 2 },
  TrafficBaselineStream: { name: 'fp.bus.traffic.baseline.v1', shards: 2 },
  ContextArrivalEventsStream: { name: 'fp.bus.context.arrival_events.v1', shards: 2 },
  ContextArrivalEntitiesStream: { name: 'fp.bus.context.arrival_entities.v1', shards: 2 },
  ContextFlowAnchorFraudStream: { name: 'fp.bus.context.flow_anchor.fraud.v1', shards: 2 },
  ContextFlowAnchorBaselineStream: { name: 'fp.bus.context.flow_anchor.baseline.v1', shards: 2 },
  RtdlStream: { name: 'fp.bus.rtdl.v1', shards: 2 },
  CaseStream: { name: 'fp.bus.case.v1', shards: 1 },
  AuditStream: { name: 'fp.bus.audit.v1', shards: 1 },
};

function bucketName(base, suffix) {
  return `${base}${suffix || ''}`;
}

module.exports = async ({ resolveVariable }) => {
  const suffix = await resolveVariable('self:custom.stageConfig.bucketSuffix');
  const Resources = {};
  for (const [id, base] of Object.entries(buckets)) {
    Resources[id] = {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        BucketName: bucketName(base, suffix),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
      },
    };
  }
  for (const [id, s] of Object.entries(streams)) {
    Resources[id] = {
      Type: 'AWS::Kinesis::Stream',
      Properties: {
        Name: s.name,
        ShardCount: s.shards,
        RetentionPeriodHours: 168,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      },
    };
  }
  return {
    resources: Resources,
    oracleStoreBucket: bucketName(buckets.OracleStoreBucket, suffix),
    platformBucket: bucketName(buckets.PlatformBucket, suffix),
    streamNames: Object.values(streams)
      .map((s) => s.name)
      .join(','),
  };
};
