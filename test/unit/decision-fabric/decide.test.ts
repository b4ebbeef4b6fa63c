import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pyFloat } from '../../../lib/contracts/canonical-json.ts';
import type { KeyFeatures } from '../../../lib/contracts/online-features.ts';
import { bundleRefOf } from '../../../lib/decision-fabric/bundle.ts';
import { ACTION_KINDS, CONTEXT_STATUSES, decide } from '../../../lib/decision-fabric/decide.ts';
import { resolveRegistry, scoreRules } from '../../../lib/decision-fabric/rules.ts';
import { loadRulesBundle } from '../../../lib/runtime/decision-fabric-config.ts';
import { loadDegradePolicy } from '../../../lib/runtime/degrade-ladder-config.ts';

/**
 * The decision fabric's pure parts (lib/decision-fabric): the rules bundle file and its ref, the registry check
 * against the snapshot's groups and the posture's mask, the rules over a snapshot's features, and the decision rule
 * of downstream.md §3.2 with our scores (§9 #8 and #9 among the cases).
 */

const bundle = loadRulesBundle();
const policy = loadDegradePolicy();
const GROUPS = [
  { name: 'core_features', version: 'v1' },
  { name: 'velocity', version: 'v1' },
];
const READY = { status: 'CONTEXT_READY' as const, reasons: [] };

describe('the rules bundle', () => {
  it('config/decision-fabric/rules-bundle.json parses; its ref is the sha256 of its canonical JSON, stable', () => {
    expect(bundle.scope).toEqual({
      environment: 'local_parity',
      mode: 'fraud',
      bundle_slot: 'primary',
      tenant: 'default',
    });
    expect(bundleRefOf(bundle)).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleRefOf(loadRulesBundle(JSON.parse(JSON.stringify(bundle))))).toBe(bundleRefOf(bundle));
    const changed = { ...bundle, actions: { ...bundle.actions, decline_at: bundle.actions.decline_at + 1 } };
    expect(bundleRefOf(loadRulesBundle(changed))).not.toBe(bundleRefOf(bundle));
  });

  it('thresholds out of order, duplicate rule ids or a bad reason code fail naming the field', () => {
    expect(() =>
      loadRulesBundle({ ...bundle, actions: { step_up_at: 5, queue_review_at: 4, decline_at: 6 } }),
    ).toThrow(/actions/);
    expect(() => loadRulesBundle({ ...bundle, rules: [bundle.rules[0], bundle.rules[0]] })).toThrow(
      /rule ids/,
    );
    const bad = { ...bundle.rules[0], reason_code: 'lower case' };
    expect(() => loadRulesBundle({ ...bundle, rules: [bad] })).toThrow(/rules\.0\.reason_code/);
  });
});

describe('resolveRegistry', () => {
  it('RESOLVED under NORMAL with both groups at v1', () => {
    expect(resolveRegistry(bundle, GROUPS, policy.modes.NORMAL)).toEqual({
      outcome: 'RESOLVED',
      reasons: ['ACTIVE_BUNDLE_RESOLVED'],
    });
  });

  it('a missing group, another version, or a mask that forbids a group: FAIL_CLOSED naming each', () => {
    expect(resolveRegistry(bundle, [GROUPS[1] as (typeof GROUPS)[number]], policy.modes.NORMAL)).toEqual({
      outcome: 'FAIL_CLOSED',
      reasons: ['ACTIVE_BUNDLE_INCOMPATIBLE', 'FEATURE_GROUP_MISSING:core_features'],
    });
    expect(
      resolveRegistry(
        bundle,
        [GROUPS[0], { name: 'velocity', version: 'v2' }] as typeof GROUPS,
        policy.modes.NORMAL,
      ),
    ).toMatchObject({ reasons: ['ACTIVE_BUNDLE_INCOMPATIBLE', 'FEATURE_GROUP_VERSION_MISMATCH:velocity'] });
    expect(resolveRegistry(bundle, GROUPS, policy.modes.DEGRADED_2)).toEqual({
      outcome: 'FAIL_CLOSED',
      reasons: ['ACTIVE_BUNDLE_INCOMPATIBLE', 'CAPABILITY_MISMATCH:allowed_feature_groups:velocity'],
    });
  });
});

describe('scoreRules', () => {
  const features: Record<string, KeyFeatures> = {
    'flow_id:9001': { event_count: 2, amount_sum: pyFloat(312.5) },
    'device_id:21': { event_count_10m: 3, first_seen_age_seconds: pyFloat(600) },
    'instrument_id:70': { event_count_10m: 2 },
    'ip_id:31': { first_seen_age_seconds: pyFloat(86_400) },
  };

  it("a rule fires when every condition holds, with each condition's key and value as evidence; weights add up", () => {
    expect(scoreRules(bundle, features)).toEqual({
      score: 4,
      fired: [
        {
          rule_id: 'new_device_burst',
          reason_code: 'RULE_NEW_DEVICE_BURST_10M',
          evidence: [
            { key: 'device_id:21', feature: 'event_count_10m', value: 3 },
            { key: 'device_id:21', feature: 'first_seen_age_seconds', value: 600 },
          ],
        },
      ],
    });
    const newIp = { ...features, 'ip_id:31': { first_seen_age_seconds: pyFloat(60) } };
    expect(scoreRules(bundle, newIp).fired.map((f) => f.rule_id)).toEqual([
      'new_device_burst',
      'high_amount_new_device_and_ip',
    ]);
    expect(scoreRules(bundle, newIp).score).toBe(8);
  });

  it('one condition short, or a feature absent, null or not a number: the rule does not fire', () => {
    const older = {
      ...features,
      'device_id:21': { event_count_10m: 3, first_seen_age_seconds: pyFloat(3600.5) },
    };
    expect(scoreRules(bundle, older)).toEqual({ score: 0, fired: [] });
    const odd: Record<string, KeyFeatures> = {
      'device_id:21': { event_count_10m: null, first_seen_age_seconds: '9' },
      'instrument_id:70': {},
    };
    expect(scoreRules(bundle, odd)).toEqual({ score: 0, fired: [] });
  });
});

describe('decide', () => {
  const resolved = { outcome: 'RESOLVED' as const, reasons: ['ACTIVE_BUNDLE_RESOLVED'] };
  const score = (n: number) => ({
    score: n,
    fired:
      n > 0
        ? [{ rule_id: 'r', reason_code: 'RULE_X', evidence: [{ key: 'k', feature: 'f', value: n }] }]
        : [],
  });

  it('READY context, resolved bundle: the score picks ALLOW, STEP_UP, QUEUE_REVIEW, DECLINE at the bundle thresholds', () => {
    const actions = [0, 2, 4, 8].map((n) =>
      decide(
        { registry: resolved, context: READY, actionPosture: 'NORMAL', rules: score(n) },
        bundle.actions,
      ),
    );
    expect(actions.map((a) => a.action_kind)).toEqual(['ALLOW', 'STEP_UP', 'QUEUE_REVIEW', 'DECLINE']);
    expect(actions[3]?.reason_codes).toEqual(['ACTIVE_BUNDLE_RESOLVED', 'RULE_X']);
  });

  it('§9 #8: STEP_UP_ONLY clamps ALLOW to STEP_UP; without core_features the registry fails closed ⇒ QUEUE_REVIEW', () => {
    expect(
      decide(
        { registry: resolved, context: READY, actionPosture: 'STEP_UP_ONLY', rules: score(0) },
        bundle.actions,
      ),
    ).toEqual({
      action_kind: 'STEP_UP',
      reason_codes: ['ACTION_POSTURE_CLAMPED:STEP_UP_ONLY', 'ACTIVE_BUNDLE_RESOLVED'],
    });
    const failClosed = resolveRegistry(bundle, [GROUPS[1] as (typeof GROUPS)[number]], policy.modes.NORMAL);
    expect(decide({ registry: failClosed, context: READY, actionPosture: 'NORMAL' }, bundle.actions)).toEqual(
      {
        action_kind: 'QUEUE_REVIEW',
        reason_codes: [
          'ACTIVE_BUNDLE_INCOMPATIBLE',
          'FEATURE_GROUP_MISSING:core_features',
          'REGISTRY_FAIL_CLOSED',
        ],
      },
    );
  });

  it('context not READY ⇒ STEP_UP with its status and reasons, whatever the score', () => {
    const context = { status: 'CONTEXT_MISSING' as const, reasons: ['JOIN_WAIT_EXCEEDED'] };
    expect(
      decide({ registry: resolved, context, actionPosture: 'NORMAL', rules: score(9) }, bundle.actions),
    ).toEqual({
      action_kind: 'STEP_UP',
      reason_codes: ['ACTIVE_BUNDLE_RESOLVED', 'CONTEXT_STATUS:CONTEXT_MISSING', 'JOIN_WAIT_EXCEEDED'],
    });
  });

  it('property (§9 #9): under the FAIL_CLOSED mask the action is never ALLOW, whatever the context and score', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CONTEXT_STATUSES),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (status, n, groupsPresent) => {
          const registry = resolveRegistry(bundle, groupsPresent ? GROUPS : [], policy.modes.FAIL_CLOSED);
          const decision = decide(
            {
              registry,
              context: { status, reasons: [] },
              actionPosture: policy.modes.FAIL_CLOSED.action_posture,
              rules: score(n),
            },
            bundle.actions,
          );
          expect(ACTION_KINDS).toContain(decision.action_kind);
          expect(decision.action_kind).not.toBe('ALLOW');
          expect(decision.reason_codes).toEqual([...new Set(decision.reason_codes)].sort());
        },
      ),
      { numRuns: 200, seed: 20261207 },
    );
  });
});
