import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselineOf, nextPosture, type Posture } from '../../../lib/degrade-ladder/ladder.ts';
import { compareModes, MODES, type Mode } from '../../../lib/degrade-ladder/policy.ts';
import { healthReading, type JudgedSignal, judgeSignals } from '../../../lib/degrade-ladder/signals.ts';
import { loadDegradePolicy } from '../../../lib/runtime/degrade-ladder-config.ts';

/**
 * The ladder's pure parts (lib/degrade-ladder): the policy file, signals judged by age and bootstrap grace, the
 * baseline mode, and hysteresis — worse at once, better only after the quiet period has held across ticks.
 */

const policy = loadDegradePolicy();
const T0 = new Date('2026-12-07T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const ok = (name: JudgedSignal['name'], required = true): JudgedSignal => ({
  name,
  required,
  status: 'OK',
  reason: null,
  evidence_ref: null,
});
const ALL_OK = [
  ...policy.signals.required.map((n) => ok(n)),
  ...policy.signals.optional.map((n) => ok(n, false)),
];

describe('the degrade ladder policy', () => {
  it('config/degrade-ladder/policy.json is the reference profile local_parity: masks per mode, 120 s, 60 s quiet', () => {
    expect(policy).toMatchObject({
      policy_id: 'dl.policy.v0',
      profile: 'local_parity',
      posture_max_age_seconds: 120,
    });
    expect(policy.modes.NORMAL.allowed_feature_groups).toEqual(['core_features', 'velocity', 'entity_graph']);
    expect(policy.modes.DEGRADED_2).toMatchObject({ allow_ieg: false, action_posture: 'STEP_UP_ONLY' });
    expect(policy.modes.FAIL_CLOSED).toMatchObject({
      allowed_feature_groups: [],
      allow_model_primary: false,
    });
    expect(policy.hysteresis.upshift_quiet_period_seconds).toBe(60);
  });

  it('a bad policy fails naming the field; a signal cannot be both required and optional', () => {
    const source = JSON.parse(JSON.stringify(policy)) as Record<string, unknown> & {
      signals: { optional: string[] };
    };
    expect(() => loadDegradePolicy({ ...source, posture_max_age_seconds: -1 })).toThrow(
      /posture_max_age_seconds/,
    );
    source.signals.optional.push('ofp_health');
    expect(() => loadDegradePolicy(source)).toThrow(/required or optional/);
  });
});

describe('signals', () => {
  it('a health state GREEN, CLEAN or HEALTHY is OK, anything else ERROR; no document is MISSING', () => {
    expect(healthReading('ofp_health', { health_state: 'CLEAN' }).state).toBe('OK');
    expect(healthReading('ofp_health', { health_state: 'AMBER' })).toMatchObject({
      state: 'ERROR',
      detail: 'health_state=AMBER',
    });
    expect(healthReading('ieg_health', undefined, 's3://b/k.json')).toEqual({
      name: 'ieg_health',
      state: 'MISSING',
      evidence_ref: 's3://b/k.json',
    });
  });

  it('a required signal not written yet is OK (BOOTSTRAP_PENDING) within the grace, MISSING after; an old one STALE', () => {
    const readings = [
      { name: 'ofp_health' as const, state: 'OK' as const, observed_at_utc: at(0).toISOString() },
    ];
    const early = judgeSignals(readings, policy, { now: at(30), startedAt: at(0) });
    expect(early.find((s) => s.name === 'ieg_health')).toMatchObject({
      status: 'OK',
      reason: 'BOOTSTRAP_PENDING',
    });
    expect(early.find((s) => s.name === 'control_publish_health')).toMatchObject({ status: 'MISSING' });
    const late = judgeSignals(readings, policy, { now: at(121), startedAt: at(0) });
    expect(late.find((s) => s.name === 'ieg_health')).toMatchObject({ status: 'MISSING' });
    expect(late.find((s) => s.name === 'ofp_health')).toMatchObject({
      status: 'STALE',
      reason: 'STALE:121s',
    });
    expect(judgeSignals(readings, policy, { now: at(120), startedAt: at(0) })[0]?.status).toBe('OK');
  });
});

describe('baseline', () => {
  it('required not OK ⇒ FAIL_CLOSED; optional ERROR ⇒ DEGRADED_2; optional missing or stale ⇒ DEGRADED_1; else NORMAL', () => {
    const withSignal = (name: JudgedSignal['name'], status: JudgedSignal['status']) =>
      ALL_OK.map((s) => (s.name === name ? { ...s, status } : s));
    expect(baselineOf(ALL_OK)).toEqual({ mode: 'NORMAL', reason: 'ALL_SIGNALS_OK' });
    expect(baselineOf(withSignal('eb_consumer_lag', 'ERROR'))).toEqual({
      mode: 'FAIL_CLOSED',
      reason: 'REQUIRED_SIGNAL_NOT_OK:eb_consumer_lag:ERROR',
    });
    expect(baselineOf(withSignal('control_publish_health', 'ERROR')).mode).toBe('DEGRADED_2');
    expect(baselineOf(withSignal('control_publish_health', 'STALE')).mode).toBe('DEGRADED_1');
    expect(baselineOf(withSignal('control_publish_health', 'MISSING')).mode).toBe('DEGRADED_1');
  });
});

describe('hysteresis', () => {
  const baseline = (mode: Mode) => ({ mode, reason: `test:${mode}` });

  it('the first tick is INITIAL at seq 1; worse is taken at once; better only after 60 s of better baselines', () => {
    let step = nextPosture(undefined, baseline('DEGRADED_1'), [], policy, at(0));
    expect(step).toMatchObject({ transition: 'INITIAL', posture: { mode: 'DEGRADED_1', posture_seq: 1 } });
    step = nextPosture(step.posture, baseline('FAIL_CLOSED'), [], policy, at(10));
    expect(step).toMatchObject({
      transition: 'MODE_CHANGE',
      posture: { mode: 'FAIL_CLOSED', posture_seq: 2 },
    });
    // Better from t=20: counted from that tick, held at 0, 20, 40 s, taken at 60 s.
    const held: number[] = [];
    for (const t of [20, 40, 60]) {
      step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(t));
      expect(step.transition).toBe('NONE');
      expect(step.posture.mode).toBe('FAIL_CLOSED');
      held.push(step.posture.upshift_quiet_seconds ?? -1);
    }
    expect(held).toEqual([0, 20, 40]);
    step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(80));
    expect(step).toMatchObject({ transition: 'MODE_CHANGE', posture: { mode: 'NORMAL', posture_seq: 6 } });
    expect(step.posture.capabilities_mask).toEqual(policy.modes.NORMAL);
  });

  it('a tick whose baseline is not better restarts the quiet period', () => {
    let step = nextPosture(undefined, baseline('FAIL_CLOSED'), [], policy, at(0));
    step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(10));
    step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(50));
    step = nextPosture(step.posture, baseline('FAIL_CLOSED'), [], policy, at(55));
    expect(step.posture.upshift_quiet_seconds).toBeNull();
    step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(60));
    step = nextPosture(step.posture, baseline('NORMAL'), [], policy, at(110));
    expect(step.posture).toMatchObject({ mode: 'FAIL_CLOSED', upshift_quiet_seconds: 50 });
  });

  it('property: seq rises by one a tick; never better than the baseline held for the whole quiet period; worse at once', () => {
    const ticks = fc.array(
      fc.record({ mode: fc.constantFrom(...MODES), after: fc.integer({ min: 1, max: 45 }) }),
      {
        minLength: 1,
        maxLength: 40,
      },
    );
    fc.assert(
      fc.property(ticks, (script) => {
        let current: Posture | undefined;
        let t = 0;
        const history: { t: number; mode: Mode }[] = [];
        for (const [i, tick] of script.entries()) {
          t += tick.after;
          const step = nextPosture(current, baseline(tick.mode), [], policy, at(t));
          history.push({ t, mode: tick.mode });
          expect(step.posture.posture_seq).toBe(i + 1);
          // Worse than the current mode, or the first tick: the baseline's mode at once.
          if (!current || compareModes(tick.mode, current.mode) >= 0)
            expect(step.posture.mode).toBe(tick.mode);
          else if (step.posture.mode !== current.mode) {
            // An upshift: every baseline since the quiet period began was better than the mode left.
            const since = history.filter((h) => h.t >= t - policy.hysteresis.upshift_quiet_period_seconds);
            expect(since.every((h) => compareModes(h.mode, current?.mode ?? 'NORMAL') < 0)).toBe(true);
            expect(step.posture.mode).toBe(tick.mode);
          }
          current = step.posture;
        }
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });
});
