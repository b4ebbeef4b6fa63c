import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inProcessLabelWriter } from '../../../lib/adapters/case-management-dependencies.ts';
import { postgresCaseStore } from '../../../lib/adapters/case-management-stores.ts';
import { postgresLabelStore } from '../../../lib/adapters/label-store-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool, type Pool } from '../../../lib/adapters/postgres/pool.ts';
import {
  retryPendingLabels,
  takeInCaseTriggers,
  triggerIntake,
} from '../../../lib/case-management/intake.ts';
import { metricsSnapshot } from '../../../lib/case-management/observability.ts';
import type { CaseManagementPorts } from '../../../lib/case-management/ports.ts';
import { labelAnsweredEvent } from '../../../lib/case-management/timeline.ts';
import { decodeCaseCursor } from '../../../lib/contracts/case-management.ts';
import {
  caseRecord,
  changedTrigger,
  scriptedWriter,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from '../../unit/case-management/factories.ts';

/**
 * Case management's store on the shared local cloud's Postgres (migration 0021), each test on a run of its own: the
 * intake ledger (NEW, DUPLICATE with its pending label, PAYLOAD_MISMATCH; one winner when two take a trigger in at
 * once), cases with their trigger_count, the timeline in write order, guarded settlements, quarantine and counts, the
 * reads of the API (newest first, paged), a batch of 500 triggers in a handful of statements, and the label handshake
 * through the label store's own Postgres adapter.
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 4 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

let runs = 0;
/** A run id no other test (or earlier run of this file) used: a random instant in 2031–2040. */
function freshRun(): string {
  const at = new Date(Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 3e11) + runs++ * 1000);
  return `platform_${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** A pool that counts the statements sent (through it and its clients). */
function countingPool(inner: Pool) {
  const counter = { statements: 0 };
  const counted = new Proxy(inner, {
    get(target, name) {
      if (name === 'query')
        return (...args: unknown[]) => {
          counter.statements++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      if (name === 'connect')
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get(c, key) {
              if (key === 'query')
                return (...args: unknown[]) => {
                  counter.statements++;
                  return (c.query as (...a: unknown[]) => unknown)(...args);
                };
              const value = Reflect.get(c, key);
              return typeof value === 'function' ? value.bind(c) : value;
            },
          });
        };
      const value = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { pool: counted as Pool, counter };
}

const at = '2026-12-07T11:00:00.000000Z';

describe('case management store on Postgres', () => {
  it('takes triggers in: NEW once, then DUPLICATE (its label pending) or PAYLOAD_MISMATCH; cases add up', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const escalation = triggerPayload('evt-1', { run });
    const failure = triggerPayload('evt-1', {
      run,
      type: 'ACTION_FAILURE',
      ref: 'out-1',
      observed_time: '2026-12-07T10:00:09.000000Z',
    });
    const other = triggerPayload('evt-2', { run });
    expect(await store.takeIn([escalation, failure].map((t) => triggerIntake(t, at)))).toEqual([
      { outcome: 'NEW_TRIGGER' },
      { outcome: 'NEW_TRIGGER' },
    ]);
    const again = await store.takeIn([
      triggerIntake(escalation, at),
      triggerIntake(changedTrigger(other), at),
    ]);
    expect(again[0]).toMatchObject({
      outcome: 'DUPLICATE_TRIGGER',
      pending: { attempts: 0, case_id: escalation.case_id },
    });
    expect(again[1]).toEqual({ outcome: 'NEW_TRIGGER' });
    expect(await store.takeIn([triggerIntake(other, at)])).toEqual([
      { outcome: 'TRIGGER_PAYLOAD_MISMATCH', stored_payload_hash: changedTrigger(other).payload_hash },
    ]);

    const view = await store.caseView(escalation.case_id);
    expect(view?.case).toMatchObject({
      trigger_count: 2,
      first_observed_time: escalation.observed_time,
      last_observed_time: failure.observed_time,
      label_status: 'PENDING',
    });
    expect(view?.timeline.map((e) => e.timeline_event_type)).toEqual([
      'CASE_TRIGGERED',
      'EVIDENCE_ATTACHED',
      'EVIDENCE_ATTACHED',
      'LABEL_PENDING',
      'CASE_TRIGGERED',
      'EVIDENCE_ATTACHED',
      'EVIDENCE_ATTACHED',
      'LABEL_PENDING',
    ]);
    expect(metricsSnapshot(await store.counts(run))).toMatchObject({
      case_triggers: 3,
      cases_created: 2,
      timeline_events_appended: 12,
      label_assertions: 3,
      labels_pending: 3,
    });
  });

  it('two takers of one trigger at once: exactly one NEW', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const trigger = triggerPayload('evt-1', { run });
    const answers = await Promise.all([1, 2, 3].map(() => store.takeIn([triggerIntake(trigger, at)])));
    expect(answers.map((a) => a[0]?.outcome).sort()).toEqual([
      'DUPLICATE_TRIGGER',
      'DUPLICATE_TRIGGER',
      'NEW_TRIGGER',
    ]);
    expect(await store.counts(run)).toMatchObject({
      case_triggers: 1,
      cases_created: 1,
      label_assertions: 1,
    });
  });

  it('settles a label only from the attempts it started at; a terminal one appends its timeline event once', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const trigger = triggerPayload('evt-1', { run });
    const intake = triggerIntake(trigger, at);
    await store.takeIn([intake]);
    const id = intake.emission.label_assertion_id;
    const pending = { label_assertion_id: id, reason_code: null, timeline_event: undefined } as const;
    expect(
      await store.settle([
        { ...pending, attempts_before: 0, status: 'PENDING', last_error: 'LS_WRITE_EXCEPTION:X' },
      ]),
    ).toEqual([true]);
    // A stale attempt (it started from 0 attempts, there is 1 now) is not recorded.
    expect(
      await store.settle([{ ...pending, attempts_before: 0, status: 'PENDING', last_error: 'late' }]),
    ).toEqual([false]);
    expect((await store.pendingEmissions(run, 10))[0]).toMatchObject({
      attempts: 1,
      input: intake.emission.input,
    });
    const accepted = {
      label_assertion_id: id,
      attempts_before: 1,
      status: 'ACCEPTED' as const,
      reason_code: 'ASSERTION_COMMITTED_NEW',
      last_error: null,
      timeline_event: labelAnsweredEvent(
        trigger.case_id,
        id,
        trigger.observed_time,
        { status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW' },
        at,
      ),
    };
    expect(await store.settle([accepted])).toEqual([true]);
    expect(await store.settle([{ ...accepted, attempts_before: 2 }])).toEqual([false]);
    const view = await store.caseView(trigger.case_id);
    expect(view?.case.label_status).toBe('ACCEPTED');
    expect(view?.timeline.filter((e) => e.timeline_event_type === 'LABEL_ACCEPTED')).toHaveLength(1);
    expect(await store.pendingEmissions(run, 10)).toEqual([]);
    expect(await store.counts(run)).toMatchObject({ labels_accepted: 1, labels_pending: 0 });
  });

  it('quarantine rows are kept once per bus position; delivery counters add up; reads page newest first', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const ports: CaseManagementPorts = { store, labels: scriptedWriter().writer, clock: steppingClock() };
    const tampered = { ...triggerPayload('evt-x', { run }), payload_hash: '0'.repeat(64) };
    const records = [
      caseRecord(undefined, { data: 'not json \u0000 {' }),
      caseRecord(triggerEnvelope(tampered)),
      caseRecord(triggerEnvelope(triggerPayload('evt-y', { run: freshRun() }))),
      ...[1, 2, 3].map((i) => caseRecord(triggerEnvelope(triggerPayload(`evt-${i}`, { run })))),
    ];
    await takeInCaseTriggers(records, ports, { requiredPlatformRunId: run });
    await takeInCaseTriggers(records, ports, { requiredPlatformRunId: run });
    expect(metricsSnapshot(await store.counts(run))).toMatchObject({
      quarantined: 2,
      skipped: 2,
      duplicates: 3,
      case_triggers: 3,
      labels_accepted: 3,
    });

    const first = await store.listCases({ platform_run_id: run, limit: 2, before_sequence: undefined });
    expect(first.cases.map((c) => [c.case_subject_key.event_id, c.label_status])).toEqual([
      ['evt-3', 'ACCEPTED'],
      ['evt-2', 'ACCEPTED'],
    ]);
    const cursor = first.next_cursor as string;
    const second = await store.listCases({
      platform_run_id: run,
      limit: 2,
      before_sequence: decodeCaseCursor(cursor),
    });
    expect(second.cases.map((c) => c.case_subject_key.event_id)).toEqual(['evt-1']);
    expect(second.next_cursor).toBeNull();
    expect(await store.caseView('0'.repeat(32))).toBeUndefined();
  });

  it('hostile text: a control character in a key is quarantined as printable text; in trigger_payload it is kept', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const ports: CaseManagementPorts = { store, labels: scriptedWriter().writer, clock: steppingClock() };
    const odd = triggerPayload('evt-odd', { run, trigger_payload: { note: 'a\u0000b\ud800' } });
    const answer = await takeInCaseTriggers(
      [
        caseRecord({ ...triggerEnvelope(triggerPayload('evt-1', { run })), 'bad\u0000key': 1 }),
        caseRecord(triggerEnvelope(odd)),
      ],
      ports,
      { requiredPlatformRunId: run },
    );
    expect(answer.records.map((r) => r.disposition)).toEqual(['QUARANTINED', 'NEW_TRIGGER']);
    expect(await store.counts(run)).toMatchObject({ quarantined: 1, case_triggers: 1 });
    const view = await store.caseView(odd.case_id);
    expect(view?.timeline[0]?.payload).toMatchObject({ trigger_payload: { note: 'a\u0000b\ud800' } });
  });

  it('a batch of 500 triggers costs a handful of statements (and its labels one label store batch)', async () => {
    const run = freshRun();
    const { pool: counted, counter } = countingPool(pool);
    const writer = scriptedWriter([], { batch: true });
    const ports: CaseManagementPorts = {
      store: postgresCaseStore(counted),
      labels: writer.writer,
      clock: steppingClock(),
    };
    const records = Array.from({ length: 500 }, (_, i) =>
      caseRecord(triggerEnvelope(triggerPayload(`evt-${i}`, { run }))),
    );
    const answer = await takeInCaseTriggers(records, ports, { requiredPlatformRunId: run });
    expect(answer.labels.accepted).toBe(500);
    // takeIn: BEGIN, claim, cases, timeline, emissions, COMMIT; settle: BEGIN, update, timeline, COMMIT.
    expect(counter.statements).toBeLessThanOrEqual(12);
    expect(writer.batches).toEqual([500]);
    expect(await postgresCaseStore(pool).counts(run)).toMatchObject({
      cases_created: 500,
      timeline_events_appended: 500 * 5,
      labels_accepted: 500,
    });
  });

  it('§9 #17 through the label store on Postgres: it holds FRAUD_SUSPECTED (AUTO); a pending label is retried', async () => {
    const run = freshRun();
    const store = postgresCaseStore(pool);
    const ls = postgresLabelStore(pool);
    const real = inProcessLabelWriter(pool);
    // The first write throws (the label stays PENDING); the retry task writes it through the label store.
    const down = scriptedWriter(['THROW']);
    const trigger = triggerPayload('evt-1', { run });
    await takeInCaseTriggers(
      [caseRecord(triggerEnvelope(trigger))],
      { store, labels: down.writer, clock: steppingClock() },
      {
        requiredPlatformRunId: run,
      },
    );
    expect(await store.counts(run)).toMatchObject({ labels_pending: 1 });
    expect(await ls.assertionsOfEvent({ platform_run_id: run, event_id: 'evt-1' })).toEqual([]);

    const ports: CaseManagementPorts = { store, labels: real, clock: steppingClock() };
    expect(await retryPendingLabels(ports, run, 10)).toMatchObject({ written: 1, accepted: 1 });
    const held = await ls.assertionsOfEvent({ platform_run_id: run, event_id: 'evt-1' });
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_SUSPECTED',
      source_type: 'AUTO',
      actor_id: 'SYSTEM::case_mgmt_worker',
      observed_time: trigger.observed_time,
    });

    // A second trigger on the case, written in a batch through the label store (writeMany): its own assertion.
    const failure = triggerPayload('evt-1', { run, type: 'ACTION_FAILURE', ref: 'out-1' });
    const other = triggerPayload('evt-2', { run });
    await takeInCaseTriggers(
      [failure, other].map((t) => caseRecord(triggerEnvelope(t))),
      ports,
      {
        requiredPlatformRunId: run,
      },
    );
    expect(await ls.assertionsOfEvent({ platform_run_id: run, event_id: 'evt-1' })).toHaveLength(2);
    const view = await store.caseView(trigger.case_id);
    expect(view?.case).toMatchObject({ trigger_count: 2, label_status: 'ACCEPTED' });
    expect(
      view?.timeline
        .filter((e) => e.timeline_event_type === 'LABEL_ACCEPTED')
        .map((e) => e.payload.reason_code),
    ).toEqual(['ASSERTION_COMMITTED_NEW', 'ASSERTION_COMMITTED_NEW']);
    expect(await store.counts(run)).toMatchObject({
      labels_accepted: 3,
      labels_pending: 0,
      label_write_exceptions: 1,
    });
  });
});
