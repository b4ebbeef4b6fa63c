import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const { substitute } = createRequire(import.meta.url)(
  '../../../plugins/cloudformation-substitutions.cjs',
) as {
  substitute: (template: unknown) => void;
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not a JS template
const DESTINATION = 'arn:${AWS::Partition}:s3:::${PlatformBucket}';

function template() {
  return {
    Resources: {
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { DestinationConfig: { OnFailure: { Destination: DESTINATION } } },
      },
      Literal: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:1:q' } } },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [
            {
              PolicyDocument: {
                Statement: [
                  { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [DESTINATION] },
                  {
                    Effect: 'Allow',
                    Action: ['sqs:SendMessage'],
                    Resource: ['arn:aws:sqs:us-east-1:1:q', DESTINATION],
                  },
                  { Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::b/*' },
                ],
              },
            },
          ],
        },
      },
    },
  };
}

describe('plugins/cloudformation-substitutions', () => {
  it('makes a placeholder destination a Fn::Sub and drops the queue grant serverless added for it', () => {
    const t = template();
    substitute(t);
    expect(t.Resources.Mapping.Properties.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::Sub': DESTINATION,
    });
    expect(t.Resources.Literal.Properties.DestinationConfig.OnFailure.Destination).toBe(
      'arn:aws:sqs:us-east-1:1:q',
    );
    expect(t.Resources.Role.Properties.Policies[0]?.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['arn:aws:sqs:us-east-1:1:q'] },
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::b/*' },
    ]);
  });

  it('leaves a template without placeholders as it was', () => {
    const t = template();
    t.Resources.Mapping.Properties.DestinationConfig.OnFailure.Destination = 'arn:aws:s3:::fixed';
    const before = JSON.stringify(t);
    substitute(t);
    expect(JSON.stringify(t)).toBe(before);
  });
});
