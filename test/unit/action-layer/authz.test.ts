import { describe, expect, it } from 'vitest';
import {
  ACTION_LAYER_POLICY_V0,
  ActionLayerPolicy,
  authorizeIntent,
  authzPolicyRev,
  executionPostureOf,
} from '../../../lib/action-layer/authz.ts';
import { intentPayload } from './factories.ts';

/**
 * Authz of an intent (downstream.md §3.3, al/policy_v0.yaml): NORMAL posture with allow_execution, an allowed
 * origin, an allowed action kind, and an actor principal with a prefix allowed for its origin; else denied with the
 * reasons. A missing posture fails safe.
 */

const NORMAL = { mode: 'NORMAL', allow_execution: true, reason: '' };
const policy = ACTION_LAYER_POLICY_V0;
const intent = intentPayload('evt-authz');

describe('authorizeIntent', () => {
  it.each(['ALLOW', 'STEP_UP', 'QUEUE_REVIEW', 'DECLINE', 'txn_block', 'case_queue'])(
    'allows a DF %s',
    (kind) => {
      expect(authorizeIntent({ ...intent, action_kind: kind }, policy, NORMAL)).toMatchObject({
        allowed: true,
        reason_codes: [],
        posture_mode: 'NORMAL',
      });
    },
  );

  it('denies an action kind off the list, an actor without its origin prefix, an unknown origin', () => {
    expect(authorizeIntent({ ...intent, action_kind: 'txn_refund' }, policy, NORMAL).reason_codes).toEqual([
      'AUTHZ_ACTION_KIND_DENY',
    ]);
    expect(
      authorizeIntent({ ...intent, actor_principal: 'HUMAN::analyst-7' }, policy, NORMAL).reason_codes,
    ).toEqual(['AUTHZ_ACTOR_PRINCIPAL_DENY']);
    expect(authorizeIntent({ ...intent, origin: 'PARTNER' }, policy, NORMAL).reason_codes).toEqual([
      'AUTHZ_ORIGIN_DENY',
    ]);
    expect(
      authorizeIntent(
        { ...intent, action_kind: 'wire_money', actor_principal: 'SYSTEM::other' },
        policy,
        NORMAL,
      ),
    ).toMatchObject({
      allowed: false,
      reason_codes: ['AUTHZ_ACTION_KIND_DENY', 'AUTHZ_ACTOR_PRINCIPAL_DENY'],
    });
  });

  it('each origin has its own actor prefixes', () => {
    expect(
      authorizeIntent({ ...intent, origin: 'CASE', actor_principal: 'HUMAN::analyst-7' }, policy, NORMAL)
        .allowed,
    ).toBe(true);
    expect(
      authorizeIntent(
        { ...intent, origin: 'OPS', actor_principal: 'SYSTEM::decision_fabric' },
        policy,
        NORMAL,
      ),
    ).toMatchObject({ allowed: false, reason_codes: ['AUTHZ_ACTOR_PRINCIPAL_DENY'] });
  });

  it('no posture: denied, fail safe; a posture other than NORMAL, or NORMAL without execution: POSTURE_BLOCK', () => {
    expect(authorizeIntent(intent, policy, undefined)).toMatchObject({
      allowed: false,
      reason_codes: ['POSTURE_MISSING_FAIL_SAFE'],
      posture_mode: 'FAIL_CLOSED',
    });
    expect(
      authorizeIntent(intent, policy, { mode: 'DEGRADED_1', allow_execution: true, reason: 'lag' }),
    ).toMatchObject({
      allowed: false,
      reason_codes: ['POSTURE_BLOCK:DEGRADED_1', 'lag'],
    });
    expect(
      authorizeIntent(intent, policy, { mode: 'NORMAL', allow_execution: false, reason: '' }).reason_codes,
    ).toEqual(['POSTURE_BLOCK:NORMAL', 'POSTURE_BLOCKED']);
  });

  it("the ladder's effective posture: only a stored NORMAL allows execution", () => {
    expect(executionPostureOf({ mode: 'NORMAL', source: 'STORE', reason: null })).toEqual(NORMAL);
    expect(executionPostureOf({ mode: 'FAIL_CLOSED', source: 'FAILSAFE', reason: 'FAILSAFE_STALE' })).toEqual(
      {
        mode: 'FAIL_CLOSED',
        allow_execution: false,
        reason: 'FAILSAFE_STALE',
      },
    );
  });
});

describe('the policy', () => {
  it('its rev names al.authz.v0 r1 with a digest of its content, independent of list order', () => {
    const rev = authzPolicyRev(policy);
    expect(rev).toMatchObject({ policy_id: 'al.authz.v0', revision: 'r1' });
    expect(rev.content_digest).toMatch(/^[0-9a-f]{64}$/);
    const reordered = {
      ...policy,
      authz: { ...policy.authz, allowed_action_kinds: [...policy.authz.allowed_action_kinds].reverse() },
    };
    expect(authzPolicyRev(reordered)).toEqual(rev);
    const narrower = { ...policy, authz: { ...policy.authz, allowed_action_kinds: ['ALLOW'] } };
    expect(authzPolicyRev(narrower).content_digest).not.toBe(rev.content_digest);
  });

  it('an allowed origin without actor prefixes, or a cap below the base backoff, does not parse', () => {
    const { DF: _df, ...withoutDf } = policy.authz.actor_principal_prefix_allowlist;
    expect(
      ActionLayerPolicy.safeParse({
        ...policy,
        authz: { ...policy.authz, actor_principal_prefix_allowlist: withoutDf },
      }).success,
    ).toBe(false);
    expect(
      ActionLayerPolicy.safeParse({
        ...policy,
        retry: { max_attempts: 3, base_backoff_ms: 100, max_backoff_ms: 50 },
      }).success,
    ).toBe(false);
  });
});
