// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS templates
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import { getAttRule } from '../../../tools/deploy-readiness/rules/getatt.ts';
import { loadResourceSpec } from '../../../tools/deploy-readiness/spec.ts';
import { inputOf } from './factories.ts';

let spec: SpecDatabase;
beforeAll(async () => {
  spec = await loadResourceSpec();
});

const stream = { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } };
const topicNamed = (name: unknown) => ({ Type: 'AWS::SNS::Topic', Properties: { DisplayName: name } });
const messages = (resources: Parameters<typeof inputOf>[0]) =>
  getAttRule(inputOf(resources), spec).map((f) => `${f.resource} ${f.message}`);

describe('getatt rule', () => {
  it('passes attributes the spec gives, in array, string and Fn::Sub forms', () => {
    expect(
      messages({
        Stream: stream,
        A: topicNamed({ 'Fn::GetAtt': ['Stream', 'Arn'] }),
        B: topicNamed({ 'Fn::GetAtt': 'Stream.Arn' }),
        C: topicNamed({ 'Fn::Sub': ['${Stream.Arn}/${x}', { x: { 'Fn::GetAtt': ['Stream', 'Arn'] } }] }),
        D: { Type: 'Custom::Thing', Properties: {} },
        E: topicNamed({ 'Fn::GetAtt': ['D', 'Anything'] }),
      }),
    ).toEqual([]);
  });

  it('reports an attribute the type does not have', () => {
    expect(messages({ Stream: stream, A: topicNamed({ 'Fn::GetAtt': ['Stream', 'StreamArn'] }) })).toEqual([
      expect.stringMatching(
        /^A Fn::GetAtt Stream.StreamArn: AWS::Kinesis::Stream has no attribute StreamArn \(it has: Arn/,
      ),
    ]);
  });

  it('reports `${X.Attr}` in a Fn::Sub naming a missing resource or attribute', () => {
    expect(messages({ Stream: stream, A: topicNamed({ 'Fn::Sub': '${Nope.Arn}-${Stream.Name}' }) })).toEqual([
      'A Fn::Sub Nope.Arn: no resource Nope in the template',
      expect.stringMatching(/^A Fn::Sub Stream.Name: AWS::Kinesis::Stream has no attribute Name /),
    ]);
  });
});
