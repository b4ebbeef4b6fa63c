import { describe, expect, it } from 'vitest';
import { postgresCaseStore } from '../../../lib/adapters/case-management-stores.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import type { LabelSettlement, TriggerIntake } from '../../../lib/case-management/ports.ts';
import { labelAnsweredEvent } from '../../../lib/case-management/timeline.ts';
import { triggerIntake } from '../../../lib/case-management/triggers.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { InvariantViolation } from '../../../lib/errors/platform-error.ts';
import { type ScriptedAnswer, scriptedPool } from '../../support/scripted-pool.ts';
import { OTHER_RUN, RUN, triggerPayload } from './factories.ts';

/**
 * Case management's Postgres store (lib/adapters/case-management-stores.ts), its transactions, against a scripted
 * pool (the SQL itself runs in test/integration/case-management/store.test.ts): takeIn claims the intake ledger, reads
 * the stored hash (and pending emission) of the rest, writes the new triggers' cases (added up per case), timeline
 * and emissions in one transaction; settle's guarded UPDATE and the timeline events of the settlements it applied;
 * refused data as RecordUnstorable, and ROLLBACK on error.
 */

const AT = '2026-12-07T11:00:00.000Z';
const T1 = '2026-12-07T10:00:01.000000Z';
const T2 = '2026-12-07T10:00:02.000000Z';
const T3 = '2026-12-07T10:00:03.000000Z';

/** Triggers a and b of one case (b observed first, c at the latest), d of another case. */
const intakeA = triggerIntake(triggerPayload('ev-1', { ref: 'a', observed_time: T2 }), AT);
const intakeB = triggerIntake(
  triggerPayload('ev-1', { ref: 'b', observed_time: T1 }),
  '2026-12-07T11:00:09.000Z',
);
const intakeC = triggerIntake(triggerPayload('ev-1', { ref: 'c', observed_time: T3 }), AT);
const intakeD = triggerIntake(triggerPayload('ev-2', { type: 'ACTION_FAILURE', observed_time: T1 }), AT);

/** Answers the claim with the ids it inserted and the stored-row read with `stored`. */
const ledger =
  (claimed: readonly TriggerIntake[], stored: Record<string, unknown>[] = []) =>
  (sql: string): ScriptedAnswer => {
    if (sql.startsWith('INSERT INTO cm_case_trigger_intake'))
      return { rows: claimed.map((i) => ({ case_trigger_id: i.case_trigger_id })) };
    if (sql.includes('FROM cm_case_trigger_intake i')) return { rows: stored };
    return undefined;
  };

/** A stored intake row joined with its PENDING emission (or none: the LEFT JOIN's nulls). */
const storedRow = (intake: TriggerIntake, payload_hash: string, attempts: number | null = null) =>
  attempts === null
    ? {
        case_trigger_id: intake.case_trigger_id,
        payload_hash,
        label_assertion_id: null,
        case_id: null,
        platform_run_id: null,
        label_pending_event_id: null,
        observed_time: null,
        input_json: null,
        attempts: null,
      }
    : {
        case_trigger_id: intake.case_trigger_id,
        payload_hash,
        label_assertion_id: intake.emission.label_assertion_id,
        case_id: intake.case_id,
        platform_run_id: intake.platform_run_id,
        label_pending_event_id: intake.emission.label_pending_event_id,
        observed_time: intake.observed_time,
        input_json: canonicalJson(intake.emission.input),
        attempts,
      };

const fail = (code: string, where: string) => (sql: string) => {
  if (sql.includes(where)) throw Object.assign(new Error(`refused ${code}`), { code });
  return undefined;
};

describe('the case management Postgres store: takeIn', () => {
  it('takes nothing in without a statement', async () => {
    const db = scriptedPool();
    expect(await postgresCaseStore(db.pool).takeIn([])).toEqual([]);
    expect(db.calls).toEqual([]);
  });

  it('new triggers: one claim from unnest columns, then cases, timeline and emissions, no stored read', async () => {
    const intakes = [intakeA, intakeD, intakeB, intakeC];
    const db = scriptedPool(ledger(intakes));
    const answers = await postgresCaseStore(db.pool).takeIn(intakes);
    expect(answers).toEqual(intakes.map(() => ({ outcome: 'NEW_TRIGGER' })));
    expect(db.log()).toEqual([
      'BEGIN',
      'INSERT cm_case_trigger_intake',
      'INSERT cm_cases',
      'INSERT cm_case_timeline',
      'INSERT cm_label_emissions',
      'COMMIT',
    ]);
    const col = (pick: (i: TriggerIntake) => unknown) => intakes.map(pick);
    expect(db.sqlOf('INTO cm_case_trigger_intake')[0]?.params).toEqual([
      col((i) => i.case_trigger_id),
      col((i) => i.platform_run_id),
      col((i) => i.case_id),
      col((i) => i.trigger_type),
      col((i) => i.source_ref_id),
      col((i) => i.observed_time),
      col((i) => i.payload_hash),
      col((i) => i.payload_json),
      col((i) => i.recorded_at_utc),
    ]);
    // One row per case, in first-seen order: a, b, c added up (count 3, earliest b, latest c, created at a's).
    expect(intakeA.case_id).toBe(intakeB.case_id);
    expect(db.sqlOf('INTO cm_cases')[0]?.params).toEqual([
      [intakeA.case_id, intakeD.case_id],
      [RUN, RUN],
      ['traffic_fraud', 'traffic_fraud'],
      ['ev-1', 'ev-2'],
      [intakeA.case_row.subject_hash, intakeD.case_row.subject_hash],
      [3, 1],
      [T1, T1],
      [T3, T1],
      [AT, AT],
    ]);
    const events = intakes.flatMap((i) => i.timeline);
    expect(events.length).toBeGreaterThan(intakes.length);
    expect(db.sqlOf('INTO cm_case_timeline')[0]?.params).toEqual([
      events.map((e) => e.case_timeline_event_id),
      events.map((e) => e.case_id),
      events.map(() => RUN),
      events.map((e) => e.timeline_event_type),
      events.map((e) => e.source_ref_id),
      events.map((e) => e.observed_time),
      events.map((e) => canonicalJson(e.payload)),
      events.map((e) => e.payload_hash),
      events.map((e) => e.recorded_at_utc),
    ]);
    expect(db.sqlOf('INTO cm_label_emissions')[0]?.params).toEqual([
      col((i) => i.emission.label_assertion_id),
      col((i) => i.emission.case_id),
      col((i) => i.emission.case_trigger_id),
      col((i) => i.emission.platform_run_id),
      col((i) => i.emission.label_pending_event_id),
      col((i) => i.observed_time),
      col((i) => canonicalJson(i.emission.input)),
    ]);
  });

  it('the rest read back once: same hash duplicate (with its PENDING emission or none), another a mismatch', async () => {
    const intakes = [intakeA, intakeB, intakeC, intakeD];
    const stored = [
      storedRow(intakeD, 'e'.repeat(64)),
      storedRow(intakeC, intakeC.payload_hash),
      storedRow(intakeA, intakeA.payload_hash, 2),
    ];
    const db = scriptedPool(ledger([intakeB], stored));
    const answers = await postgresCaseStore(db.pool).takeIn(intakes);
    expect(answers).toEqual([
      {
        outcome: 'DUPLICATE_TRIGGER',
        pending: {
          ...intakeA.emission,
          observed_time: intakeA.observed_time,
          attempts: 2,
        },
      },
      { outcome: 'NEW_TRIGGER' },
      { outcome: 'DUPLICATE_TRIGGER', pending: undefined },
      { outcome: 'TRIGGER_PAYLOAD_MISMATCH', stored_payload_hash: 'e'.repeat(64) },
    ]);
    expect(db.log()).toEqual([
      'BEGIN',
      'INSERT cm_case_trigger_intake',
      'SELECT cm_case_trigger_intake',
      'INSERT cm_cases',
      'INSERT cm_case_timeline',
      'INSERT cm_label_emissions',
      'COMMIT',
    ]);
    // Only the triggers the claim did not insert are read; only the new one is written.
    expect(db.sqlOf('FROM cm_case_trigger_intake i')[0]?.params).toEqual([
      [intakeA.case_trigger_id, intakeC.case_trigger_id, intakeD.case_trigger_id],
    ]);
    expect(db.sqlOf('INTO cm_cases')[0]?.params.slice(0, 1)).toEqual([[intakeB.case_id]]);
    expect(db.sqlOf('INTO cm_cases')[0]?.params.slice(5, 8)).toEqual([[1], [T1], [T1]]);
    expect(db.sqlOf('INTO cm_label_emissions')[0]?.params[0]).toEqual([intakeB.emission.label_assertion_id]);
    expect(db.sqlOf('INTO cm_case_timeline')[0]?.params[0]).toEqual(
      intakeB.timeline.map((e) => e.case_timeline_event_id),
    );
  });

  it('all taken in before: the stored read and COMMIT, nothing written', async () => {
    const db = scriptedPool(ledger([], [storedRow(intakeA, intakeA.payload_hash)]));
    expect(await postgresCaseStore(db.pool).takeIn([intakeA])).toEqual([
      { outcome: 'DUPLICATE_TRIGGER', pending: undefined },
    ]);
    expect(db.log()).toEqual([
      'BEGIN',
      'INSERT cm_case_trigger_intake',
      'SELECT cm_case_trigger_intake',
      'COMMIT',
    ]);
  });

  it('a trigger that conflicted but is not stored is an invariant violation, rolled back', async () => {
    const db = scriptedPool(ledger([intakeB], []));
    const taken = postgresCaseStore(db.pool).takeIn([intakeA, intakeB]);
    await expect(taken).rejects.toBeInstanceOf(InvariantViolation);
    await expect(taken).rejects.toThrow(intakeA.case_trigger_id);
    expect(db.log().at(-1)).toBe('ROLLBACK');
    expect(db.log()).not.toContain('COMMIT');
  });

  it.each([
    ['23505', 'INSERT INTO cm_cases'],
    ['22P02', 'INSERT INTO cm_case_trigger_intake'],
    ['54000', 'INSERT INTO cm_label_emissions'],
  ])('data Postgres refuses (%s) is RecordUnstorable, rolled back', async (code, where) => {
    const scripted = ledger([intakeA]);
    const db = scriptedPool((sql) => fail(code, where)(sql) ?? scripted(sql));
    const taken = postgresCaseStore(db.pool).takeIn([intakeA]);
    await expect(taken).rejects.toBeInstanceOf(RecordUnstorable);
    await expect(taken).rejects.toMatchObject({ cause: { code } });
    expect(db.log().at(-1)).toBe('ROLLBACK');
  });

  it('any other error is rethrown as it is; a lost connection is DatabaseUnavailable', async () => {
    const scripted = ledger([intakeA]);
    const failing = scriptedPool(
      (sql) => fail('XX000', 'INSERT INTO cm_case_timeline')(sql) ?? scripted(sql),
    );
    await expect(postgresCaseStore(failing.pool).takeIn([intakeA])).rejects.toMatchObject({
      code: 'XX000',
      message: 'refused XX000',
    });
    expect(failing.log().slice(-2)).toEqual(['INSERT cm_case_timeline', 'ROLLBACK']);
    const lost = scriptedPool(fail('08006', 'INSERT INTO cm_case_trigger_intake'));
    await expect(postgresCaseStore(lost.pool).takeIn([intakeA])).rejects.toBeInstanceOf(DatabaseUnavailable);
  });
});

const accepted = labelAnsweredEvent(
  intakeA.case_id,
  intakeA.emission.label_assertion_id,
  T2,
  { status: 'ACCEPTED', reason_code: 'ACCEPTED' },
  AT,
);
const rejected = labelAnsweredEvent(
  intakeD.case_id,
  intakeD.emission.label_assertion_id,
  T1,
  { status: 'REJECTED', reason_code: 'DUPLICATE_CONFLICT', detail: 'x' },
  AT,
);
const settlement = (intake: TriggerIntake, over: Partial<LabelSettlement>): LabelSettlement => ({
  label_assertion_id: intake.emission.label_assertion_id,
  attempts_before: 0,
  status: 'PENDING',
  reason_code: null,
  last_error: null,
  timeline_event: undefined,
  ...over,
});
/** Answers the guarded UPDATE with the emissions it applied to (their run as stored). */
const applied =
  (rows: { label_assertion_id: string; platform_run_id: string }[]) =>
  (sql: string): ScriptedAnswer =>
    sql.startsWith('UPDATE cm_label_emissions') ? { rows } : undefined;

describe('the case management Postgres store: settle', () => {
  it('settles nothing without a statement', async () => {
    const db = scriptedPool();
    expect(await postgresCaseStore(db.pool).settle([])).toEqual([]);
    expect(db.calls).toEqual([]);
  });

  it('one guarded UPDATE; answers which applied; timeline events only of those applied, in the stored run', async () => {
    const settlements = [
      settlement(intakeA, {
        attempts_before: 2,
        status: 'ACCEPTED',
        reason_code: 'ACCEPTED',
        timeline_event: accepted,
      }),
      settlement(intakeD, {
        status: 'REJECTED',
        reason_code: 'DUPLICATE_CONFLICT',
        timeline_event: rejected,
      }),
      settlement(intakeB, { attempts_before: 1, last_error: 'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE' }),
    ];
    const db = scriptedPool(
      applied([
        { label_assertion_id: intakeB.emission.label_assertion_id, platform_run_id: RUN },
        { label_assertion_id: intakeA.emission.label_assertion_id, platform_run_id: OTHER_RUN },
      ]),
    );
    expect(await postgresCaseStore(db.pool).settle(settlements)).toEqual([true, false, true]);
    expect(db.log()).toEqual(['BEGIN', db.calls[1]?.sql, 'INSERT cm_case_timeline', 'COMMIT']);
    expect(db.calls[1]?.sql).toMatch(/^UPDATE cm_label_emissions[\s\S]*RETURNING/);
    expect(db.calls[1]?.params).toEqual([
      settlements.map((s) => s.label_assertion_id),
      [2, 0, 1],
      ['ACCEPTED', 'REJECTED', 'PENDING'],
      ['ACCEPTED', 'DUPLICATE_CONFLICT', null],
      [null, null, 'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE'],
    ]);
    expect(db.sqlOf('INTO cm_case_timeline')[0]?.params).toEqual([
      [accepted.case_timeline_event_id],
      [accepted.case_id],
      [OTHER_RUN],
      ['LABEL_ACCEPTED'],
      [accepted.source_ref_id],
      [T2],
      [canonicalJson(accepted.payload)],
      [accepted.payload_hash],
      [AT],
    ]);
  });

  it('none applied (a concurrent attempt won): no timeline insert, all false', async () => {
    const db = scriptedPool(applied([]));
    const answers = await postgresCaseStore(db.pool).settle([
      settlement(intakeA, { timeline_event: accepted }),
    ]);
    expect(answers).toEqual([false]);
    expect(db.calls.map((c) => c.sql.split(' ')[0])).toEqual(['BEGIN', 'UPDATE', 'COMMIT']);
  });

  it('refused data is RecordUnstorable and the settlement rolled back', async () => {
    const scripted = applied([
      { label_assertion_id: intakeA.emission.label_assertion_id, platform_run_id: RUN },
    ]);
    const db = scriptedPool((sql) => fail('23514', 'INSERT INTO cm_case_timeline')(sql) ?? scripted(sql));
    const settled = postgresCaseStore(db.pool).settle([settlement(intakeA, { timeline_event: accepted })]);
    await expect(settled).rejects.toBeInstanceOf(RecordUnstorable);
    expect(db.log().at(-1)).toBe('ROLLBACK');
  });
});
