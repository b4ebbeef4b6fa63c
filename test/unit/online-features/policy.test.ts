import { describe, expect, it } from 'vitest';
import { FEATURE_KEY_TYPES } from '../../../lib/online-features/keys.ts';
import { type FeatureGroupPolicy, keyFeaturePlan } from '../../../lib/online-features/policy.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';

const WINDOWS = [
  { window: '10m', duration_seconds: 600 },
  { window: '1h', duration_seconds: 3600 },
];
const group = (over: Record<string, unknown> = {}) => ({
  name: 'g',
  version: 'v1',
  key_types: ['account_id'],
  windows: WINDOWS,
  totals: true,
  first_seen: false,
  ...over,
});
const policyWith = (...groups: Record<string, unknown>[]) => ({
  policy_id: 'p',
  revision: 'r1',
  feature_groups: groups,
});

describe('the feature policy in config/online-features/feature-policy.json', () => {
  it('is parsed once and has core_features v1 and velocity v1 over 10m, 1h, 24h and 7d', () => {
    const policy = loadFeaturePolicy();
    expect(loadFeaturePolicy()).toBe(policy);
    expect(policy.policy_id).toBe('ofp.features.v0');
    for (const g of policy.feature_groups)
      expect(g.windows.map((w) => w.window)).toEqual(['10m', '1h', '24h', '7d']);
    const core = policy.feature_groups.find((g) => g.name === 'core_features' && g.version === 'v1');
    expect(core?.key_types).toEqual([...FEATURE_KEY_TYPES]);
    expect(core).toMatchObject({ totals: true, first_seen: true });
    const velocity = policy.feature_groups.find((g) => g.name === 'velocity');
    expect(velocity?.distinct_counterparts).toContainEqual({
      key_type: 'instrument_id',
      counterpart_type: 'merchant_id',
    });
    expect(velocity?.distinct_counterparts).toContainEqual({
      key_type: 'account_id',
      counterpart_type: 'ip_id',
    });
    expect(velocity?.distinct_counterparts).toContainEqual({
      key_type: 'account_id',
      counterpart_type: 'device_id',
    });
  });

  it('a valid source is parsed (distinct_counterparts defaults to none)', () => {
    expect(loadFeaturePolicy(policyWith(group())).feature_groups[0]?.distinct_counterparts).toEqual([]);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      'a window whose duration is not its label',
      policyWith(group({ windows: [{ window: '10m', duration_seconds: 60 }] })),
      /what the window label says/,
    ],
    [
      'a repeated window',
      policyWith(group({ windows: [WINDOWS[0], WINDOWS[0]] })),
      /window label is repeated/,
    ],
    ['an unknown key type', policyWith(group({ key_types: ['customer_id'] })), /key_types\.0/],
    [
      'a repeated key type',
      policyWith(group({ key_types: ['account_id', 'account_id'] })),
      /key_types: repeated/,
    ],
    [
      'a pair whose key is not one of the group',
      policyWith(group({ distinct_counterparts: [{ key_type: 'ip_id', counterpart_type: 'account_id' }] })),
      /not one of the group's key_types/,
    ],
    [
      'a key as its own counterpart',
      policyWith(
        group({ distinct_counterparts: [{ key_type: 'account_id', counterpart_type: 'account_id' }] }),
      ),
      /not its own counterpart/,
    ],
    [
      'a repeated pair',
      policyWith(
        group({
          distinct_counterparts: [
            { key_type: 'account_id', counterpart_type: 'ip_id' },
            { key_type: 'account_id', counterpart_type: 'ip_id' },
          ],
        }),
      ),
      /pair is repeated/,
    ],
    [
      'a key type with no feature',
      policyWith(
        group({
          totals: false,
          key_types: ['account_id', 'ip_id'],
          distinct_counterparts: [{ key_type: 'account_id', counterpart_type: 'ip_id' }],
        }),
      ),
      /ip_id would have no feature/,
    ],
    ['a group declared twice', policyWith(group(), group()), /declared twice/],
    ['no group', policyWith(), /feature_groups/],
    ['an unknown field', { ...policyWith(group()), extra: 1 }, /extra/],
  ];
  it.each(invalid)('refuses %s, naming the file and the field', (_what, source, message) => {
    expect(() => loadFeaturePolicy(source)).toThrow(/config\/online-features\/feature-policy\.json/);
    expect(() => loadFeaturePolicy(source)).toThrow(message);
  });
});

describe('keyFeaturePlan', () => {
  const groups = loadFeaturePolicy(
    policyWith(
      group({ name: 'a', key_types: ['account_id', 'flow_id'], windows: [WINDOWS[0]] }),
      group({
        name: 'b',
        key_types: ['account_id'],
        windows: WINDOWS,
        totals: false,
        first_seen: true,
        distinct_counterparts: [{ key_type: 'account_id', counterpart_type: 'device_id' }],
      }),
    ),
  ).feature_groups as FeatureGroupPolicy[];

  it('merges the families of the groups covering a key type, windows once each', () => {
    const plan = keyFeaturePlan('account_id', groups);
    expect(plan).toMatchObject({ totals: true, firstSeen: true });
    expect(plan.totalsWindows.map((w) => w.window)).toEqual(['10m']);
    expect(plan.distinct.map((d) => `${d.counterpart_type}_${d.window.window}`)).toEqual([
      'device_id_10m',
      'device_id_1h',
    ]);
  });

  it('asks for nothing of a key type no group covers', () => {
    expect(keyFeaturePlan('ip_id', groups)).toEqual({
      totals: false,
      totalsWindows: [],
      firstSeen: false,
      distinct: [],
    });
    expect(keyFeaturePlan('flow_id', groups)).toMatchObject({ totals: true, firstSeen: false, distinct: [] });
  });
});
