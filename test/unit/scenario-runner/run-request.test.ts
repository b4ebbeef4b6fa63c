import { describe, expect, it } from 'vitest';
import { sortedJson } from '../../../lib/contracts/canonical-json.ts';
import { ENGINE_CATALOGUE, ENGINE_GATE_MAP } from '../../../lib/oracle-store/interface-pack.ts';
import { compilePlan, samePlanIntent, selectStrategy } from '../../../lib/scenario-runner/plan.ts';
import { canTransition } from '../../../lib/scenario-runner/reason-codes.ts';
import { canonicalRun } from '../../../lib/scenario-runner/run-request.ts';
import { PARITY_RUN_ID, request, settings, sha } from './scenario.ts';

describe('RunRequest (§3.1) and run identity (§3.2)', () => {
  it('golden §9.1: the parity key gives scenario_run_id e4f2285913cc771d0d8dd1ad475f7a01', () => {
    const run = canonicalRun(request());
    expect(run.run_id).toBe(PARITY_RUN_ID);
    expect(run.scenario_id).toBe('baseline_v1');
    expect(run.scenario_set).toBeNull();
  });

  it('the intent fingerprint is sha256 of SJ of the intent, datetimes in Python isoformat', () => {
    const run = canonicalRun(request());
    const expected = sha(
      '{"manifest_fingerprint": "' +
        run.intent.manifest_fingerprint +
        '", "parameter_hash": "' +
        run.intent.parameter_hash +
        '", "scenario_id": "baseline_v1", "scenario_set": null, "seed": 42, "window_end_utc": "2026-01-02T00:00:00+00:00", "window_start_utc": "2026-01-01T00:00:00+00:00", "window_tz": "UTC"}',
    );
    expect(run.intent_fingerprint).toBe(expected);
  });

  it('a scenario set becomes scnset_ + sha256 of the sorted members [:16], order-free', () => {
    const a = canonicalRun(request({ scenario: { scenario_set: ['b', 'a'] } }));
    const b = canonicalRun(request({ scenario: { scenario_set: ['a', 'b'] } }));
    expect(a.scenario_id).toBe(`scnset_${sha('a|b').slice(0, 16)}`);
    expect(b.scenario_id).toBe(a.scenario_id);
    // The set is fingerprinted as requested, so the order still matters there.
    expect(a.intent_fingerprint).not.toBe(b.intent_fingerprint);
  });

  it.each([
    ['an extra field', { extra: 1 }],
    ['both scenario_id and scenario_set', { scenario: { scenario_id: 'x', scenario_set: ['y'] } }],
    ['an empty scenario_set', { scenario: { scenario_set: [] } }],
    ['a scenario_id over 512 characters', { scenario: { scenario_id: 'x'.repeat(513) } }],
    ['an empty equivalence key', { run_equivalence_key: '' }],
    ['a manifest_fingerprint that is not hex64', { manifest_fingerprint: 'ABC' }],
    ['a negative seed', { seed: -1 }],
    ['a seed above 2^64 - 1', { seed: 2n ** 64n }],
    [
      'a window that ends before it starts',
      { window: { window_start_utc: '2026-01-02T00:00:00Z', window_end_utc: '2026-01-01T00:00:00Z' } },
    ],
    [
      'a naive window start',
      { window: { window_start_utc: '2026-01-01T00:00:00', window_end_utc: '2026-01-02T00:00:00Z' } },
    ],
    ['an unknown strategy', { requested_strategy: 'SOMETIMES' }],
  ])('refuses %s with RUN_REQUEST_INVALID', (_, overrides) => {
    expect(() => canonicalRun(request(overrides))).toThrow(/^RUN_REQUEST_INVALID/);
  });

  it('compares window bounds as instants across offsets', () => {
    const window = { window_start_utc: '2026-01-01T01:00:00+02:00', window_end_utc: '2026-01-01T00:00:00Z' };
    expect(canonicalRun(request({ window })).intent.window_tz).toBe('UTC');
  });

  it('keeps a uint64 seed beyond 2^53 exact', () => {
    const run = canonicalRun(request({ seed: 18446744073709551615n }));
    expect(run.request.seed).toBe(18446744073709551615n);
  });
});

describe('plan (§3.3 step 2–3)', () => {
  const now = new Date('2026-01-01T00:00:00.123Z');
  const input = {
    runId: PARITY_RUN_ID,
    outputIds: undefined,
    requestedStrategy: undefined,
    policy: settings().policy,
    now,
    catalogue: ENGINE_CATALOGUE,
    gateMap: ENGINE_GATE_MAP,
  };

  it('plans the policy traffic outputs, the ten gates, the deadline, and hashes SJ of the rest', () => {
    const compiled = compilePlan(input);
    if (!compiled.ok) throw new Error(compiled.detail);
    const { plan_hash, ...basis } = compiled.plan;
    expect(basis.intended_outputs).toEqual(['s2_event_stream_baseline_6B', 's3_event_stream_with_fraud_6B']);
    expect(basis.required_gates).toHaveLength(10);
    expect(basis.created_at_utc).toBe('2026-01-01T00:00:00.123000Z');
    expect(basis.evidence_deadline_utc).toBe('2026-01-01T00:10:00.123000Z');
    expect(basis.strategy).toBe('AUTO');
    expect(plan_hash).toBe(sha(sortedJson(basis)));
  });

  it('a later compile of the same intent is the same plan but for its times', () => {
    const a = compilePlan(input);
    const b = compilePlan({ ...input, now: new Date('2026-01-01T05:00:00Z') });
    if (!a.ok || !b.ok) throw new Error('plan refused');
    expect(a.plan.plan_hash).not.toBe(b.plan.plan_hash);
    expect(samePlanIntent(a.plan, b.plan)).toBe(true);
    const c = compilePlan({ ...input, outputIds: ['s3_event_stream_with_fraud_6B'] });
    if (!c.ok) throw new Error('plan refused');
    expect(samePlanIntent(a.plan, c.plan)).toBe(false);
  });

  it('strategy: reuse not ALLOWed forces FORCE_INVOKE; else the requested one; else AUTO', () => {
    const policy = settings().policy;
    expect(selectStrategy({ ...policy, reuse_policy: 'DENY' }, 'FORCE_REUSE')).toBe('FORCE_INVOKE');
    expect(selectStrategy(policy, 'FORCE_REUSE')).toBe('FORCE_REUSE');
    expect(selectStrategy(policy, undefined)).toBe('AUTO');
  });
});

describe('status transitions (§3.3)', () => {
  it.each([
    [undefined, 'OPEN', true],
    [undefined, 'READY', false],
    ['OPEN', 'PLANNED', true],
    ['OPEN', 'READY', false],
    ['PLANNED', 'READY', true],
    ['WAITING_EVIDENCE', 'WAITING_EVIDENCE', true],
    ['WAITING_EVIDENCE', 'READY', true],
    ['READY', 'FAILED', false],
    ['FAILED', 'READY', false],
    ['QUARANTINED', 'QUARANTINED', true],
  ] as const)('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});
