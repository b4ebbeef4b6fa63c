import { describe, expect, it } from 'vitest';
import type { LabelApiAsOfLabels, LabelApiEventLabels } from '../../../lib/contracts/label-api.ts';
import { RUN } from './factories.ts';
import { labelApiWorld } from './label-api-harness.ts';

/**
 * `GET /v1/labels` (lib/case-management/label-api.ts) on in-memory ports with the label store's real reads: without
 * `as_of` every assertion about the event (case management's AUTO label and what was posted), with `as_of` the as-of
 * answer per label type — RESOLVED, CONFLICT, NOT_FOUND —, and 400 LABEL_QUERY_INVALID for a bad query.
 */

const EVENT = { platform_run_id: RUN, event_id: 'evt-1' };

/** A world with a HUMAN FRAUD_CONFIRMED observed at 11:00 and an EXTERNAL CHARGEBACK observed at 11:30. */
async function labelledWorld() {
  const w = await labelApiWorld();
  const human = await w.post(w.humanLabel({ observed_time: '2026-12-07T11:00:00Z' }));
  const external = await w.post(
    w.humanLabel({
      source_type: 'EXTERNAL',
      actor_id: 'EXTERNAL::chargeback_feed',
      label_type: 'chargeback_status',
      label_value: 'CHARGEBACK',
      observed_time: '2026-12-07T11:30:00Z',
      evidence_refs: [{ ref_type: 'EXTERNAL_REF', ref_id: 'cb-991' }],
    }),
  );
  expect([human.status, external.status]).toEqual([201, 201]);
  return w;
}

describe('GET /v1/labels', () => {
  it('without as_of: every assertion about the event, by label type and the §4.3 order', async () => {
    const w = await labelledWorld();
    const { status, body } = await w.get(EVENT);
    expect(status).toBe(200);
    const answer = body as unknown as LabelApiEventLabels;
    expect(answer).toMatchObject({ ...EVENT, label_type: null });
    expect(answer.assertions.map((a) => [a.label_type, a.label_value, a.source_type])).toEqual([
      ['chargeback_status', 'CHARGEBACK', 'EXTERNAL'],
      ['fraud_disposition', 'FRAUD_SUSPECTED', 'AUTO'],
      ['fraud_disposition', 'FRAUD_CONFIRMED', 'HUMAN'],
    ]);
    const only = (await w.get({ ...EVENT, label_type: 'chargeback_status' }))
      .body as unknown as LabelApiEventLabels;
    expect([only.label_type, only.assertions.map((a) => a.label_value)]).toEqual([
      'chargeback_status',
      ['CHARGEBACK'],
    ]);
    const none = (await w.get({ ...EVENT, event_id: 'evt-unknown' })).body as unknown as LabelApiEventLabels;
    expect(none.assertions).toEqual([]);
  });

  it('with as_of: what was known then, per label type — before, between and after the observed times', async () => {
    const w = await labelledWorld();
    const asOf = async (as_of: string) => {
      const { status, body } = await w.get({ ...EVENT, as_of });
      expect(status).toBe(200);
      const answer = body as unknown as LabelApiAsOfLabels;
      return answer.labels.map((l) => [l.label_type, l.status, l.label_value ?? null]);
    };
    // Before the case's AUTO label (observed 10:00:01): nothing.
    expect(await asOf('2026-12-07T10:00:00Z')).toEqual([
      ['fraud_disposition', 'NOT_FOUND', null],
      ['chargeback_status', 'NOT_FOUND', null],
      ['account_takeover', 'NOT_FOUND', null],
    ]);
    expect(await asOf('2026-12-07T10:59:59.999999Z')).toEqual([
      ['fraud_disposition', 'RESOLVED', 'FRAUD_SUSPECTED'],
      ['chargeback_status', 'NOT_FOUND', null],
      ['account_takeover', 'NOT_FOUND', null],
    ]);
    // An as_of with an offset is the same instant in UTC (12:00+01:00 = 11:00Z, the HUMAN label's observed_time).
    expect(await asOf('2026-12-07T12:00:00+01:00')).toEqual([
      ['fraud_disposition', 'RESOLVED', 'FRAUD_CONFIRMED'],
      ['chargeback_status', 'NOT_FOUND', null],
      ['account_takeover', 'NOT_FOUND', null],
    ]);
    expect(await asOf('2026-12-07T11:30:00Z')).toEqual([
      ['fraud_disposition', 'RESOLVED', 'FRAUD_CONFIRMED'],
      ['chargeback_status', 'RESOLVED', 'CHARGEBACK'],
      ['account_takeover', 'NOT_FOUND', null],
    ]);
    const one = (await w.get({ ...EVENT, as_of: '2026-12-07T11:30:00Z', label_type: 'chargeback_status' }))
      .body as unknown as LabelApiAsOfLabels;
    expect(one).toMatchObject({ ...EVENT, as_of: '2026-12-07T11:30:00.000000Z' });
    expect(one.labels.map((l) => l.label_type)).toEqual(['chargeback_status']);
  });

  it('CONFLICT: two values asserted for the same observed and effective instant', async () => {
    const w = await labelApiWorld();
    const at = { observed_time: '2026-12-07T11:00:00Z', effective_time: '2026-12-07T10:00:00Z' };
    expect((await w.post(w.humanLabel({ ...at, label_value: 'FRAUD_CONFIRMED' }))).status).toBe(201);
    expect(
      (await w.post(w.humanLabel({ ...at, label_value: 'LEGIT_CONFIRMED', actor_id: 'HUMAN::analyst_9' })))
        .status,
    ).toBe(201);
    const { body } = await w.get({
      ...EVENT,
      as_of: '2026-12-07T11:00:00Z',
      label_type: 'fraud_disposition',
    });
    expect((body as unknown as LabelApiAsOfLabels).labels).toEqual([
      expect.objectContaining({
        status: 'CONFLICT',
        conflicting_values: ['FRAUD_CONFIRMED', 'LEGIT_CONFIRMED'],
      }),
    ]);
    // A correction observed later settles it.
    await w.post(w.humanLabel({ observed_time: '2026-12-07T11:05:00Z', label_value: 'LEGIT_CONFIRMED' }));
    const later = await w.get({ ...EVENT, as_of: '2026-12-07T11:05:00Z', label_type: 'fraud_disposition' });
    expect((later.body as unknown as LabelApiAsOfLabels).labels[0]).toMatchObject({
      status: 'RESOLVED',
      label_value: 'LEGIT_CONFIRMED',
    });
  });

  it.each([
    ['no event_id', { platform_run_id: RUN }],
    ['no platform_run_id', { event_id: 'evt-1' }],
    ['a malformed platform_run_id', { platform_run_id: 'run-1', event_id: 'evt-1' }],
    ['an empty event_id', { ...EVENT, event_id: '' }],
    ['an unknown label type', { ...EVENT, label_type: 'mule_account' }],
    ['an as_of that is no time', { ...EVENT, as_of: 'yesterday' }],
    ['an as_of without its zone', { ...EVENT, as_of: '2026-12-07T10:00:00' }],
    ['an as_of that is no instant', { ...EVENT, as_of: '2026-13-01T10:00:00Z' }],
    ['an unknown parameter', { ...EVENT, case_id: 'x' }],
  ])('400 LABEL_QUERY_INVALID: %s', async (_what, query) => {
    const w = await labelApiWorld();
    const { status, body } = await w.get(query as Record<string, string>);
    expect(status).toBe(400);
    expect(body.error).toBe('LABEL_QUERY_INVALID');
    expect(typeof body.detail).toBe('string');
  });
});
