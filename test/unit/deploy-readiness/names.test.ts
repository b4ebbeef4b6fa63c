// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS templates
import { describe, expect, it } from 'vitest';
import { namesRule } from '../../../tools/deploy-readiness/rules/names.ts';
import { inputOf } from './factories.ts';

const stream = (name: unknown) => ({
  Type: 'AWS::Kinesis::Stream',
  Properties: { Name: name, ShardCount: 1 },
});
const bucket = (name?: unknown) => ({
  Type: 'AWS::S3::Bucket',
  Properties: name === undefined ? {} : { BucketName: name },
});
const fn = (name: unknown) => ({ Type: 'AWS::Lambda::Function', Properties: { FunctionName: name } });
const messages = (resources: Parameters<typeof inputOf>[0], stage = 'dev') =>
  namesRule(inputOf(resources, { stage })).map((f) => `${f.resource} ${f.message}`);

describe('names rule', () => {
  it('passes stage-carrying names within limits, generated bucket names and names built from other resources', () => {
    expect(
      messages({
        Api: fn('svc-dev-api'),
        Stream: stream('dev.fp.bus.audit.v1'),
        Generated: bucket(),
        Accounted: bucket({ 'Fn::Sub': 'svc-dev-${AWS::AccountId}-oracle' }),
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: { RoleName: { 'Fn::Join': ['-', ['svc', 'dev', { Ref: 'AWS::Region' }]] } },
        },
        FromOther: fn({ 'Fn::Sub': '${Stream}-x' }),
      }),
    ).toEqual([]);
  });

  it('reports names over the limit or with characters AWS refuses', () => {
    expect(
      messages({
        Api: fn(`svc-dev-${'a'.repeat(60)}`),
        Stream: stream('dev stream'),
        Bucket: bucket({ 'Fn::Sub': 'Svc-dev-${AWS::AccountId}' }),
      }),
    ).toEqual([
      `Api AWS::Lambda::Function FunctionName "svc-dev-${'a'.repeat(60)}" is 68 characters, over the limit of 64`,
      'Stream AWS::Kinesis::Stream Name "dev stream" has characters outside ^[a-zA-Z0-9_.-]+$',
      'Bucket AWS::S3::Bucket BucketName "Svc-dev-123456789012" has characters outside ' +
        '^(?!\\d+\\.\\d+\\.\\d+\\.\\d+$)(?!.*\\.\\.)[a-z0-9][a-z0-9.-]*[a-z0-9]$',
    ]);
  });

  it('resolves Fn::Join with the region before measuring an IAM role name', () => {
    const long = {
      'Fn::Join': [
        '-',
        ['svc', 'dev', 'world-streamer-ready-consumer-extras', { Ref: 'AWS::Region' }, 'lambdaRole'],
      ],
    };
    expect(messages({ Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: long } } })).toEqual([
      'Role AWS::IAM::Role RoleName "svc-dev-world-streamer-ready-consumer-extras-us-east-1-lambdaRole" is 65 characters, over the limit of 64',
    ]);
  });

  it('on a shared stage, reports names without the stage and fixed bucket names', () => {
    expect(messages({ Stream: stream('fp.bus.audit.v1'), Bucket: bucket('oracle-store-dev') })).toEqual([
      'Stream AWS::Kinesis::Stream Name "fp.bus.audit.v1" does not carry the stage "dev"',
      'Bucket AWS::S3::Bucket BucketName "oracle-store-dev" is a fixed bucket name: leave BucketName to ' +
        'CloudFormation, or build it with Fn::Sub from the stage and ${AWS::AccountId}',
    ]);
    for (const emulator of ['local', 'localstack'])
      expect(
        messages({ Stream: stream('fp.bus.audit.v1'), Bucket: bucket('oracle-store') }, emulator),
      ).toEqual([]);
    expect(messages({ Stream: stream('fp.devices.v1') })).toHaveLength(1);
  });

  it('reports a name used twice in the template', () => {
    expect(messages({ A: stream('dev-audit'), B: stream('dev-audit') })).toEqual([
      'A AWS::Kinesis::Stream Name "dev-audit" is used by 2 resources: A, B',
    ]);
  });
});
