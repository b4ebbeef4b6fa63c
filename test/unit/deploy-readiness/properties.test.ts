import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import { propertiesRule } from '../../../tools/deploy-readiness/rules/properties.ts';
import { loadResourceSpec } from '../../../tools/deploy-readiness/spec.ts';
import { inputOf, lambdaFunction, roleWith } from './factories.ts';

let spec: SpecDatabase;
beforeAll(async () => {
  spec = await loadResourceSpec();
});

const messages = (resources: Parameters<typeof inputOf>[0]) =>
  propertiesRule(inputOf(resources), spec).map((f) => `${f.resource} ${f.message}`);

describe('properties rule', () => {
  it('passes a valid function, role, stream and bucket, intrinsic values and all', () => {
    expect(
      messages({
        Api: lambdaFunction({
          Environment: { Variables: { A: 'x', B: { Ref: 'Stream' } } },
          MemorySize: '512',
        }),
        ApiRole: roleWith([{ Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: '*' }]),
        Stream: {
          Type: 'AWS::Kinesis::Stream',
          Properties: { ShardCount: 1, Tags: [{ Key: 'a', Value: 'b' }] },
        },
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
        Custom: { Type: 'Custom::Anything', Properties: { Whatever: 1 } },
      }),
    ).toEqual([]);
  });

  it('reports an unknown resource type', () => {
    expect(messages({ X: { Type: 'AWS::Nope::Thing', Properties: {} } })).toEqual([
      'X unknown resource type AWS::Nope::Thing',
    ]);
  });

  it('reports unknown property names at the top and inside property types', () => {
    expect(
      messages({
        Bucket: {
          Type: 'AWS::S3::Bucket',
          Properties: { Versioning: {}, VersioningConfiguration: { Status: 'Enabled', Mode: 1 } },
        },
      }),
    ).toEqual([
      'Bucket AWS::S3::Bucket Versioning: unknown property',
      'Bucket AWS::S3::Bucket VersioningConfiguration.Mode: unknown property',
    ]);
  });

  it('reports missing required properties, nested ones too', () => {
    expect(
      messages({ Api: { Type: 'AWS::Lambda::Function', Properties: { Code: {}, Tags: [{ Key: 'k' }] } } }),
    ).toEqual([
      'Api AWS::Lambda::Function Tags[0].Value: required property missing',
      'Api AWS::Lambda::Function Role: required property missing',
    ]);
  });

  it('reports literals of the wrong primitive type, and skips intrinsic functions', () => {
    expect(
      messages({
        Stream: {
          Type: 'AWS::Kinesis::Stream',
          Properties: { ShardCount: 1.5, RetentionPeriodHours: { Ref: 'Hours' } },
        },
        Api: lambdaFunction({
          MemorySize: 'lots',
          Layers: 'arn:layer',
          Environment: { Variables: { A: [1] } },
        }),
      }),
    ).toEqual([
      'Stream AWS::Kinesis::Stream ShardCount: expected an integer, got 1.5',
      'Api AWS::Lambda::Function MemorySize: expected an integer, got "lots"',
      'Api AWS::Lambda::Function Layers: expected an array',
      'Api AWS::Lambda::Function Environment.Variables.A: expected a string, got [1]',
    ]);
  });
});
