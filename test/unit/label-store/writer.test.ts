import { describe, expect, it } from 'vitest';
import {
  type LabelAssertionInput,
  labelAssertionId,
  labelAssertionPayloadHash,
} from '../../../lib/contracts/label-store.ts';
import { UNSCOPED_RUN } from '../../../lib/label-store/observability.ts';
import { writeLabelAssertion, writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore, LABEL_PINS, labelInput } from './fakes.ts';

/**
 * The Label Store's writer against the in-memory port (downstream.md §4.3, §9 #18): every outcome and reason code,
 * what each writes (a rejection only its counters and mismatch row), the batch form (one claim and one settle, a
 * repeat within the batch judged like a later write) and two concurrent writers of one id.
 */

const RUN = LABEL_PINS.platform_run_id;
const subject = (input: LabelAssertionInput) => input.label_subject_key;

describe('a new assertion', () => {
  it('is ACCEPTED/ASSERTION_COMMITTED_NEW with its recipe id and hash, stored with one timeline row', async () => {
    const store = inMemoryLabelStore();
    const input = labelInput();
    const result = await writeLabelAssertion(store, input);
    expect(result).toEqual({
      status: 'ACCEPTED',
      reason_code: 'ASSERTION_COMMITTED_NEW',
      label_assertion_id: labelAssertionId(input),
      payload_hash: labelAssertionPayloadHash(input),
    });
    const stored = store.tables.assertions.get(labelAssertionId(input));
    expect(stored).toMatchObject({ label_value: 'FRAUD_SUSPECTED', replay_count: 0 });
    // Evidence is stored in its canonical order (by type, then id).
    expect(stored?.evidence_refs.map((r) => r.ref_type)).toEqual(['CASE_EVENT', 'DECISION']);
    expect(await store.timelineOf(subject(input), 'fraud_disposition')).toEqual([
      expect.objectContaining({
        label_assertion_id: labelAssertionId(input),
        label_value: 'FRAUD_SUSPECTED',
      }),
    ]);
    expect(store.tables.metrics.get(RUN)).toEqual({ writes_total: 1, committed_new_total: 1 });
  });

  it('a HUMAN assertion naming its actor is accepted', async () => {
    const store = inMemoryLabelStore();
    const result = await writeLabelAssertion(
      store,
      labelInput({ source_type: 'HUMAN', actor_id: 'HUMAN::investigator-7', label_value: 'LEGIT_CONFIRMED' }),
    );
    expect(result.reason_code).toBe('ASSERTION_COMMITTED_NEW');
  });
});

describe('the same id again', () => {
  it('identical ⇒ ACCEPTED/ASSERTION_REPLAY_MATCH: replay_count + 1, no new timeline row', async () => {
    const store = inMemoryLabelStore();
    const input = labelInput();
    await writeLabelAssertion(store, input);
    // The same evidence in another order is the same assertion.
    const again = { ...input, evidence_refs: [...input.evidence_refs].reverse() };
    expect(await writeLabelAssertion(store, again)).toMatchObject({
      status: 'ACCEPTED',
      reason_code: 'ASSERTION_REPLAY_MATCH',
      label_assertion_id: labelAssertionId(input),
    });
    expect(await writeLabelAssertion(store, input)).toMatchObject({ reason_code: 'ASSERTION_REPLAY_MATCH' });
    expect(store.tables.assertions.get(labelAssertionId(input))?.replay_count).toBe(2);
    expect(store.tables.timeline).toHaveLength(1);
    expect(store.tables.metrics.get(RUN)).toEqual({
      writes_total: 3,
      committed_new_total: 1,
      replay_match_total: 2,
    });
  });

  it('other content ⇒ REJECTED/PAYLOAD_HASH_MISMATCH; the stored assertion stands; a mismatch row with both hashes', async () => {
    const store = inMemoryLabelStore();
    const input = labelInput();
    await writeLabelAssertion(store, input);
    const changed = { ...input, label_value: 'LEGIT_CONFIRMED' };
    const result = await writeLabelAssertion(store, changed);
    expect(result).toMatchObject({
      status: 'REJECTED',
      reason_code: 'PAYLOAD_HASH_MISMATCH',
      label_assertion_id: labelAssertionId(input),
      payload_hash: labelAssertionPayloadHash(changed),
    });
    expect(store.tables.assertions.get(labelAssertionId(input))).toMatchObject({
      label_value: 'FRAUD_SUSPECTED',
      replay_count: 0,
    });
    expect(store.tables.timeline).toHaveLength(1);
    expect(await store.mismatchesOfRun(RUN)).toEqual([
      {
        label_assertion_id: labelAssertionId(input),
        reason_code: 'PAYLOAD_HASH_MISMATCH',
        platform_run_id: RUN,
        event_id: 'evt-1',
        label_type: 'fraud_disposition',
        incoming_payload_hash: labelAssertionPayloadHash(changed),
        stored_payload_hash: labelAssertionPayloadHash(input),
      },
    ]);
    expect(store.tables.metrics.get(RUN)).toMatchObject({
      rejected_total: 1,
      payload_hash_mismatch_total: 1,
    });
  });

  it('stored for another (run, event, type) ⇒ REJECTED/DEDUPE_TUPLE_COLLISION, nothing written but its rows', async () => {
    const store = inMemoryLabelStore();
    const input = labelInput();
    const id = labelAssertionId(input);
    // Another event's assertion held under this id (an id collision, or an id recipe that changed).
    const other = labelInput({ event_id: 'evt-other' });
    await store.claim([{ ...other, label_assertion_id: id, payload_hash: labelAssertionPayloadHash(other) }]);
    const result = await writeLabelAssertion(store, input);
    expect(result).toMatchObject({
      status: 'REJECTED',
      reason_code: 'DEDUPE_TUPLE_COLLISION',
      label_assertion_id: id,
    });
    expect(result.detail).toContain('evt-other');
    expect(store.tables.assertions.get(id)?.label_subject_key.event_id).toBe('evt-other');
    expect(store.tables.mismatches).toEqual([
      expect.objectContaining({
        reason_code: 'DEDUPE_TUPLE_COLLISION',
        event_id: 'evt-1',
        incoming_payload_hash: labelAssertionPayloadHash(input),
        stored_payload_hash: labelAssertionPayloadHash(other),
      }),
    ]);
    expect(store.tables.metrics.get(RUN)).toMatchObject({
      rejected_total: 1,
      dedupe_tuple_collision_total: 1,
    });
  });
});

describe('rejected before the store', () => {
  it('no evidence ⇒ REJECTED/MISSING_EVIDENCE_REFS, nothing stored, counted under its run', async () => {
    const store = inMemoryLabelStore();
    const result = await writeLabelAssertion(store, labelInput({ evidence_refs: [] }));
    expect(result).toMatchObject({ status: 'REJECTED', reason_code: 'MISSING_EVIDENCE_REFS' });
    expect(store.tables.assertions.size).toBe(0);
    expect(store.tables.timeline).toHaveLength(0);
    expect(store.calls.claim).toBeUndefined();
    expect(store.tables.metrics.get(RUN)).toEqual({
      writes_total: 1,
      rejected_total: 1,
      missing_evidence_refs_total: 1,
    });
  });

  it.each([
    ['a value outside its type', { label_value: 'CHARGEBACK' }, 'CONTRACT_INVALID:LABEL_VALUE_INVALID'],
    [
      'a HUMAN without actor',
      { source_type: 'HUMAN', actor_id: undefined },
      'CONTRACT_INVALID:ACTOR_REQUIRED',
    ],
    [
      'a subject of another run than the pins',
      { pins: { ...LABEL_PINS, platform_run_id: 'platform_20261208T000000Z' } },
      'CONTRACT_INVALID:SUBJECT_RUN_MISMATCH',
    ],
    [
      'a time without microseconds',
      { observed_time: '2026-12-07T10:00:00Z' },
      'CONTRACT_INVALID:observed_time',
    ],
    [
      'an unknown evidence type',
      { evidence_refs: [{ ref_type: 'RUMOUR', ref_id: 'x' }] },
      'CONTRACT_INVALID:evidence_refs.0.ref_type',
    ],
    ['an unknown label type', { label_type: 'velocity' }, 'CONTRACT_INVALID:label_type'],
  ] as [string, Record<string, unknown>, string][])('%s ⇒ %s', async (_name, overrides, reason) => {
    const store = inMemoryLabelStore();
    const input: Record<string, unknown> = { ...labelInput(), ...overrides };
    if ('actor_id' in overrides && overrides.actor_id === undefined) delete input.actor_id;
    const result = await writeLabelAssertion(store, input);
    expect(result).toMatchObject({ status: 'REJECTED', reason_code: reason });
    expect(result.detail).toBeTruthy();
    expect(store.tables.assertions.size).toBe(0);
    expect(store.tables.metrics.get(RUN)).toEqual({
      writes_total: 1,
      rejected_total: 1,
      contract_invalid_total: 1,
    });
  });

  it('an input with no readable run is counted UNSCOPED; a whole-input failure is named by its zod code', async () => {
    const store = inMemoryLabelStore();
    expect((await writeLabelAssertion(store, 'not an assertion')).reason_code).toBe(
      'CONTRACT_INVALID:INVALID_TYPE',
    );
    expect((await writeLabelAssertion(store, { ...labelInput(), extra: 1 })).reason_code).toBe(
      'CONTRACT_INVALID:UNRECOGNIZED_KEYS',
    );
    expect(store.tables.metrics.get(UNSCOPED_RUN)).toEqual({
      writes_total: 1,
      rejected_total: 1,
      contract_invalid_total: 1,
    });
    expect(store.tables.metrics.get(RUN)).toMatchObject({ contract_invalid_total: 1 });
  });
});

describe('the batch form', () => {
  it('one claim and one settle; each item has its own outcome, a repeat within the batch judged like a later write', async () => {
    const store = inMemoryLabelStore();
    const stored = labelInput({ event_id: 'evt-stored' });
    await writeLabelAssertion(store, stored);
    const callsBefore = { ...store.calls };
    const fresh = labelInput({ event_id: 'evt-new' });
    const results = await writeLabelAssertions(store, [
      fresh,
      stored,
      { ...fresh },
      { ...fresh, label_value: 'LEGIT_CONFIRMED' },
      labelInput({ event_id: 'evt-bare', evidence_refs: [] }),
      { ...stored, label_value: 'BOGUS' },
      { ...stored, observed_time: '2026-12-07T11:00:00.000000Z' },
    ]);
    expect(results.map((r) => `${r.status}/${r.reason_code}`)).toEqual([
      'ACCEPTED/ASSERTION_COMMITTED_NEW',
      'ACCEPTED/ASSERTION_REPLAY_MATCH',
      'ACCEPTED/ASSERTION_REPLAY_MATCH',
      'REJECTED/PAYLOAD_HASH_MISMATCH',
      'REJECTED/MISSING_EVIDENCE_REFS',
      'REJECTED/CONTRACT_INVALID:LABEL_VALUE_INVALID',
      'REJECTED/PAYLOAD_HASH_MISMATCH',
    ]);
    expect(store.calls.claim).toBe((callsBefore.claim ?? 0) + 1);
    expect(store.calls.settle).toBe((callsBefore.settle ?? 0) + 1);
    expect(store.tables.assertions.get(labelAssertionId(fresh))?.replay_count).toBe(1);
    expect(store.tables.assertions.get(labelAssertionId(stored))?.replay_count).toBe(1);
    expect(store.tables.timeline).toHaveLength(2);
    expect(store.tables.mismatches.map((m) => m.event_id)).toEqual(['evt-new', 'evt-stored']);
    expect(store.tables.metrics.get(RUN)).toEqual({
      writes_total: 8,
      committed_new_total: 2,
      replay_match_total: 2,
      rejected_total: 4,
      payload_hash_mismatch_total: 2,
      missing_evidence_refs_total: 1,
      contract_invalid_total: 1,
    });
  });

  it('an empty batch touches nothing', async () => {
    const store = inMemoryLabelStore();
    expect(await writeLabelAssertions(store, [])).toEqual([]);
    expect(store.calls).toEqual({});
  });
});

describe('two writers of one id at once', () => {
  it('one commits it, the other replays it', async () => {
    const store = inMemoryLabelStore();
    const input = labelInput();
    const results = await Promise.all([writeLabelAssertion(store, input), writeLabelAssertion(store, input)]);
    expect(results.map((r) => r.reason_code).sort()).toEqual([
      'ASSERTION_COMMITTED_NEW',
      'ASSERTION_REPLAY_MATCH',
    ]);
    expect(store.tables.timeline).toHaveLength(1);
    expect(store.tables.assertions.get(labelAssertionId(input))?.replay_count).toBe(1);
  });
});
