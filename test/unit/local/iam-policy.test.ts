import { describe, expect, it } from 'vitest';
import { decide, firstRefusal, type LocalRole, wildcardMatch } from '../../../local/iam/policy.ts';

const STREAM = 'arn:aws:kinesis:us-east-1:000000000000:stream';
const role = (statements: LocalRole['statements']): LocalRole => ({ name: 'svc-local-gate', statements });

describe('IAM policy evaluation (local/iam/policy.ts)', () => {
  it('matches * and ? wildcards, actions without case, resources with it', () => {
    expect(wildcardMatch('kinesis:Put*', 'kinesis:PutRecords')).toBe(true);
    expect(wildcardMatch('kinesis:put*', 'kinesis:PutRecords', true)).toBe(true);
    expect(wildcardMatch('kinesis:put*', 'kinesis:PutRecords')).toBe(false);
    expect(wildcardMatch(`${STREAM}/fp.bus.*`, `${STREAM}/fp.bus.traffic.fraud.v1`)).toBe(true);
    expect(wildcardMatch(`${STREAM}/fp.bus.*`, `${STREAM}/sr-control-bus`)).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::b/run-?/x', 'arn:aws:s3:::b/run-7/x')).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::b/run-?/x', 'arn:aws:s3:::b/run-17/x')).toBe(false);
    // regex characters in a pattern are literal
    expect(wildcardMatch('arn:aws:s3:::b/a.b', 'arn:aws:s3:::b/aXb')).toBe(false);
  });

  it('allows what an Allow statement names, and nothing else (implicit deny)', () => {
    const gate = role([
      {
        effect: 'Allow',
        actions: ['kinesis:PutRecords', 'kinesis:DescribeStreamSummary'],
        resources: [`${STREAM}/fp.bus.*`],
      },
    ]);
    expect(decide(gate, { action: 'kinesis:PutRecords', resource: `${STREAM}/fp.bus.audit.v1` })).toBe(
      'allowed',
    );
    expect(decide(gate, { action: 'kinesis:PutRecord', resource: `${STREAM}/fp.bus.audit.v1` })).toBe(
      'implicit-deny',
    );
    expect(decide(gate, { action: 'kinesis:PutRecords', resource: `${STREAM}/sr-control-bus` })).toBe(
      'implicit-deny',
    );
    // an action without resource-level permissions is asked on `*`, which a stream pattern does not cover
    expect(decide(gate, { action: 'kinesis:ListStreams', resource: '*' })).toBe('implicit-deny');
  });

  it('lets an explicit Deny win over any Allow', () => {
    const r = role([
      { effect: 'Allow', actions: ['s3:*'], resources: ['*'] },
      { effect: 'Deny', actions: ['s3:DeleteObject'], resources: ['arn:aws:s3:::b/*'] },
    ]);
    expect(decide(r, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('allowed');
    expect(decide(r, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k' })).toBe('explicit-deny');
  });

  it('reads NotAction and NotResource as everything but', () => {
    const r = role([
      { effect: 'Allow', notActions: ['s3:Delete*'], resources: ['arn:aws:s3:::b/*'] },
      {
        effect: 'Allow',
        actions: ['states:StartExecution'],
        notResources: ['arn:aws:states:*:*:stateMachine:secret'],
      },
    ]);
    expect(decide(r, { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' })).toBe('allowed');
    expect(decide(r, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k' })).toBe('implicit-deny');
    const machine = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
    expect(decide(r, { action: 'states:StartExecution', resource: machine('open') })).toBe('allowed');
    expect(decide(r, { action: 'states:StartExecution', resource: machine('secret') })).toBe('implicit-deny');
  });

  it('never refuses because of a Condition it cannot evaluate', () => {
    const r = role([
      { effect: 'Allow', actions: ['s3:GetObject'], resources: ['*'], conditional: true },
      { effect: 'Deny', actions: ['s3:GetObject'], resources: ['*'], conditional: true },
    ]);
    expect(decide(r, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('allowed');
  });

  it("words a refusal as AWS does, naming the role's session, the action and the resource", () => {
    const gate = role([{ effect: 'Allow', actions: ['kinesis:DescribeStreamSummary'], resources: ['*'] }]);
    const refusal = firstRefusal(
      gate,
      [
        { action: 'kinesis:DescribeStreamSummary', resource: `${STREAM}/fp.bus.audit.v1` },
        { action: 'kinesis:PutRecords', resource: `${STREAM}/fp.bus.audit.v1` },
      ],
      '000000000000',
    );
    expect(refusal?.request.action).toBe('kinesis:PutRecords');
    expect(refusal?.message).toBe(
      'User: arn:aws:sts::000000000000:assumed-role/svc-local-gate/svc-local-gate is not authorized to perform: ' +
        `kinesis:PutRecords on resource: ${STREAM}/fp.bus.audit.v1 because no identity-based policy allows the ` +
        'kinesis:PutRecords action',
    );
    const denied = firstRefusal(
      role([{ effect: 'Deny', actions: ['*'], resources: ['*'] }]),
      [{ action: 's3:GetObject', resource: '*' }],
      '1',
    );
    expect(denied?.message).toMatch(/with an explicit deny in an identity-based policy$/);
    expect(
      firstRefusal(gate, [{ action: 'kinesis:DescribeStreamSummary', resource: '*' }], '1'),
    ).toBeUndefined();
  });
});
