import { describe, expect, it } from 'vitest';
import { postgresCaseStore } from '../../../lib/adapters/case-management-stores.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import type { QuarantineRow } from '../../../lib/case-management/ports.ts';
import { triggerIntake } from '../../../lib/case-management/triggers.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import {
  type CaseTimelineEvent,
  caseManagementStreamId,
  decodeCaseCursor,
} from '../../../lib/contracts/case-management.ts';
import { type ScriptedAnswer, scriptedPool } from '../../support/scripted-pool.ts';
import { CASE_TOPIC, RUN, triggerPayload } from './factories.ts';

/**
 * Case management's Postgres store (lib/adapters/case-management-stores.ts, case-management-reads.ts), its
 * one-statement writes and its reads, against a scripted pool (the SQL itself runs in
 * test/integration/case-management/store.test.ts): quarantine rows, delivery counters and the label API's timeline
 * events as unnest columns (nothing sent for nothing); pending emissions and counts mapped from their rows; a page of
 * cases (one more row asked for the next cursor) and one case with its timeline.
 */

const SCOPE = caseManagementStreamId(RUN);
const AT = '2026-12-07T11:00:00.000Z';
const intakeA = triggerIntake(triggerPayload('ev-1'), AT);
const intakeB = triggerIntake(triggerPayload('ev-2', { type: 'ACTION_FAILURE' }), AT);
const refuse = (code: string) => () => {
  throw Object.assign(new Error(`refused ${code}`), { code });
};

const quarantined = (offset: string, over: Partial<QuarantineRow> = {}): QuarantineRow => ({
  topic: CASE_TOPIC,
  partition: 1,
  offset,
  reason_code: 'CONTRACT_INVALID',
  detail: null,
  event_id: null,
  case_trigger_id: null,
  platform_run_id: null,
  data_base64: 'e30=',
  data_sha256: 'f'.repeat(64),
  data_bytes: 2,
  ...over,
});

describe('the case management Postgres store: quarantine, counters, timeline appends', () => {
  it('quarantines rows as one unnest insert of the scope; nothing sent for no rows', async () => {
    const db = scriptedPool();
    const store = postgresCaseStore(db.pool);
    await store.quarantine(SCOPE, []);
    expect(db.calls).toEqual([]);
    const rows = [
      quarantined('7'),
      quarantined('9', {
        partition: 3,
        reason_code: 'TRIGGER_PAYLOAD_MISMATCH',
        detail: 'stored payload_hash x',
        event_id: 'evt-9',
        case_trigger_id: intakeA.case_trigger_id,
        platform_run_id: RUN,
        data_bytes: 65_536,
      }),
    ];
    await store.quarantine(SCOPE, rows);
    expect(db.log()).toEqual(['INSERT cm_quarantine']);
    expect(db.calls[0]?.params).toEqual([
      SCOPE,
      [CASE_TOPIC, CASE_TOPIC],
      [1, 3],
      ['7', '9'],
      ['CONTRACT_INVALID', 'TRIGGER_PAYLOAD_MISMATCH'],
      [null, 'stored payload_hash x'],
      [null, 'evt-9'],
      [null, intakeA.case_trigger_id],
      [null, RUN],
      ['e30=', 'e30='],
      ['f'.repeat(64), 'f'.repeat(64)],
      [2, 65_536],
    ]);
  });

  it('a quarantine row Postgres refuses is RecordUnstorable; a lost connection DatabaseUnavailable; others as they are', async () => {
    const refused = postgresCaseStore(scriptedPool(refuse('22021')).pool).quarantine(SCOPE, [
      quarantined('1'),
    ]);
    await expect(refused).rejects.toBeInstanceOf(RecordUnstorable);
    await expect(refused).rejects.toMatchObject({ cause: { code: '22021' } });
    const lost = postgresCaseStore(scriptedPool(refuse('ECONNRESET')).pool).quarantine(SCOPE, [
      quarantined('1'),
    ]);
    await expect(lost).rejects.toBeInstanceOf(DatabaseUnavailable);
    const plain = new Error('no SQLSTATE');
    const failing = scriptedPool(() => {
      throw plain;
    });
    await expect(postgresCaseStore(failing.pool).quarantine(SCOPE, [quarantined('1')])).rejects.toBe(plain);
  });

  it('adds only positive counters, by name, as text; nothing sent when none is positive', async () => {
    const db = scriptedPool();
    const store = postgresCaseStore(db.pool);
    await store.addCounters(SCOPE, {});
    await store.addCounters(SCOPE, { run_scope_skipped: 0, duplicates: -1 });
    expect(db.calls).toEqual([]);
    await store.addCounters(SCOPE, { run_scope_skipped: 3, duplicates: 0, records_seen: 12 });
    expect(db.log()).toEqual(['INSERT cm_metrics']);
    expect(db.calls[0]?.params).toEqual([SCOPE, ['run_scope_skipped', 'records_seen'], ['3', '12']]);
  });

  it('a counter error other than a lost connection is rethrown as it is (counters are not records)', async () => {
    const store = postgresCaseStore(scriptedPool(refuse('22003')).pool);
    await expect(store.addCounters(SCOPE, { n: 1 })).rejects.toMatchObject({ code: '22003' });
    await expect(store.addCounters(SCOPE, { n: 1 })).rejects.not.toBeInstanceOf(RecordUnstorable);
  });

  it('appends timeline events to their cases (the run is the case row’s); nothing sent for none', async () => {
    const db = scriptedPool();
    const store = postgresCaseStore(db.pool);
    await store.appendTimeline([]);
    expect(db.calls).toEqual([]);
    const events = [intakeA.timeline[0], intakeB.timeline[1]] as CaseTimelineEvent[];
    await store.appendTimeline(events);
    expect(db.log()).toEqual(['INSERT cm_case_timeline']);
    expect(db.calls[0]?.sql).toContain('JOIN cm_cases c ON c.case_id = u.case_id');
    expect(db.calls[0]?.params).toEqual([
      events.map((e) => e.case_timeline_event_id),
      events.map((e) => e.case_id),
      events.map((e) => e.timeline_event_type),
      events.map((e) => e.source_ref_id),
      events.map((e) => e.observed_time),
      events.map((e) => canonicalJson(e.payload)),
      events.map((e) => e.payload_hash),
      events.map((e) => e.recorded_at_utc),
    ]);
  });
});

describe('the case management Postgres store: pending emissions and counts', () => {
  it('answers the run’s PENDING emissions in row order, their input parsed', async () => {
    const row = ({ emission: { input, ...emission }, observed_time }: typeof intakeA, attempts: number) => ({
      ...emission,
      input_json: canonicalJson(input),
      observed_time,
      attempts,
    });
    const db = scriptedPool(() => ({ rows: [row(intakeB, 3), row(intakeA, 0)] }));
    const pending = await postgresCaseStore(db.pool).pendingEmissions(RUN, 50);
    expect(db.calls[0]?.params).toEqual([RUN, 50]);
    expect(db.calls[0]?.sql).toMatch(/FROM cm_label_emissions[\s\S]*ORDER BY emission_seq LIMIT \$2/);
    expect(pending).toEqual([
      { ...intakeB.emission, observed_time: intakeB.observed_time, attempts: 3 },
      { ...intakeA.emission, observed_time: intakeA.observed_time, attempts: 0 },
    ]);
    expect(await postgresCaseStore(scriptedPool().pool).pendingEmissions(RUN, 1)).toEqual([]);
  });

  it('counts: the row’s counts and the scope’s counters as numbers, both read by run and scope', async () => {
    const db = scriptedPool((sql): ScriptedAnswer => {
      if (sql.includes('FROM cm_metrics'))
        return {
          rows: [
            { metric_name: 'run_scope_skipped', value: '4' },
            { metric_name: 'duplicates', value: '12' },
          ],
        };
      return { rows: [{ case_triggers: '5', cases_created: '2', labels_pending: '0', quarantined: '1' }] };
    });
    expect(await postgresCaseStore(db.pool).counts(RUN)).toEqual({
      case_triggers: 5,
      cases_created: 2,
      labels_pending: 0,
      quarantined: 1,
      run_scope_skipped: 4,
      duplicates: 12,
    });
    expect(db.calls.map((c) => c.params)).toEqual([[RUN, SCOPE], [SCOPE]]);
    expect(db.calls[0]?.sql).toContain("reason_code = 'TRIGGER_PAYLOAD_MISMATCH'");
  });

  it('counts of no row and no counter are empty; a lost connection is DatabaseUnavailable', async () => {
    expect(await postgresCaseStore(scriptedPool().pool).counts(RUN)).toEqual({});
    const lost = postgresCaseStore(scriptedPool(refuse('57P01')).pool).counts(RUN);
    await expect(lost).rejects.toBeInstanceOf(DatabaseUnavailable);
  });
});

const summaryRow = (seq: number, label_status: string | null = 'PENDING') => ({
  case_id: `case-${seq}`,
  case_seq: String(seq),
  platform_run_id: RUN,
  event_class: 'traffic_fraud',
  event_id: `ev-${seq}`,
  trigger_count: seq % 3,
  first_observed_time: '2026-12-07T10:00:01.000000Z',
  last_observed_time: '2026-12-07T10:00:02.000000Z',
  created_at_utc: AT,
  label_status,
});
const summaryOf = (row: ReturnType<typeof summaryRow>) => ({
  case_id: row.case_id,
  case_subject_key: { platform_run_id: RUN, event_class: 'traffic_fraud', event_id: row.event_id },
  trigger_count: row.trigger_count,
  first_observed_time: row.first_observed_time,
  last_observed_time: row.last_observed_time,
  created_at_utc: AT,
  label_status: row.label_status,
});

describe('the case management Postgres reads: a page of cases, one case', () => {
  it('asks one more than the limit; a full page has the next cursor at its last case', async () => {
    const rows = [summaryRow(9), summaryRow(8, null), summaryRow(5)];
    const db = scriptedPool(() => ({ rows }));
    const page = await postgresCaseStore(db.pool).listCases({
      platform_run_id: RUN,
      limit: 2,
      before_sequence: 12,
    });
    expect(db.calls[0]?.params).toEqual([RUN, '12', 3]);
    expect(page.platform_run_id).toBe(RUN);
    expect(page.cases).toEqual([summaryOf(rows[0] as never), summaryOf(rows[1] as never)]);
    expect(page.cases[1]?.label_status).toBeNull();
    expect(page.next_cursor).not.toBeNull();
    expect(decodeCaseCursor(page.next_cursor as string)).toBe(8);
  });

  it('the first page sends no sequence; a short page has no next cursor', async () => {
    const rows = [summaryRow(3, 'ACCEPTED'), summaryRow(1)];
    const db = scriptedPool(() => ({ rows }));
    const page = await postgresCaseStore(db.pool).listCases({
      platform_run_id: RUN,
      limit: 2,
      before_sequence: undefined,
    });
    expect(db.calls[0]?.params).toEqual([RUN, null, 3]);
    expect(page).toEqual({ platform_run_id: RUN, cases: rows.map(summaryOf), next_cursor: null });
    const none = await postgresCaseStore(scriptedPool().pool).listCases({
      platform_run_id: RUN,
      limit: 5,
      before_sequence: undefined,
    });
    expect(none).toEqual({ platform_run_id: RUN, cases: [], next_cursor: null });
  });

  it('one case: its summary, then its timeline read by id in row order with payloads parsed', async () => {
    const events = [...intakeA.timeline].reverse();
    const db = scriptedPool((sql): ScriptedAnswer => {
      if (sql.includes('FROM cm_case_timeline'))
        return {
          rows: events.map(({ payload, ...e }) => ({ ...e, payload_json: canonicalJson(payload) })),
        };
      return { rows: [summaryRow(4, 'REJECTED')] };
    });
    const view = await postgresCaseStore(db.pool).caseView('case-4');
    expect(db.calls.map((c) => c.params)).toEqual([['case-4'], ['case-4']]);
    expect(db.calls[1]?.sql).toContain('ORDER BY timeline_seq');
    expect(view).toEqual({ case: summaryOf(summaryRow(4, 'REJECTED')), timeline: events });
  });

  it('no such case: undefined, its timeline not read', async () => {
    const db = scriptedPool();
    expect(await postgresCaseStore(db.pool).caseView('case-x')).toBeUndefined();
    expect(db.calls).toHaveLength(1);
  });
});
