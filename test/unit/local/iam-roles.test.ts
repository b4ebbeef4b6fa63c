// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS templates
import { describe, expect, it } from 'vitest';
import { functionRoles, type ResolveContext, resolveText } from '../../../local/iam/roles.ts';
import { describeService } from '../../../local/service-definition.ts';

const context: ResolveContext = {
  service: 'svc',
  stage: 'local',
  region: 'us-east-1',
  accountId: '000000000000',
  refs: new Map([
    ['DataBucket', 'data'],
    ['RunMachine', 'arn:aws:states:us-east-1:000000000000:stateMachine:svc-local-run'],
  ]),
  arns: new Map([['DataBucket', 'arn:aws:s3:::data']]),
};
const noStreams = () => [];
const PER_FUNCTION = ['serverless-esbuild', 'serverless-iam-roles-per-function'];

describe('resolving IAM statement values locally', () => {
  it('resolves Fn::Sub (pseudo parameters, Ref, .Arn, ${!literal}), Ref, Fn::GetAtt and Fn::Join', () => {
    expect(resolveText({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${DataBucket}/*' }, context)).toBe(
      'arn:aws:s3:::data/*',
    );
    expect(resolveText({ 'Fn::Sub': '${DataBucket.Arn}/${!literal}' }, context)).toBe(
      'arn:aws:s3:::data/${literal}',
    );
    expect(
      resolveText(
        { 'Fn::Sub': ['arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${S}', { S: 'bus' }] },
        context,
      ),
    ).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/bus');
    expect(resolveText({ Ref: 'RunMachine' }, context)).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:svc-local-run',
    );
    expect(resolveText({ 'Fn::GetAtt': ['DataBucket', 'Arn'] }, context)).toBe('arn:aws:s3:::data');
    expect(resolveText({ 'Fn::Join': ['', ['arn:aws:s3:::', { Ref: 'DataBucket' }, '/k']] }, context)).toBe(
      'arn:aws:s3:::data/k',
    );
  });

  it('refuses what it cannot resolve, naming it', () => {
    expect(() => resolveText({ 'Fn::ImportValue': 'other-stack' }, context)).toThrow('cannot resolve');
    expect(() => resolveText({ 'Fn::Sub': '${Nowhere}' }, context)).toThrow('cannot resolve ${Nowhere}');
  });
});

describe('the role each function runs as', () => {
  const printed = (functions: Record<string, unknown>, provider: Record<string, unknown> = {}) => ({
    plugins: PER_FUNCTION,
    provider,
    functions,
  });

  it('gives a function with iamRoleStatements its own role, named by iamRoleStatementsName or the plugin', () => {
    const { roles, roleOf } = functionRoles(
      printed({
        gate: {
          iamRoleStatementsName: 'svc-local-gate',
          iamRoleStatements: [
            {
              Effect: 'Allow',
              Action: 'kinesis:PutRecords',
              Resource: { 'Fn::Sub': 'arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/bus' },
            },
          ],
        },
        reader: {
          iamRoleStatements: [
            { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [{ 'Fn::Sub': '${DataBucket.Arn}/*' }] },
          ],
        },
      }),
      context,
      (key) => (key === 'reader' ? ['arn:aws:kinesis:us-east-1:000000000000:stream/in'] : []),
    );
    expect(roleOf).toEqual({ gate: 'svc-local-gate', reader: 'svc-local-reader-us-east-1-lambdaRole' });
    expect(roles.find((r) => r.name === 'svc-local-gate')?.statements).toEqual([
      {
        effect: 'Allow',
        actions: ['kinesis:PutRecords'],
        resources: ['arn:aws:kinesis:us-east-1:000000000000:stream/bus'],
      },
    ]);
    // the plugin grants a function read access to its event streams
    expect(roles.find((r) => r.name.startsWith('svc-local-reader'))?.statements[1]).toMatchObject({
      actions: expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator']),
      resources: ['arn:aws:kinesis:us-east-1:000000000000:stream/in'],
    });
  });

  it("adds the provider's statements only to roles that inherit them", () => {
    const provider = {
      iam: { role: { statements: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] } },
    };
    const fn = { iamRoleStatements: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    const { roles } = functionRoles(
      printed({ own: fn, heir: { ...fn, iamRoleStatementsInherit: true } }, provider),
      context,
      noStreams,
    );
    const actions = (prefix: string) =>
      roles.find((r) => r.name.startsWith(prefix))?.statements.flatMap((s) => s.actions ?? []);
    expect(actions('svc-local-own')).toEqual(['s3:GetObject']);
    expect(actions('svc-local-heir')).toEqual(['sns:Publish', 's3:GetObject']);
  });

  it("puts other functions in serverless' shared role, and leaves roles it cannot read unchecked", () => {
    const provider = { iam: { role: { statements: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } } };
    const shared = functionRoles(
      printed({ a: {}, b: {}, c: { role: 'arn:aws:iam::1:role/x' } }, provider),
      context,
      noStreams,
    );
    expect(shared.roleOf).toEqual({
      a: 'svc-local-us-east-1-lambdaRole',
      b: 'svc-local-us-east-1-lambdaRole',
    });
    expect(shared.roles).toHaveLength(1);
    // without the per-function plugin, serverless ignores iamRoleStatements: the shared role applies
    const withoutPlugin = functionRoles(
      {
        provider,
        functions: { a: { iamRoleStatements: [{ Effect: 'Allow', Action: 'x:Y', Resource: '*' }] } },
      },
      context,
      noStreams,
    );
    expect(withoutPlugin.roleOf).toEqual({ a: 'svc-local-us-east-1-lambdaRole' });
    // an existing role, or managed policies, cannot be read here
    for (const p of [
      { iam: { role: 'arn:aws:iam::1:role/existing' } },
      { iam: { role: { managedPolicies: ['arn:x'] } } },
    ])
      expect(functionRoles(printed({ a: {} }, p), context, noStreams).roleOf).toEqual({});
  });

  it('names the function whose statement cannot be resolved', () => {
    const bad = printed({
      gate: { iamRoleStatements: [{ Effect: 'Allow', Action: 'x:Y', Resource: { 'Fn::ImportValue': 'z' } }] },
    });
    expect(() => functionRoles(bad, context, noStreams)).toThrow(
      'function gate: IAM statement: cannot resolve',
    );
  });

  it("comes out of describeService with the service's own resources resolved", () => {
    const def = describeService(
      {
        service: 'svc',
        plugins: PER_FUNCTION,
        provider: { stage: 'local', region: 'us-east-1' },
        functions: {
          starter: {
            iamRoleStatementsName: 'svc-local-starter',
            iamRoleStatements: [
              { Effect: 'Allow', Action: ['states:StartExecution'], Resource: { Ref: 'RunStateMachine' } },
              {
                Effect: 'Allow',
                Action: ['s3:PutObject'],
                Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Data}/*' },
              },
              { Effect: 'Allow', Action: ['kinesis:PutRecords'], Resource: { 'Fn::GetAtt': ['Bus', 'Arn'] } },
              {
                Effect: 'Allow',
                Action: ['lambda:InvokeFunction'],
                Resource: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
              },
            ],
          },
          worker: {},
        },
        stepFunctions: {
          stateMachines: { run: { id: 'RunStateMachine', name: 'svc-local-run', definition: {} } },
        },
        resources: {
          Resources: {
            Data: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'data' } },
            Bus: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'bus' } },
          },
        },
      },
      '000000000000',
    );
    expect(def.functions.find((f) => f.key === 'starter')?.role).toBe('svc-local-starter');
    expect(
      def.roles?.find((r) => r.name === 'svc-local-starter')?.statements.flatMap((s) => s.resources),
    ).toEqual([
      'arn:aws:states:us-east-1:000000000000:stateMachine:svc-local-run',
      'arn:aws:s3:::data/*',
      'arn:aws:kinesis:us-east-1:000000000000:stream/bus',
      'arn:aws:lambda:us-east-1:000000000000:function:svc-local-worker',
    ]);
  });
});
