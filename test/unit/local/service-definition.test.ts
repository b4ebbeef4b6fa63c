import { beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { describeService, type ServiceDefinition } from '../../../local/service-definition.ts';

const ACCOUNT = '000000000000';
const REGION = 'eu-west-1';
const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const machineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

interface Variation {
  /** Replaces the first stream event of `score`. */
  scoreStream?: Record<string, unknown>;
  /** Replaces the definition of the `byDefault` state machine. */
  byDefaultDefinition?: Record<string, unknown>;
  /** Replaces the events of `ingest-gate`. */
  ingestGateEvents?: Array<Record<string, unknown>>;
}

const PASS = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };

/** Shaped like `sls print --format json` after serverless-step-functions has been loaded. */
function printed(v: Variation = {}) {
  return {
    service: 'fraud',
    provider: { name: 'aws', runtime: 'nodejs20.x', region: REGION, stage: 'dev' },
    functions: {
      score: {
        handler: 'functions/score.handler',
        events: [
          {
            stream: v.scoreStream ?? {
              arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] },
              batchSize: 10,
              startingPosition: 'TRIM_HORIZON',
              functionResponseType: 'ReportBatchItemFailures',
            },
          },
          { stream: 'arn:aws:kinesis:us-east-1:000000000000:stream/literal' },
          { http: { path: 'score', method: 'post' } },
        ],
      },
      'ingest-gate': { handler: 'functions/ingest.handler', events: v.ingestGateEvents ?? [] },
      audit_sink: {
        handler: 'functions/audit.handler',
        name: 'custom-audit-name',
        events: [
          { stream: { arn: { Ref: 'AuditStream' }, type: 'kinesis' } },
          { stream: { arn: 'x', type: 'dynamodb' } },
        ],
      },
    },
    stepFunctions: {
      stateMachines: {
        runLifecycle: {
          name: 'run-lifecycle-dev',
          definition: {
            StartAt: 'Fan',
            States: {
              Fan: {
                Type: 'Map',
                ItemProcessor: {
                  ProcessorConfig: { Mode: 'INLINE' },
                  StartAt: 'Score',
                  States: {
                    Score: { Type: 'Task', Resource: { 'Fn::GetAtt': ['score', 'Arn'] }, End: true },
                  },
                },
                Next: 'Both',
              },
              Both: {
                Type: 'Parallel',
                Branches: [
                  {
                    StartAt: 'Gate',
                    States: {
                      Gate: {
                        Type: 'Task',
                        Resource: { 'Fn::GetAtt': ['IngestDashgateLambdaFunction', 'Arn'] },
                        End: true,
                      },
                    },
                  },
                  {
                    StartAt: 'Audit',
                    States: {
                      Audit: { Type: 'Task', Resource: { 'Fn::GetAtt': ['audit_sink', 'Arn'] }, End: true },
                    },
                  },
                ],
                Next: 'ById',
              },
              ById: {
                Type: 'Task',
                Resource: 'arn:aws:states:::states:startExecution.sync:2',
                Parameters: {
                  StateMachineArn: { Ref: 'ChildById' },
                  Input: { 'Fn::GetAtt': ['byName', 'Arn'] },
                },
                Next: 'ByName',
              },
              ByName: {
                Type: 'Task',
                Resource: 'arn:aws:states:::states:startExecution',
                Parameters: { StateMachineArn: { Ref: 'ReplayDashchild' } },
                Next: 'ByDefault',
              },
              ByDefault: {
                Type: 'Task',
                Resource: 'arn:aws:states:::states:startExecution',
                Parameters: { StateMachineArn: { Ref: 'ByDefaultStepFunctionsStateMachine' } },
                End: true,
              },
            },
          },
        },
        byId: {
          id: 'childById',
          name: 'child-by-id',
          type: 'EXPRESS',
          definition: PASS,
        },
        byName: {
          name: 'replay-child',
          definition: PASS,
        },
        byDefault: { definition: v.byDefaultDefinition ?? PASS },
      },
    },
    resources: {
      Resources: {
        TrafficStream: {
          Type: 'AWS::Kinesis::Stream',
          Properties: { Name: 'fraud-dev-traffic', ShardCount: 4 },
        },
        AuditStream: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'fraud-dev-audit' } },
        OracleBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'fraud-dev-oracle' } },
        PlatformBucket: { Type: 'AWS::S3::Bucket' },
        SomeRole: { Type: 'AWS::IAM::Role', Properties: {} },
      },
    },
  };
}

type Definition = Record<string, unknown>;

/** Reads a nested value from a resolved definition by a path of keys and indexes. */
function at(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

describe('describeService', () => {
  let def: ServiceDefinition;
  beforeAll(() => {
    def = describeService(printed(), ACCOUNT);
  });

  it('takes service, stage and region from the printed service', () => {
    expect(def).toMatchObject({ service: 'fraud', stage: 'dev', region: REGION, accountId: ACCOUNT });
    expect(describeService(printed(), ACCOUNT, 'us-west-2').region).toBe('us-west-2');
  });

  it('accepts service given as an object and defaults stage and region', () => {
    const p = printed();
    const d = describeService({ ...p, service: { name: 'other' }, provider: {} }, ACCOUNT);
    expect(d.service).toBe('other');
    expect(d.stage).toBe('local');
    expect(d.region).toBe('us-east-1');
    expect(d.functions.map((f) => f.name)).toContain('other-local-score');
  });

  it('names functions <service>-<stage>-<key> unless a name is given', () => {
    expect(def.functions.map((f) => [f.key, f.name])).toEqual([
      ['score', 'fraud-dev-score'],
      ['ingest-gate', 'fraud-dev-ingest-gate'],
      ['audit_sink', 'custom-audit-name'],
    ]);
  });

  it('resolves stream events to stream names, keeping the mapping settings', () => {
    const score = def.functions.find((f) => f.key === 'score');
    expect(score?.streamEvents).toEqual([
      {
        arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] },
        batchSize: 10,
        startingPosition: 'TRIM_HORIZON',
        functionResponseType: 'ReportBatchItemFailures',
        streamName: 'fraud-dev-traffic',
      },
      { arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/literal', streamName: 'literal' },
    ]);
    const audit = def.functions.find((f) => f.key === 'audit_sink');
    // Ref resolves too; a DynamoDB stream event is not a Kinesis mapping and is left out
    expect(audit?.streamEvents.map((e) => e.streamName)).toEqual(['fraud-dev-audit']);
    expect(def.functions.find((f) => f.key === 'ingest-gate')?.streamEvents).toEqual([]);
  });

  it('lists buckets (BucketName, else the lower-cased logical id) and streams with shard counts', () => {
    expect(def.buckets).toEqual(['fraud-dev-oracle', 'platformbucket']);
    expect(def.streams).toEqual([
      { logicalId: 'TrafficStream', name: 'fraud-dev-traffic', shards: 4 },
      { logicalId: 'AuditStream', name: 'fraud-dev-audit', shards: 1 },
    ]);
  });

  it('names state machines and their ARNs, the default name from the key and stage', () => {
    expect(def.stateMachines.map((m) => [m.key, m.name, m.arn, m.type])).toEqual([
      ['runLifecycle', 'run-lifecycle-dev', machineArn('run-lifecycle-dev'), 'STANDARD'],
      ['byId', 'child-by-id', machineArn('child-by-id'), 'EXPRESS'],
      ['byName', 'replay-child', machineArn('replay-child'), 'STANDARD'],
      [
        'byDefault',
        'ByDefaultStepFunctionsStateMachine-dev',
        machineArn('ByDefaultStepFunctionsStateMachine-dev'),
        'STANDARD',
      ],
    ]);
  });

  it('substitutes lambda ARNs for Fn::GetAtt by function key or logical id, inside Map and Parallel states', () => {
    const d = def.stateMachines[0]?.definition;
    expect(at(d, 'States', 'Fan', 'ItemProcessor', 'States', 'Score', 'Resource')).toBe(
      lambdaArn('fraud-dev-score'),
    );
    expect(at(d, 'States', 'Both', 'Branches', 0, 'States', 'Gate', 'Resource')).toBe(
      lambdaArn('fraud-dev-ingest-gate'),
    );
    expect(at(d, 'States', 'Both', 'Branches', 1, 'States', 'Audit', 'Resource')).toBe(
      lambdaArn('custom-audit-name'),
    );
    // untouched parts stay as they were
    expect(at(d, 'States', 'Fan', 'ItemProcessor', 'ProcessorConfig')).toEqual({ Mode: 'INLINE' });
    expect(at(d, 'States', 'ById', 'Resource')).toBe('arn:aws:states:::states:startExecution.sync:2');
  });

  it('substitutes state machine ARNs for Ref by id, by name and by the default logical id, and GetAtt by key', () => {
    const d: Definition | undefined = def.stateMachines[0]?.definition;
    expect(at(d, 'States', 'ById', 'Parameters', 'StateMachineArn')).toBe(machineArn('child-by-id'));
    expect(at(d, 'States', 'ById', 'Parameters', 'Input')).toBe(machineArn('replay-child'));
    expect(at(d, 'States', 'ByName', 'Parameters', 'StateMachineArn')).toBe(machineArn('replay-child'));
    expect(at(d, 'States', 'ByDefault', 'Parameters', 'StateMachineArn')).toBe(
      machineArn('ByDefaultStepFunctionsStateMachine-dev'),
    );
    expect(JSON.stringify(def.stateMachines.map((m) => m.definition))).not.toMatch(/Fn::GetAtt|"Ref"/);
  });

  it('an unknown Fn::GetAtt in a definition throws naming it', () => {
    const p = printed({
      byDefaultDefinition: {
        StartAt: 'T',
        States: { T: { Type: 'Task', Resource: { 'Fn::GetAtt': ['NoSuchFunction', 'Arn'] }, End: true } },
      },
    });
    expect(() => describeService(p, ACCOUNT)).toThrow(
      'Fn::GetAtt ["NoSuchFunction","Arn"] names no function or state machine',
    );
  });

  it('an unknown Ref in a definition throws naming it', () => {
    const p = printed({
      byDefaultDefinition: {
        StartAt: 'T',
        States: { T: { Type: 'Pass', Parameters: { Arn: { Ref: 'Nowhere' } }, End: true } },
      },
    });
    expect(() => describeService(p, ACCOUNT)).toThrow('Ref Nowhere names no state machine');
  });

  it('a stream event naming no stream of the service throws naming the function', () => {
    const p = printed({
      ingestGateEvents: [{ stream: { arn: { 'Fn::GetAtt': ['MissingStream', 'Arn'] } } }],
    });
    expect(() => describeService(p, ACCOUNT)).toThrow(
      /function ingest-gate: stream event arn .*MissingStream/,
    );
  });

  it.each([
    ['batchSize 0', { batchSize: 0 }, 'batchSize'],
    ['batchSize 10001', { batchSize: 10_001 }, 'batchSize'],
    ['unknown startingPosition', { startingPosition: 'OLDEST' }, 'startingPosition'],
    ['parallelizationFactor 11', { parallelizationFactor: 11 }, 'parallelizationFactor'],
    ['maximumRecordAgeInSeconds 0', { maximumRecordAgeInSeconds: 0 }, 'maximumRecordAgeInSeconds'],
    ['maximumRecordAgeInSeconds 59', { maximumRecordAgeInSeconds: 59 }, 'maximumRecordAgeInSeconds'],
    ['maximumRecordAgeInSeconds 604801', { maximumRecordAgeInSeconds: 604_801 }, 'maximumRecordAgeInSeconds'],
  ])('rejects an invalid stream event setting: %s', (_, setting, key) => {
    const p = printed({ scoreStream: { arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] }, ...setting } });
    let caught: unknown;
    try {
      describeService(p, ACCOUNT);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).message).toMatch(new RegExp(`^function score: stream event stream\\.${key}: `));
  });

  it.each([-1, 60, 604_800])('accepts maximumRecordAgeInSeconds %d', (age) => {
    const p = printed({
      scoreStream: { arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] }, maximumRecordAgeInSeconds: age },
    });
    const event = describeService(p, ACCOUNT).functions.find((f) => f.key === 'score')?.streamEvents[0];
    expect(event?.maximumRecordAgeInSeconds).toBe(age);
  });

  it('rejects a printed service without a service name', () => {
    expect(() => describeService({ provider: {} }, ACCOUNT)).toThrow(ZodError);
  });

  it('resolves an on-failure destination given as Fn::GetAtt of a bucket of the service to its S3 ARN', () => {
    const withDestination = (onFailure: unknown) =>
      describeService(
        printed({
          scoreStream: { arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] }, destinations: { onFailure } },
        }),
        ACCOUNT,
      ).functions.find((f) => f.key === 'score')?.streamEvents[0]?.destinations;
    const bucketId = Object.entries(printed().resources?.Resources ?? {}).find(
      ([, r]) => r.Type === 'AWS::S3::Bucket',
    );
    expect(bucketId).toBeDefined();
    const [id, bucket] = bucketId ?? ['', { Properties: {} }];
    expect(withDestination({ arn: { 'Fn::GetAtt': [id, 'Arn'] } })).toEqual({
      onFailure: `arn:aws:s3:::${String((bucket as { Properties?: { BucketName?: string } }).Properties?.BucketName)}`,
    });
    expect(withDestination('arn:aws:sqs:us-east-1:000000000000:dlq')).toEqual({
      onFailure: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    });
    expect(withDestination({ arn: { 'Fn::GetAtt': ['Nowhere', 'Arn'] }, type: 'sqs' })).toEqual({
      onFailure: JSON.stringify({ 'Fn::GetAtt': ['Nowhere', 'Arn'] }),
    });
  });
});
