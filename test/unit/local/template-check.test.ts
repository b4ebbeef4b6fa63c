import { describe, expect, it } from 'vitest';
import { checkTemplate } from '../../../local/template-check.ts';

/** A definition the way serverless-step-functions packages it: JSON text under Fn::Sub with its variables. */
function subDefinition(definition: Record<string, unknown>, vars: Record<string, unknown>) {
  return { 'Fn::Sub': [JSON.stringify(definition, undefined, 2), vars] };
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
const SUB_VAR = '${abc123}';

const VALID_DEFINITION = {
  StartAt: 'Score',
  States: {
    Score: { Type: 'Task', Resource: SUB_VAR, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

function template(extra: Record<string, unknown> = {}, omit: string[] = []) {
  const resources: Record<string, unknown> = {
    XLambdaFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: { 'Fn::GetAtt': ['XIamRoleLambdaExecution', 'Arn'] } },
    },
    XIamRoleLambdaExecution: { Type: 'AWS::IAM::Role', Properties: {} },
    TrafficStream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } },
    PlatformBucket: { Type: 'AWS::S3::Bucket' },
    RunLifecycleStepFunctionsStateMachine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: subDefinition(VALID_DEFINITION, {
          abc123: { 'Fn::GetAtt': ['XLambdaFunction', 'Arn'] },
        }),
      },
    },
    ...extra,
  };
  for (const id of omit) delete resources[id];
  return { AWSTemplateFormatVersion: '2010-09-09', Resources: resources };
}

describe('checkTemplate', () => {
  it('a minimal template with one of each required type and a valid Fn::Sub definition has no problems', () => {
    const report = checkTemplate(template());
    expect(report.problems).toEqual([]);
    expect(report.counts).toEqual({
      'AWS::Lambda::Function': 1,
      'AWS::IAM::Role': 1,
      'AWS::Kinesis::Stream': 1,
      'AWS::S3::Bucket': 1,
      'AWS::StepFunctions::StateMachine': 1,
    });
    expect(report.lines).toEqual([
      'AWS::IAM::Role: 1',
      'AWS::Kinesis::Stream: 1',
      'AWS::Lambda::Function: 1',
      'AWS::S3::Bucket: 1',
      'AWS::StepFunctions::StateMachine: 1',
      'ASL RunLifecycleStepFunctionsStateMachine: valid',
    ]);
  });

  it('validates a Fn::Sub without variables and a plain JSON DefinitionString as well', () => {
    const plain = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };
    const report = checkTemplate(
      template({
        SubOnly: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: { 'Fn::Sub': JSON.stringify(plain) } },
        },
        Plain: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: JSON.stringify(plain) },
        },
      }),
    );
    expect(report.problems).toEqual([]);
    expect(report.counts['AWS::StepFunctions::StateMachine']).toBe(3);
    expect(report.lines).toContain('ASL SubOnly: valid');
    expect(report.lines).toContain('ASL Plain: valid');
  });

  it('validates a Fn::Sub with pseudo-parameters inside an ARN and an unquoted number variable as Wait Seconds', () => {
    const body = `{
  "StartAt": "Hold",
  "States": {
    "Hold": { "Type": "Wait", "Seconds": \${holdSeconds}, "Next": "Publish" },
    "Publish": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:\${AWS::Region}:\${AWS::AccountId}:function:fraud-local-publish",
      "End": true
    }
  }
}`;
    const report = checkTemplate(
      template({
        HoldStateMachine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: { 'Fn::Sub': [body, { holdSeconds: { Ref: 'HoldSeconds' } }] } },
        },
      }),
    );
    expect(report.problems).toEqual([]);
    expect(report.lines).toContain('ASL HoldStateMachine: valid');
  });

  it('validates a resource with an object Definition, and reports one that is invalid', () => {
    const report = checkTemplate(
      template({
        ObjectDefinition: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { Definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } },
        },
        BrokenObjectDefinition: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { Definition: { StartAt: 'P', States: { P: { Type: 'Pass', Next: 'Nowhere' } } } },
        },
      }),
    );
    expect(report.lines).toContain('ASL ObjectDefinition: valid');
    expect(report.problems).toEqual([expect.stringMatching(/^ASL BrokenObjectDefinition: .*Nowhere/)]);
  });

  it('reports an invalid definition (Next to a missing state) naming the resource id and the error', () => {
    const broken = {
      StartAt: 'Score',
      States: { Score: { Type: 'Task', Resource: SUB_VAR, Next: 'Nowhere' } },
    };
    const report = checkTemplate(
      template({
        BrokenStateMachine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: subDefinition(broken, { abc123: { 'Fn::GetAtt': ['XLambdaFunction', 'Arn'] } }),
          },
        },
      }),
    );
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^ASL BrokenStateMachine: .*MISSING_TRANSITION_TARGET.*Nowhere/);
    expect(report.lines).toContain('ASL RunLifecycleStepFunctionsStateMachine: valid');
    expect(report.lines.some((l) => l.startsWith('ASL BrokenStateMachine'))).toBe(false);
  });

  it('reports a malformed literal Task Resource (ARNs are checked)', () => {
    const report = checkTemplate(
      template({
        BadArn: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: JSON.stringify({
              StartAt: 'T',
              States: { T: { Type: 'Task', Resource: 'lambda:not-an-arn', End: true } },
            }),
          },
        },
      }),
    );
    expect(report.problems).toEqual([expect.stringMatching(/^ASL BadArn: .*Resource/)]);
  });

  it('reports a missing AWS::Kinesis::Stream type', () => {
    const report = checkTemplate(template({}, ['TrafficStream']));
    expect(report.problems).toEqual(['template holds no AWS::Kinesis::Stream']);
    expect(report.counts['AWS::Kinesis::Stream']).toBeUndefined();
  });

  it('reports every required type of an empty template', () => {
    expect(checkTemplate({}).problems).toEqual([
      'template holds no AWS::Lambda::Function',
      'template holds no AWS::StepFunctions::StateMachine',
      'template holds no AWS::IAM::Role',
      'template holds no AWS::Kinesis::Stream',
      'template holds no AWS::S3::Bucket',
    ]);
  });

  it('reports a function without a Role', () => {
    const report = checkTemplate(
      template({ YLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: {} } }),
    );
    expect(report.problems).toEqual(['a function has no IAM role']);
    expect(report.counts['AWS::Lambda::Function']).toBe(2);
  });
});
