import { describe, expect, it } from 'vitest';
import { postgresLabelStore } from '../../../lib/adapters/label-store-stores.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import {
  type LabelAssertionInput,
  labelAssertionId,
  labelAssertionPayloadHash,
  type StoredLabelAssertion,
} from '../../../lib/contracts/label-store.ts';
import { InvariantViolation } from '../../../lib/errors/platform-error.ts';
import type { LabelMismatch, NewLabelAssertion } from '../../../lib/label-store/ports.ts';
import { type ScriptedAnswer, scriptedPool } from '../../support/scripted-pool.ts';
import { LABEL_PINS, labelInput } from './fakes.ts';

/**
 * The Label Store on Postgres (lib/adapters/label-store-stores.ts) against a scripted pool (the SQL itself runs in
 * test/integration/label-store/store.test.ts): a claim's one insert statement and its thirteen columns (JSON columns
 * as canonical text, no actor as null), the second read of the ids not inserted, answers in batch order; a settle's
 * one statement (replays, mismatch columns, positive counter additions) or none; the reads' filters, parameters and
 * orders, and the rows mapped back (JSON parsed exactly, a null actor left out, numbers from text); and errors.
 */

const RUN = LABEL_PINS.platform_run_id;
const OTHER_RUN = 'platform_20261208T100000Z';
const OTHER = 'd'.repeat(64);
const SUBJECT = { platform_run_id: RUN, event_id: 'evt-1' };

function assertionOf(overrides: Parameters<typeof labelInput>[0] = {}): NewLabelAssertion {
  const input: LabelAssertionInput = labelInput(overrides);
  return {
    ...input,
    label_assertion_id: labelAssertionId(input),
    payload_hash: labelAssertionPayloadHash(input),
  };
}
/** The stored row of an assertion, as the adapter's SELECT answers it (JSON columns as canonical text). */
const rowOf = (a: NewLabelAssertion, replay_count = 0) => ({
  label_assertion_id: a.label_assertion_id,
  platform_run_id: a.label_subject_key.platform_run_id,
  event_id: a.label_subject_key.event_id,
  label_type: a.label_type,
  label_value: a.label_value,
  effective_time: a.effective_time,
  observed_time: a.observed_time,
  source_type: a.source_type,
  actor_id: a.actor_id ?? null,
  evidence_refs: canonicalJson(a.evidence_refs),
  case_timeline_event_id: a.case_timeline_event_id,
  pins: canonicalJson(a.pins),
  payload_hash: a.payload_hash,
  replay_count,
});
const identityOf = (a: NewLabelAssertion, payload_hash = a.payload_hash) => ({
  platform_run_id: a.label_subject_key.platform_run_id,
  event_id: a.label_subject_key.event_id,
  label_type: a.label_type,
  payload_hash,
});
const mismatch = (
  id: string,
  reason_code: LabelMismatch['reason_code'] = 'PAYLOAD_HASH_MISMATCH',
): LabelMismatch => ({
  label_assertion_id: id,
  reason_code,
  platform_run_id: RUN,
  event_id: `evt-${id}`,
  label_type: 'fraud_disposition',
  incoming_payload_hash: OTHER,
  stored_payload_hash: 'c'.repeat(64),
});
const failing = (error: Error) =>
  scriptedPool(() => {
    throw error;
  });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('the Label Store on Postgres: claims', () => {
  /** Answers the claim with `inserted` ids and the stored read with `stored` rows. */
  const claimed =
    (inserted: string[], stored: Record<string, unknown>[] = []) =>
    (sql: string): ScriptedAnswer => {
      if (sql.startsWith('WITH input AS'))
        return { rows: inserted.map((label_assertion_id) => ({ label_assertion_id })) };
      if (sql.includes('FROM ls_label_assertions WHERE label_assertion_id = ANY')) return { rows: stored };
      return undefined;
    };

  it('one statement sends every column (JSON as canonical text, no actor as null); all inserted: COMMITTED', async () => {
    const human = assertionOf({ event_id: 'evt-2', source_type: 'HUMAN', actor_id: 'HUMAN::analyst-7' });
    const { actor_id: _, ...auto } = assertionOf({ event_id: 'evt-1' });
    const batch: NewLabelAssertion[] = [human, auto];
    const db = scriptedPool(claimed([auto.label_assertion_id, human.label_assertion_id]));
    expect(await postgresLabelStore(db.pool).claim(batch)).toEqual([
      { status: 'COMMITTED' },
      { status: 'COMMITTED' },
    ]);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(
      /INSERT INTO ls_label_timeline[\s\S]*SELECT label_assertion_id FROM inserted$/,
    );
    expect(db.calls[0]?.params).toEqual([
      [human.label_assertion_id, auto.label_assertion_id],
      [RUN, RUN],
      ['evt-2', 'evt-1'],
      ['fraud_disposition', 'fraud_disposition'],
      ['FRAUD_SUSPECTED', 'FRAUD_SUSPECTED'],
      [human.effective_time, auto.effective_time],
      [human.observed_time, auto.observed_time],
      ['HUMAN', 'AUTO'],
      ['HUMAN::analyst-7', null],
      [canonicalJson(human.evidence_refs), canonicalJson(auto.evidence_refs)],
      [human.case_timeline_event_id, auto.case_timeline_event_id],
      [canonicalJson(human.pins), canonicalJson(auto.pins)],
      [human.payload_hash, auto.payload_hash],
    ]);
  });

  it('the ids not inserted are read in a second statement and answered STORED with their identity, in batch order', async () => {
    const [a, b, c] = [
      assertionOf({ event_id: 'a' }),
      assertionOf({ event_id: 'b' }),
      assertionOf({ event_id: 'c' }),
    ];
    const stored = [
      { label_assertion_id: c.label_assertion_id, ...identityOf(c, OTHER) },
      { label_assertion_id: a.label_assertion_id, ...identityOf(a) },
    ];
    const db = scriptedPool(claimed([b.label_assertion_id], stored));
    expect(await postgresLabelStore(db.pool).claim([a, b, c])).toEqual([
      { status: 'STORED', stored: identityOf(a) },
      { status: 'COMMITTED' },
      { status: 'STORED', stored: identityOf(c, OTHER) },
    ]);
    expect(db.calls).toHaveLength(2);
    expect(db.calls[1]?.sql).toMatch(
      /^SELECT label_assertion_id, platform_run_id, event_id, label_type, payload_hash/,
    );
    expect(db.calls[1]?.params).toEqual([[a.label_assertion_id, c.label_assertion_id]]);
  });

  it('an empty batch sends nothing; an id that conflicted but is not stored: InvariantViolation naming it', async () => {
    const [a, b] = [assertionOf({ event_id: 'a' }), assertionOf({ event_id: 'b' })];
    const db = scriptedPool(claimed([], [{ label_assertion_id: a.label_assertion_id, ...identityOf(a) }]));
    const store = postgresLabelStore(db.pool);
    expect(await store.claim([])).toEqual([]);
    expect(db.calls).toEqual([]);
    const error = await store.claim([a, b]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvariantViolation);
    expect((error as Error).message).toContain(
      `label assertion ${b.label_assertion_id} conflicted but is absent`,
    );
    expect(db.calls).toHaveLength(2);
  });
});

describe('the Label Store on Postgres: settle', () => {
  it('one statement: replays as given (repeats kept), mismatch columns, positive counter additions per run', async () => {
    const db = scriptedPool();
    await postgresLabelStore(db.pool).settle({
      replays: ['id-2', 'id-1', 'id-2'],
      mismatches: [mismatch('id-3'), mismatch('id-4', 'DEDUPE_TUPLE_COLLISION')],
      counters: new Map<string, Record<string, number>>([
        [RUN, { accepted: 2, rejected: 0, replayed: 3 }],
        [OTHER_RUN, { accepted: 0 }],
        ['platform_20261209T100000Z', { mismatched: 9_007_199_254_740_991 }],
      ]),
    });
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/^WITH replays AS[\s\S]*INSERT INTO ls_metrics[\s\S]*SELECT 1$/);
    expect(db.calls[0]?.params).toEqual([
      ['id-2', 'id-1', 'id-2'],
      ['id-3', 'id-4'],
      ['PAYLOAD_HASH_MISMATCH', 'DEDUPE_TUPLE_COLLISION'],
      [RUN, RUN],
      ['evt-id-3', 'evt-id-4'],
      ['fraud_disposition', 'fraud_disposition'],
      [OTHER, OTHER],
      ['c'.repeat(64), 'c'.repeat(64)],
      [RUN, RUN, 'platform_20261209T100000Z'],
      ['accepted', 'replayed', 'mismatched'],
      ['2', '3', '9007199254740991'],
    ]);
  });

  it('nothing to settle (no replays, no mismatches, only zero additions) sends nothing; any one of them sends', async () => {
    const db = scriptedPool();
    const store = postgresLabelStore(db.pool);
    const none = { replays: [], mismatches: [], counters: new Map() };
    await store.settle(none);
    await store.settle({ ...none, counters: new Map([[RUN, { accepted: 0, replayed: -1 }]]) });
    expect(db.calls).toEqual([]);

    await store.settle({ ...none, replays: ['id-1'] });
    await store.settle({ ...none, mismatches: [mismatch('id-2')] });
    await store.settle({ ...none, counters: new Map([[RUN, { accepted: 1 }]]) });
    expect(db.calls.map((c) => [c.params[0], c.params[1], c.params[9]])).toEqual([
      [['id-1'], [], []],
      [[], ['id-2'], []],
      [[], [], ['accepted']],
    ]);
  });
});

describe('the Label Store on Postgres: reads', () => {
  it('assertionsAsOf: filter, parameters and order; rows mapped back exactly (a 64-bit seed, a null actor left out)', async () => {
    const big = assertionOf({ event_id: 'evt-1', pins: { ...LABEL_PINS, seed: 2n ** 60n + 7n } });
    const { actor_id: _, ...anonymous } = assertionOf({ event_id: 'evt-1', label_value: 'LEGIT' });
    const db = scriptedPool((sql) =>
      sql.includes('FROM ls_label_assertions') ? { rows: [rowOf(big, 2), rowOf(anonymous)] } : undefined,
    );
    const found = await postgresLabelStore(db.pool).assertionsAsOf(
      SUBJECT,
      'fraud_disposition',
      '2026-12-07T11:00:00.000000Z',
    );
    const expected: StoredLabelAssertion[] = [
      { ...big, replay_count: 2 },
      { ...anonymous, replay_count: 0 },
    ];
    expect(found).toEqual(expected);
    expect(found[0]?.pins.seed).toBe(2n ** 60n + 7n);
    expect(found[1]).not.toHaveProperty('actor_id');
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(
      /^SELECT label_assertion_id, [\s\S]*replay_count FROM ls_label_assertions WHERE platform_run_id = \$1 AND event_id = \$2 AND label_type = \$3 AND observed_time <= \$4 ORDER BY observed_time, effective_time, label_assertion_id$/,
    );
    expect(db.calls[0]?.params).toEqual([RUN, 'evt-1', 'fraud_disposition', '2026-12-07T11:00:00.000000Z']);
  });

  it('assertionsOfEvent: the event of every type, by type then time then id', async () => {
    const a = assertionOf({ event_id: 'evt-1' });
    const db = scriptedPool(() => ({ rows: [rowOf(a, 1)] }));
    expect(await postgresLabelStore(db.pool).assertionsOfEvent(SUBJECT)).toEqual([{ ...a, replay_count: 1 }]);
    expect(db.calls[0]?.sql).toMatch(
      /WHERE platform_run_id = \$1 AND event_id = \$2 ORDER BY label_type, observed_time, effective_time, label_assertion_id$/,
    );
    expect(db.calls[0]?.params).toEqual([RUN, 'evt-1']);
  });

  it('assertionsOfRun: a page after an id (none: after the empty string), limited; no rows: none', async () => {
    const a = assertionOf({ event_id: 'evt-9' });
    let answer: ScriptedAnswer = { rows: [rowOf(a)] };
    const db = scriptedPool(() => answer);
    const store = postgresLabelStore(db.pool);
    expect(await store.assertionsOfRun(RUN, { afterId: 'id-5', limit: 50 })).toEqual([
      { ...a, replay_count: 0 },
    ]);
    answer = undefined;
    expect(await store.assertionsOfRun(RUN, { limit: 10 })).toEqual([]);
    expect(db.calls[0]?.sql).toMatch(
      /WHERE platform_run_id = \$1 AND label_assertion_id > \$2 ORDER BY label_assertion_id LIMIT \$3$/,
    );
    expect(db.calls.map((c) => c.params)).toEqual([
      [RUN, 'id-5', 50],
      [RUN, '', 10],
    ]);
  });

  it('timelineOf: the subject and type, in commit order, timeline_seq as a number', async () => {
    const entry = {
      label_assertion_id: 'id-1',
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_SUSPECTED',
      effective_time: '2026-12-07T10:00:00.000000Z',
      observed_time: '2026-12-07T10:00:00.000000Z',
      source_type: 'AUTO',
    };
    const db = scriptedPool(() => ({
      rows: [
        { ...entry, timeline_seq: '7' },
        { ...entry, label_assertion_id: 'id-2', timeline_seq: '12' },
      ],
    }));
    expect(await postgresLabelStore(db.pool).timelineOf(SUBJECT, 'fraud_disposition')).toEqual([
      { ...entry, timeline_seq: 7 },
      { ...entry, label_assertion_id: 'id-2', timeline_seq: 12 },
    ]);
    expect(db.calls[0]?.sql).toMatch(
      /FROM ls_label_timeline WHERE platform_run_id = \$1 AND event_id = \$2 AND label_type = \$3\s+ORDER BY timeline_seq$/,
    );
    expect(db.calls[0]?.params).toEqual([RUN, 'evt-1', 'fraud_disposition']);
  });

  it('mismatchesOfRun: the run rows oldest first, as stored', async () => {
    const rows = [mismatch('id-1'), mismatch('id-2', 'DEDUPE_TUPLE_COLLISION')];
    const db = scriptedPool(() => ({ rows }));
    expect(await postgresLabelStore(db.pool).mismatchesOfRun(RUN)).toEqual(rows);
    expect(db.calls[0]?.sql).toMatch(
      /FROM ls_label_mismatches WHERE platform_run_id = \$1 ORDER BY mismatch_id$/,
    );
    expect(db.calls[0]?.params).toEqual([RUN]);
  });

  it('runTotals: counts and counters from text as numbers; an empty counter object; no row: InvariantViolation', async () => {
    let answer: ScriptedAnswer = {
      rows: [{ assertions: '12', replays: '5', counters: '{"accepted" : "12", "replayed" : "5"}' }],
    };
    const db = scriptedPool(() => answer);
    const store = postgresLabelStore(db.pool);
    expect(await store.runTotals(RUN)).toEqual({
      assertions: 12,
      replays: 5,
      counters: { accepted: 12, replayed: 5 },
    });
    answer = { rows: [{ assertions: '0', replays: '0', counters: '{}' }] };
    expect(await store.runTotals(OTHER_RUN)).toEqual({ assertions: 0, replays: 0, counters: {} });
    answer = undefined;
    await expect(store.runTotals(RUN)).rejects.toThrow(
      new InvariantViolation('label store totals answered no row'),
    );
    expect(db.calls.map((c) => c.params)).toEqual([[RUN], [OTHER_RUN], [RUN]]);
    expect(db.calls[0]?.sql).toMatch(/json_object_agg\(metric_name, value::text\)/);
  });
});

describe('the Label Store on Postgres: errors', () => {
  it('an unreachable database is DatabaseUnavailable from every method; any other error is passed on as it is', async () => {
    const store = postgresLabelStore(failing(withCode('terminating connection', '57P01')).pool);
    const calls = [
      () => store.claim([assertionOf()]),
      () => store.settle({ replays: ['id-1'], mismatches: [], counters: new Map() }),
      () => store.assertionsAsOf(SUBJECT, 'fraud_disposition', '2026-12-07T11:00:00.000000Z'),
      () => store.assertionsOfEvent(SUBJECT),
      () => store.assertionsOfRun(RUN, { limit: 1 }),
      () => store.timelineOf(SUBJECT, 'fraud_disposition'),
      () => store.mismatchesOfRun(RUN),
      () => store.runTotals(RUN),
    ];
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(DatabaseUnavailable);

    const unique = withCode('duplicate key value violates unique constraint', '23505');
    const other = postgresLabelStore(failing(unique).pool);
    await expect(other.claim([assertionOf()])).rejects.toBe(unique);
    await expect(other.timelineOf(SUBJECT, 'fraud_disposition')).rejects.toBe(unique);
  });
});
