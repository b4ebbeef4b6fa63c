import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelAssertionId, type StoredLabelAssertion } from '../../../lib/contracts/label-store.ts';
import { RequestInvalid } from '../../../lib/errors/platform-error.ts';
import { labelAsOf, labelsOfEvent, resolveAsOf } from '../../../lib/label-store/reads.ts';
import { writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore, LABEL_PINS, labelInput } from './fakes.ts';

/**
 * As-of reads (downstream.md §4.3): among assertions observed by as_of, ordered by observed_time, effective_time,
 * id, the latest wins (RESOLVED); different values tied at the latest (observed, effective) instant are a CONFLICT;
 * none is NOT_FOUND. Corrections are new assertions, so earlier as-of reads keep their answer.
 */

const SUBJECT = { platform_run_id: LABEL_PINS.platform_run_id, event_id: 'evt-1' };
const at = (hhmm: string) => `2026-12-07T${hhmm}:00.000000Z`;

/** An assertion of evt-1's fraud_disposition, its timeline event named after `tag`. */
const assertion = (tag: string, value: string, observed: string, effective = at('09:00')) =>
  labelInput({
    case_timeline_event_id: `cte-${tag}`,
    label_value: value,
    observed_time: observed,
    effective_time: effective,
  });

async function storeWith(...inputs: ReturnType<typeof labelInput>[]) {
  const store = inMemoryLabelStore();
  const results = await writeLabelAssertions(store, inputs);
  expect(results.every((r) => r.reason_code === 'ASSERTION_COMMITTED_NEW')).toBe(true);
  return store;
}

describe('labelAsOf', () => {
  it('a correction: NOT_FOUND before anything was observed, then the value known at each instant', async () => {
    const suspected = assertion('auto', 'FRAUD_SUSPECTED', at('10:00'));
    const corrected = assertion('human', 'LEGIT_CONFIRMED', at('12:00'));
    const store = await storeWith(suspected, corrected);
    const read = (asOf: string) => labelAsOf(store, SUBJECT, 'fraud_disposition', asOf);
    expect(await read(at('09:59'))).toEqual({
      status: 'NOT_FOUND',
      label_subject_key: SUBJECT,
      label_type: 'fraud_disposition',
      as_of: at('09:59'),
    });
    // Observed exactly at as_of counts as known.
    expect(await read(at('10:00'))).toMatchObject({ status: 'RESOLVED', label_value: 'FRAUD_SUSPECTED' });
    const later = await read(at('13:00'));
    expect(later).toMatchObject({ status: 'RESOLVED', label_value: 'LEGIT_CONFIRMED' });
    expect(later.assertion?.label_assertion_id).toBe(labelAssertionId(corrected));
    // Another label type of the same event, and another event, know nothing.
    expect((await labelAsOf(store, SUBJECT, 'chargeback_status', at('13:00'))).status).toBe('NOT_FOUND');
    expect(
      (await labelAsOf(store, { ...SUBJECT, event_id: 'evt-2' }, 'fraud_disposition', at('13:00'))).status,
    ).toBe('NOT_FOUND');
  });

  it('observed together: the later effective_time wins', async () => {
    const store = await storeWith(
      assertion('a', 'FRAUD_CONFIRMED', at('10:00'), at('09:30')),
      assertion('b', 'LEGIT_CONFIRMED', at('10:00'), at('09:00')),
    );
    expect(await labelAsOf(store, SUBJECT, 'fraud_disposition', at('11:00'))).toMatchObject({
      status: 'RESOLVED',
      label_value: 'FRAUD_CONFIRMED',
    });
  });

  it('different values at the same (observed, effective) ⇒ CONFLICT, until a later observation settles it', async () => {
    const store = await storeWith(
      assertion('a', 'FRAUD_CONFIRMED', at('10:00')),
      assertion('b', 'LEGIT_CONFIRMED', at('10:00')),
      assertion('c', 'FRAUD_CONFIRMED', at('10:00')),
      assertion('d', 'LEGIT_CONFIRMED', at('11:00')),
    );
    const conflict = await labelAsOf(store, SUBJECT, 'fraud_disposition', at('10:30'));
    expect(conflict).toMatchObject({
      status: 'CONFLICT',
      conflicting_values: ['FRAUD_CONFIRMED', 'LEGIT_CONFIRMED'],
    });
    expect(conflict.label_value).toBeUndefined();
    expect(await labelAsOf(store, SUBJECT, 'fraud_disposition', at('11:00'))).toMatchObject({
      status: 'RESOLVED',
      label_value: 'LEGIT_CONFIRMED',
    });
  });

  it('the same value twice at the latest instant is RESOLVED, by the larger id', async () => {
    const a = assertion('a', 'FRAUD_CONFIRMED', at('10:00'));
    const b = assertion('b', 'FRAUD_CONFIRMED', at('10:00'));
    const store = await storeWith(a, b);
    const answer = await labelAsOf(store, SUBJECT, 'fraud_disposition', at('10:00'));
    const larger = [labelAssertionId(a), labelAssertionId(b)].sort()[1];
    expect(answer).toMatchObject({ status: 'RESOLVED', label_value: 'FRAUD_CONFIRMED' });
    expect(answer.assertion?.label_assertion_id).toBe(larger);
  });

  it('a malformed query is RequestInvalid LABEL_QUERY_INVALID', async () => {
    const store = inMemoryLabelStore();
    await expect(labelAsOf(store, SUBJECT, 'fraud_disposition', '2026-12-07')).rejects.toBeInstanceOf(
      RequestInvalid,
    );
    await expect(
      labelAsOf(store, { ...SUBJECT, platform_run_id: 'run-1' }, 'fraud_disposition', at('10:00')),
    ).rejects.toMatchObject({ code: 'LABEL_QUERY_INVALID' });
    await expect(labelsOfEvent(store, SUBJECT.platform_run_id, '')).rejects.toMatchObject({
      code: 'LABEL_QUERY_INVALID',
    });
  });
});

describe('labelsOfEvent', () => {
  it('every assertion of the event, by type and then the as-of order', async () => {
    const chargeback = labelInput({
      case_timeline_event_id: 'cte-cb',
      label_type: 'chargeback_status',
      label_value: 'CHARGEBACK',
    });
    const store = await storeWith(
      assertion('late', 'LEGIT_CONFIRMED', at('12:00')),
      chargeback,
      assertion('early', 'FRAUD_SUSPECTED', at('10:00')),
      labelInput({ event_id: 'evt-2' }),
    );
    const labels = await labelsOfEvent(store, SUBJECT.platform_run_id, 'evt-1');
    expect(labels.map((l) => `${l.label_type}:${l.label_value}`)).toEqual([
      'chargeback_status:CHARGEBACK',
      'fraud_disposition:FRAUD_SUSPECTED',
      'fraud_disposition:LEGIT_CONFIRMED',
    ]);
  });
});

describe('resolveAsOf', () => {
  const VALUES = ['FRAUD_CONFIRMED', 'FRAUD_SUSPECTED', 'LEGIT_CONFIRMED'];
  const stored = fc
    .record({
      tag: fc.string({ minLength: 1, maxLength: 6 }),
      value: fc.constantFrom(...VALUES),
      observed: fc.integer({ min: 0, max: 5 }),
      effective: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ tag, value, observed, effective }): StoredLabelAssertion => {
      const input = assertion(tag, value, at(`1${observed}:00`), at(`0${effective}:00`));
      return { ...input, label_assertion_id: labelAssertionId(input), payload_hash: 'h', replay_count: 0 };
    });

  it('does not depend on the order the store answers in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(stored, { maxLength: 12, selector: (a) => a.label_assertion_id }),
        fc.integer({ min: 0, max: 6 }),
        (assertions, hour) => {
          const asOf = at(`1${hour}:00`);
          const forward = resolveAsOf(SUBJECT, 'fraud_disposition', asOf, assertions);
          const backward = resolveAsOf(SUBJECT, 'fraud_disposition', asOf, [...assertions].reverse());
          expect(backward).toEqual(forward);
          const known = assertions.filter((a) => a.observed_time <= asOf);
          expect(forward.status === 'NOT_FOUND').toBe(known.length === 0);
        },
      ),
    );
  });
});
