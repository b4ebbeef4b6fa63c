import { describe, expect, it } from 'vitest';
import {
  type LabelStoreMetrics,
  labelStoreHealth,
  labelStoreMetrics,
} from '../../../lib/label-store/observability.ts';
import { writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore, LABEL_PINS, labelInput } from './fakes.ts';

/**
 * The Label Store's metrics and health (downstream.md §4.3): accepted = assertions in the run, duplicate = Σ replays,
 * rejected and the anomaly counts from the counters, pending 0; health GREEN, raised to AMBER at ≥ 1 and RED at ≥ 10
 * by anomalies, rejected and pending, with a reason per rule.
 */

const RUN = LABEL_PINS.platform_run_id;

const metrics = (fields: Partial<LabelStoreMetrics> = {}): LabelStoreMetrics => ({
  platform_run_id: RUN,
  accepted: 5,
  rejected: 0,
  duplicate: 0,
  pending: 0,
  payload_hash_mismatch: 0,
  dedupe_tuple_collision: 0,
  ...fields,
});

describe('labelStoreMetrics', () => {
  it('counts a run: accepted assertions, Σ replays, rejections and mismatches; other runs apart', async () => {
    const store = inMemoryLabelStore();
    const a = labelInput({ event_id: 'evt-a' });
    const b = labelInput({ event_id: 'evt-b' });
    await writeLabelAssertions(store, [a, b, a, a, { ...b, label_value: 'LEGIT_CONFIRMED' }]);
    await writeLabelAssertions(store, [labelInput({ evidence_refs: [] })]);
    const otherRun = 'platform_20261208T000000Z';
    await writeLabelAssertions(store, [
      labelInput({
        label_subject_key: { platform_run_id: otherRun, event_id: 'evt-a' },
        pins: { ...LABEL_PINS, platform_run_id: otherRun },
      }),
    ]);
    expect(await labelStoreMetrics(store, RUN)).toEqual({
      platform_run_id: RUN,
      accepted: 2,
      rejected: 2,
      duplicate: 2,
      pending: 0,
      payload_hash_mismatch: 1,
      dedupe_tuple_collision: 0,
    });
    expect(await labelStoreMetrics(store, otherRun)).toMatchObject({
      accepted: 1,
      rejected: 0,
      duplicate: 0,
    });
  });
});

describe('labelStoreHealth', () => {
  it('GREEN with no anomaly, rejection or pending write (replays are not a problem)', () => {
    expect(labelStoreHealth(metrics({ duplicate: 40 }))).toMatchObject({
      health_state: 'GREEN',
      health_reasons: [],
    });
  });

  it.each([
    [{ rejected: 1 }, 'AMBER', ['REJECTED_AMBER']],
    [{ rejected: 9 }, 'AMBER', ['REJECTED_AMBER']],
    [{ rejected: 10 }, 'RED', ['REJECTED_RED']],
    [{ pending: 1 }, 'AMBER', ['PENDING_AMBER']],
    [{ pending: 10 }, 'RED', ['PENDING_RED']],
    [{ payload_hash_mismatch: 1, rejected: 1 }, 'AMBER', ['ANOMALIES_AMBER', 'REJECTED_AMBER']],
    // Anomalies add up across both kinds.
    [
      { payload_hash_mismatch: 5, dedupe_tuple_collision: 5, rejected: 10 },
      'RED',
      ['ANOMALIES_RED', 'REJECTED_RED'],
    ],
    // A RED rule is not lowered by a later AMBER one.
    [{ dedupe_tuple_collision: 10, rejected: 3 }, 'RED', ['ANOMALIES_RED', 'REJECTED_AMBER']],
  ] as [Partial<LabelStoreMetrics>, string, string[]][])('%o ⇒ %s', (fields, state, reasons) => {
    const health = labelStoreHealth(metrics(fields));
    expect(health.health_state).toBe(state);
    expect(health.health_reasons).toEqual(reasons);
  });

  it('thresholds can be given', () => {
    const strict = { amber: 1, red: 2 };
    const health = labelStoreHealth(metrics({ rejected: 2 }), {
      anomalies: strict,
      rejected: strict,
      pending: strict,
    });
    expect(health).toMatchObject({ health_state: 'RED', health_reasons: ['REJECTED_RED'], rejected: 2 });
  });
});
