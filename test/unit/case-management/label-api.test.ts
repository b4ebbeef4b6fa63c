import { describe, expect, it } from 'vitest';
import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import { CaseTimelineEvent, caseTimelineEventId } from '../../../lib/contracts/case-management.ts';
import {
  investigatorAssertionSourceRef,
  LabelApiAssertion,
  LabelApiWriteAnswer,
} from '../../../lib/contracts/label-api.ts';
import {
  type LabelAssertionInput,
  type LabelWriteResult,
  labelAssertionId,
} from '../../../lib/contracts/label-store.ts';
import { OTHER_RUN, RUN } from './factories.ts';
import { labelApiWorld, READER_KEY } from './label-api-harness.ts';

/**
 * `POST /v1/labels` (lib/case-management/label-api.ts) on in-memory ports with the label store's real writer: a HUMAN
 * or EXTERNAL assertion on a case is written to the label store and recorded as the case's INVESTIGATOR_ASSERTION
 * (201), the same assertion again is a replay (200); every bad input is a 4xx with its reason code that writes
 * nothing — no assertion, no timeline event, not even a label store counter (so no input moves its health).
 */

describe('POST /v1/labels: accepted', () => {
  it('201: a HUMAN label is written to the label store and recorded on the case’s timeline', async () => {
    const w = await labelApiWorld();
    const { status, body } = await w.post(w.humanLabel());
    expect(status).toBe(201);
    const answer = LabelApiWriteAnswer.parse(body);
    expect(answer.reason_code).toBe('ASSERTION_COMMITTED_NEW');

    const stored = w.labels.tables.assertions.get(answer.label_assertion_id);
    expect(stored).toMatchObject({
      case_timeline_event_id: answer.case_timeline_event_id,
      label_subject_key: { platform_run_id: RUN, event_id: 'evt-1' },
      pins: { platform_run_id: RUN },
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_CONFIRMED',
      source_type: 'HUMAN',
      actor_id: 'HUMAN::analyst_7',
      effective_time: '2026-12-07T10:00:00.000000Z',
      // observed_time left to the API: the clock's instant, six fractional digits.
      observed_time: '2026-12-07T12:00:00.123000Z',
      evidence_refs: [{ ref_type: 'CASE_EVENT', ref_id: 'note-1' }],
    });

    const [row, ...more] = w.investigatorEvents();
    expect(more).toEqual([]);
    const { platform_run_id: run, ...event } = row ?? { platform_run_id: undefined };
    expect(run).toBe(RUN);
    expect(CaseTimelineEvent.parse(event)).toMatchObject({
      case_timeline_event_id: answer.case_timeline_event_id,
      case_id: w.trigger.case_id,
      observed_time: '2026-12-07T12:00:00.123000Z',
      recorded_at_utc: '2026-12-07T12:00:00.123000Z',
      payload: {
        label_assertion_id: answer.label_assertion_id,
        label_value: 'FRAUD_CONFIRMED',
        actor_id: 'HUMAN::analyst_7',
        submitted_by: 'operator',
      },
    });
    // The id is the §4.2 recipe of (case, INVESTIGATOR_ASSERTION, source ref naming the assertion).
    const parsed = LabelApiAssertion.parse(w.humanLabel());
    expect(row?.source_ref_id).toBe(investigatorAssertionSourceRef(parsed));
    expect(row?.source_ref_id).toMatch(/^label:fraud_disposition:[0-9a-f]{64}$/);
    expect(answer.case_timeline_event_id).toBe(
      caseTimelineEventId(w.trigger.case_id, 'INVESTIGATOR_ASSERTION', row?.source_ref_id as string),
    );
  });

  it('200: the same POST again is a replay — same ids, the first observed_time, no second row anywhere', async () => {
    const w = await labelApiWorld();
    const first = LabelApiWriteAnswer.parse((await w.post(w.humanLabel())).body);
    const after = w.rows();
    w.clock.at += 60_000; // the API's clock moved on: the replay must keep the instant first taken
    const again = await w.post(w.humanLabel());
    expect(again.status).toBe(200);
    expect(LabelApiWriteAnswer.parse(again.body)).toEqual({
      ...first,
      reason_code: 'ASSERTION_REPLAY_MATCH',
    });
    expect({ ...w.rows(), label_metrics: undefined }).toEqual({ ...after, label_metrics: undefined });
    expect(w.labels.tables.assertions.get(first.label_assertion_id)?.replay_count).toBe(1);
    expect(w.investigatorEvents()).toHaveLength(1);
  });

  it('the same content with its times written otherwise is the same assertion; another value is a new one', async () => {
    const w = await labelApiWorld();
    const explicit = { observed_time: '2026-12-07T11:30:00Z' };
    const first = await w.post(w.humanLabel(explicit));
    expect(first.status).toBe(201);
    const again = await w.post(
      w.humanLabel({
        observed_time: '2026-12-07T12:30:00.000000+01:00',
        effective_time: '2026-12-07T10:00:00.0Z',
      }),
    );
    expect([again.status, again.body.label_assertion_id]).toEqual([200, first.body.label_assertion_id]);
    const correction = await w.post(w.humanLabel({ ...explicit, label_value: 'LEGIT_CONFIRMED' }));
    expect(correction.status).toBe(201);
    expect(correction.body.label_assertion_id).not.toBe(first.body.label_assertion_id);
    expect(w.investigatorEvents()).toHaveLength(2);
  });

  it('201: an EXTERNAL label needs no actor', async () => {
    const w = await labelApiWorld();
    const { status, body } = await w.post(
      w.humanLabel({
        source_type: 'EXTERNAL',
        actor_id: undefined,
        label_type: 'chargeback_status',
        label_value: 'CHARGEBACK',
        evidence_refs: [{ ref_type: 'EXTERNAL_REF', ref_id: 'cb-991' }],
      }),
    );
    expect(status).toBe(201);
    const stored = w.labels.tables.assertions.get(body.label_assertion_id as string);
    expect(stored).toMatchObject({ source_type: 'EXTERNAL', label_value: 'CHARGEBACK' });
    expect(stored?.actor_id).toBeUndefined();
  });
});

describe('POST /v1/labels: every bad input is a 4xx with its reason code, and nothing is written', () => {
  it.each([
    ['a bad taxonomy value', { label_value: 'CHARGEBACK' }, 400, 'LABEL_VALUE_INVALID'],
    ['no evidence', { evidence_refs: [] }, 400, 'MISSING_EVIDENCE_REFS'],
    ['no evidence_refs at all', { evidence_refs: undefined }, 400, 'MISSING_EVIDENCE_REFS'],
    ['a HUMAN source without an actor', { actor_id: undefined }, 400, 'ACTOR_REQUIRED'],
    ['another run’s subject', { platform_run_id: OTHER_RUN }, 409, 'SUBJECT_RUN_MISMATCH'],
    ['another event than the case’s', { event_id: 'evt-2' }, 409, 'SUBJECT_NOT_OF_CASE'],
    ['a case id that does not exist', { case_id: '0'.repeat(32) }, 404, 'CASE_NOT_FOUND'],
    ['an unknown field', { note: 'hi' }, 400, 'REQUEST_INVALID'],
    ['a source the platform keeps for itself', { source_type: 'AUTO' }, 400, 'REQUEST_INVALID'],
    ['an unknown label type', { label_type: 'mule_account' }, 400, 'REQUEST_INVALID'],
    ['a time without its zone', { effective_time: '2026-12-07T10:00:00' }, 400, 'REQUEST_INVALID'],
    ['a time that is no instant', { observed_time: '2026-02-30T10:00:00Z' }, 400, 'REQUEST_INVALID'],
    ['a case id that is no id', { case_id: 'CASE-1' }, 400, 'REQUEST_INVALID'],
    [
      'an evidence ref of an unknown type',
      { evidence_refs: [{ ref_type: 'NOTE', ref_id: 'x' }] },
      400,
      'REQUEST_INVALID',
    ],
  ])('%s', async (_what, change, status, code) => {
    const w = await labelApiWorld();
    const before = w.rows();
    const answer = await w.post(w.humanLabel(change));
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(code);
    expect(typeof answer.body.detail).toBe('string');
    expect(w.rows()).toEqual(before);
    expect(w.investigatorEvents()).toEqual([]);
    // Judged before the store: the writer was never called, so it counted nothing either.
    expect(w.writes).toEqual([]);
  });

  it('REQUEST_INVALID names the zod path of the field', async () => {
    const w = await labelApiWorld();
    const { body } = await w.post(w.humanLabel({ evidence_refs: [{ ref_type: 'CASE_EVENT' }] }));
    expect(body).toMatchObject({ error: 'REQUEST_INVALID' });
    expect(body.detail).toMatch(/^evidence_refs\.0\.ref_id: /);
  });

  it('a body that is not JSON, is empty, or is too large', async () => {
    const w = await labelApiWorld();
    const before = w.rows();
    expect((await w.post('{"case_id":')).body.error).toBe('INVALID_JSON');
    expect((await w.post('')).body.error).toBe('REQUEST_INVALID');
    expect((await w.request('POST', {})).body.error).toBe('REQUEST_INVALID');
    expect((await w.post('[1,2]')).body.error).toBe('REQUEST_INVALID');
    const huge = await w.post(w.humanLabel({ actor_id: 'x'.repeat(200 * 1024) }));
    expect([huge.status, huge.body.error]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(w.rows()).toEqual(before);
  });
});

/** A store that already holds the id the POST will compute, with another payload or for another subject. */
async function seededConflict(change: Partial<LabelAssertionInput>) {
  const w = await labelApiWorld();
  const body = w.humanLabel({ observed_time: '2026-12-07T11:00:00Z' });
  const parsed = LabelApiAssertion.parse(body);
  const eventId = caseTimelineEventId(
    parsed.case_id,
    'INVESTIGATOR_ASSERTION',
    investigatorAssertionSourceRef(parsed),
  );
  const input: LabelAssertionInput = {
    case_timeline_event_id: eventId,
    label_subject_key: { platform_run_id: RUN, event_id: 'evt-1' },
    pins: { platform_run_id: RUN },
    label_type: 'fraud_disposition',
    label_value: 'FRAUD_CONFIRMED',
    effective_time: '2026-12-07T10:00:00.000000Z',
    observed_time: '2026-12-07T11:00:00.000000Z',
    source_type: 'HUMAN',
    actor_id: 'HUMAN::analyst_7',
    evidence_refs: [{ ref_type: 'CASE_EVENT', ref_id: 'note-1' }],
  };
  const id = labelAssertionId(input);
  await w.labels.claim([{ ...input, ...change, label_assertion_id: id, payload_hash: 'e'.repeat(64) }]);
  return { w, body, id };
}

describe('POST /v1/labels: the label store’s refusals of a stored id', () => {
  it('409 PAYLOAD_HASH_MISMATCH: the id is stored with another payload; no timeline event', async () => {
    const { w, body, id } = await seededConflict({ observed_time: '2026-12-07T11:00:00.500000Z' });
    const answer = await w.post(body);
    expect([answer.status, answer.body.error]).toEqual([409, 'PAYLOAD_HASH_MISMATCH']);
    expect(w.investigatorEvents()).toEqual([]);
    expect(w.labels.tables.mismatches.map((m) => [m.label_assertion_id, m.reason_code])).toEqual([
      [id, 'PAYLOAD_HASH_MISMATCH'],
    ]);
  });

  it('409 DEDUPE_TUPLE_COLLISION: the id is stored for another subject; no timeline event', async () => {
    const { w, body } = await seededConflict({
      label_subject_key: { platform_run_id: RUN, event_id: 'evt-9' },
    });
    const answer = await w.post(body);
    expect([answer.status, answer.body.error]).toEqual([409, 'DEDUPE_TUPLE_COLLISION']);
    expect(w.investigatorEvents()).toEqual([]);
  });

  it.each([
    ['CONTRACT_INVALID:ACTOR_REQUIRED', 400, 'ACTOR_REQUIRED'],
    ['CONTRACT_INVALID:LABEL_VALUE_INVALID', 400, 'LABEL_VALUE_INVALID'],
    ['CONTRACT_INVALID:SUBJECT_RUN_MISMATCH', 409, 'SUBJECT_RUN_MISMATCH'],
    ['CONTRACT_INVALID:evidence_refs.0.ref_id', 400, 'CONTRACT_INVALID'],
    ['MISSING_EVIDENCE_REFS', 400, 'MISSING_EVIDENCE_REFS'],
    ['SOMETHING_NEW', 409, 'SOMETHING_NEW'],
  ])('a writer that answers REJECTED %s: %i %s, no timeline event', async (reason, status, code) => {
    const refusing: LabelWriter = {
      write: async (): Promise<LabelWriteResult> => ({
        status: 'REJECTED',
        reason_code: reason,
        detail: 'why',
      }),
    };
    const w = await labelApiWorld({ writer: refusing });
    const answer = await w.post(w.humanLabel());
    expect(answer).toEqual({ status, body: { error: code, detail: 'why' } });
    expect(w.writes).toHaveLength(1);
    expect(w.investigatorEvents()).toEqual([]);
  });

  it('a writer that throws: the error goes to the edge, and no timeline event is written', async () => {
    const failing: LabelWriter = { write: () => Promise.reject(new Error('label store down')) };
    const w = await labelApiWorld({ writer: failing });
    await expect(w.post(w.humanLabel())).rejects.toThrow('label store down');
    expect(w.investigatorEvents()).toEqual([]);
  });
});

describe('label API: keys, routes and methods', () => {
  it('401 without a key, 403 with a key no one holds; a reader’s bare key may not assert', async () => {
    const w = await labelApiWorld();
    const before = w.rows();
    expect(await w.post(w.humanLabel(), null)).toEqual({
      status: 401,
      body: { error: 'UNAUTHORIZED', detail: 'send the key in x-case-api-key' },
    });
    expect(await w.post(w.humanLabel(), 'guess')).toEqual({
      status: 403,
      body: { error: 'AUTH_DENIED', detail: null },
    });
    const reader = await w.post(w.humanLabel(), READER_KEY);
    expect([reader.status, reader.body.error]).toEqual([403, 'AUTH_DENIED']);
    expect(w.rows()).toEqual(before);
    expect((await w.get({ platform_run_id: RUN, event_id: 'evt-1' }, READER_KEY)).status).toBe(200);
  });

  it('404 ROUTE_NOT_FOUND for another path; 405 METHOD_NOT_ALLOWED for another method', async () => {
    const w = await labelApiWorld();
    for (const path of ['/v1/label', '/v1/labels/x', '/'])
      expect((await w.request('POST', { path, body: w.humanLabel() })).body.error, path).toBe(
        'ROUTE_NOT_FOUND',
      );
    expect((await w.request('POST', { path: '/v1/labels/', body: w.humanLabel() })).status).toBe(201);
    for (const method of ['PUT', 'DELETE', 'PATCH'])
      expect(await w.request(method, { body: w.humanLabel() })).toEqual({
        status: 405,
        body: { error: 'METHOD_NOT_ALLOWED', detail: 'GET or POST' },
      });
  });
});
