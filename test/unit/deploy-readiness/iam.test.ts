// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS templates
import { describe, expect, it } from 'vitest';
import { requiredActions } from '../../../tools/deploy-readiness/iam-actions.ts';
import type { SdkCommand } from '../../../tools/deploy-readiness/model.ts';
import { iamRule, iamWarnings } from '../../../tools/deploy-readiness/rules/iam.ts';
import { functionFacts, inputOf, lambdaFunction, roleWith } from './factories.ts';

const s3 = (command: string): SdkCommand => ({ client: '@aws-sdk/client-s3', command });
const kinesis = (command: string): SdkCommand => ({ client: '@aws-sdk/client-kinesis', command });

/** The messages for one function sending `commands` under a role holding `statements`. */
function messages(commands: SdkCommand[], statements: unknown[], extra: Parameters<typeof inputOf>[0] = {}) {
  const fn = functionFacts({
    logicalId: 'Api',
    key: 'ingestion-gate-api',
    bundle: { requires: [], optionalRequires: [], commands },
  });
  const input = inputOf(
    { Api: lambdaFunction(), ApiRole: roleWith(statements), ...extra },
    { functions: [fn] },
  );
  return iamRule(input).map((f) => f.message);
}

describe('IAM actions of SDK commands', () => {
  it('maps a command to its service prefix and name, with IAM exceptions', () => {
    expect(requiredActions(kinesis('PutRecordsCommand'))).toEqual([
      { action: 'kinesis:PutRecords', kind: 'any' },
    ]);
    expect(requiredActions({ client: '@aws-sdk/client-sfn', command: 'StartExecutionCommand' })).toEqual([
      { action: 'states:StartExecution', kind: 'any' },
    ]);
    expect(requiredActions(s3('ListObjectsV2Command'))).toEqual([
      { action: 's3:ListBucket', kind: 'bucket' },
    ]);
    expect(requiredActions(s3('HeadObjectCommand'))).toEqual([{ action: 's3:GetObject', kind: 'object' }]);
    expect(requiredActions(s3('CopyObjectCommand')).map((a) => a.action)).toEqual([
      's3:GetObject',
      's3:PutObject',
    ]);
    expect(requiredActions({ client: '@aws-sdk/client-lambda', command: 'InvokeCommand' })).toEqual([
      { action: 'lambda:InvokeFunction', kind: 'any' },
    ]);
  });

  it("expands lib-storage's Upload to PutObject and AbortMultipartUpload", () => {
    const actions = requiredActions({ client: '@aws-sdk/lib-storage', command: 'Upload' }).map(
      (a) => a.action,
    );
    expect([...new Set(actions)]).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
  });
});

describe('iam rule', () => {
  it('reports a command whose action the role does not grant', () => {
    const statements = [{ Effect: 'Allow', Action: ['kinesis:PutRecord'], Resource: '*' }];
    expect(messages([kinesis('PutRecordsCommand')], statements)).toEqual([
      'ingestion-gate-api sends PutRecordsCommand: role grants no kinesis:PutRecords',
    ]);
  });

  it('matches wildcard actions, and ignores logs:*', () => {
    const statements = [
      {
        Effect: 'Allow',
        Action: 'kinesis:Put*',
        Resource: { 'Fn::Sub': 'arn:aws:kinesis:${AWS::Region}:x' },
      },
      { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
    ];
    const commands = [
      kinesis('PutRecordsCommand'),
      s3('GetObjectCommand'),
      { client: '@aws-sdk/client-cloudwatch-logs', command: 'PutLogEventsCommand' },
    ];
    expect(messages(commands, statements)).toEqual([]);
  });

  it('requires a bucket ARN for bucket actions and an object ARN for object actions', () => {
    const objectsOnly = [
      { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: 'arn:aws:s3:::b/*' },
    ];
    expect(messages([s3('ListObjectsV2Command'), s3('GetObjectCommand')], objectsOnly)).toEqual([
      'ingestion-gate-api sends ListObjectsV2Command: role grants s3:ListBucket only on object ARNs (needs a bucket ARN)',
    ]);
    const bucketOnly = [
      { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: { Ref: 'Bucket' } },
    ];
    expect(
      messages([s3('ListObjectsV2Command'), s3('HeadObjectCommand')], bucketOnly, {
        Bucket: { Type: 'AWS::S3::Bucket' },
      }),
    ).toEqual([
      'ingestion-gate-api sends HeadObjectCommand: role grants s3:GetObject only on bucket ARNs (needs an object ARN)',
    ]);
  });

  it('names every command that needs a missing action in one finding', () => {
    const statements = [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    expect(
      messages([s3('PutObjectCommand'), { client: '@aws-sdk/lib-storage', command: 'Upload' }], statements),
    ).toEqual([
      'ingestion-gate-api sends PutObjectCommand, Upload: role grants no s3:PutObject',
      'ingestion-gate-api sends Upload: role grants no s3:AbortMultipartUpload',
    ]);
  });

  it('reads AWS::IAM::Policy resources attached to the role', () => {
    const policy = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'extra',
        Roles: [{ Ref: 'ApiRole' }],
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: '*' }] },
      },
    };
    expect(messages([kinesis('PutRecordsCommand')], [], { Extra: policy })).toEqual([]);
  });

  it('warns, without a finding, when the role is not in the template', () => {
    const fn = functionFacts({
      logicalId: 'Api',
      bundle: { requires: [], optionalRequires: [], commands: [kinesis('PutRecordsCommand')] },
    });
    const input = inputOf({ Api: lambdaFunction({ Role: 'arn:aws:iam::1:role/x' }) }, { functions: [fn] });
    expect(iamRule(input)).toEqual([]);
    expect(iamWarnings(input)).toEqual([
      'warning: api runs as a role outside the template; its IAM is not checked',
    ]);
  });
});
