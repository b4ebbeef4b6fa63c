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

/**
 * Buckets: on the local cloud and LocalStack (stageConfig.fixedBucketNames) the walkthrough's fixed names
 * (`fraud-platform`, `oracle-store`). On AWS, CloudFormation generates each name from the stack name (unique per
 * account, region and stage in S3's global namespace), and functions get it by `Ref`. Buckets are retained when a
 * stage is removed (the run evidence outlives the stack); since the next deploy generates new names, a removed
 * stage deploys again without colliding with the retained ones.
 *
 * Streams: the topic names of the contracts, prefixed with stageConfig.streamPrefix on AWS
 * (`fraud-platform-dev-fp.bus.traffic.fraud.v1`), so two stages never share a stream even in one account.
 * eb_refs name the topic; only the Kinesis adapter adds the prefix.
 */
module.exports = async ({ resolveVariable }) => {
  const fixedNames = (await resolveVariable('self:custom.stageConfig.fixedBucketNames')) === true;
  const streamPrefix = String((await resolveVariable('self:custom.stageConfig.streamPrefix')) ?? '');
  if (!/^[a-zA-Z0-9_.-]*$/.test(streamPrefix))
    throw new Error(`stageConfig.streamPrefix ${JSON.stringify(streamPrefix)}: only [a-zA-Z0-9_.-] allowed`);
  const Resources = {};
  const Outputs = {};
  for (const [id, base] of Object.entries(buckets)) {
    Resources[id] = {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ...(fixedNames ? { BucketName: base } : {}),
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
    Outputs[`${id}Name`] = { Description: `the ${base} bucket of this stage`, Value: { Ref: id } };
  }
  for (const [id, s] of Object.entries(streams)) {
    Resources[id] = {
      Type: 'AWS::Kinesis::Stream',
      Properties: {
        Name: `${streamPrefix}${s.name}`,
        ShardCount: s.shards,
        RetentionPeriodHours: 168,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      },
    };
  }
  return {
    resources: Resources,
    outputs: Outputs,
    streamPrefix,
    streamNames: Object.values(streams)
      .map((s) => `${streamPrefix}${s.name}`)
      .join(','),
  };
};
