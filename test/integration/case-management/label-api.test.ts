import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inProcessLabelWriter } from '../../../lib/adapters/case-management-dependencies.ts';
import { postgresCaseStore } from '../../../lib/adapters/case-management-stores.ts';
import { postgresLabelStore } from '../../../lib/adapters/label-store-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import { caseTimelineEventId } from '../../../lib/contracts/case-management.ts';
import {
  investigatorAssertionSourceRef,
  type LabelApiAsOfLabels,
  LabelApiAssertion,
  type LabelApiEventLabels,
  LabelApiWriteAnswer,
} from '../../../lib/contracts/label-api.ts';
import { labelAssertionId } from '../../../lib/contracts/label-store.ts';
import {
  caseRecord,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from '../../unit/case-management/factories.ts';

/**
 * The label API on the local cloud: the HTTP API → the label-api Lambda → Postgres (case management's and the label
 * store's tables). Cases are seeded by taking case triggers in through case management's core on the Postgres stores
 * (their AUTO FRAUD_SUSPECTED label included); then a HUMAN label is posted (201), posted again (200, a replay), each
 * bad input answers its 4xx and reason code and writes nothing (no assertion, no timeline event, no counter), and an
 * as-of read answers what was known before and after the label's observed_time.
 */

const { state } = inject('stack');
const BASE = state.endpoints.http;
/** The local stage's operator key (config/stages/local.yml `caseApiKeys`). */
const KEY = 'local-parity-case-api';
const pool = createPool({ connectionString: state.databaseUrl, max: 2 });

/** A run id no other test (or earlier run of this file) used: a random instant in 2041–2050. */
function freshRun(offset = 0): string {
  const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 3e11) + offset * 1000);
  return `platform_${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}
const RUN = freshRun();
const OTHER_RUN = freshRun(1);

/** A case about `eventId` of RUN, taken in through the core with the Postgres stores (trigger observed 10:00:01). */
async function seedCase(eventId: string) {
  const trigger = triggerPayload(eventId, { run: RUN });
  const answer = await takeInCaseTriggers(
    [caseRecord(triggerEnvelope(trigger))],
    { store: postgresCaseStore(pool), labels: inProcessLabelWriter(pool), clock: steppingClock() },
    { requiredPlatformRunId: RUN },
  );
  expect(answer.labels).toMatchObject({ accepted: 1 });
  return trigger;
}

async function call(method: string, o: { body?: unknown; query?: Record<string, string> } = {}) {
  const query = o.query ? `?${new URLSearchParams(o.query).toString()}` : '';
  const res = await fetch(`${BASE}/v1/labels${query}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-case-api-key': KEY },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const humanLabel = (caseId: string, eventId: string, o: Record<string, unknown> = {}) => ({
  case_id: caseId,
  label_type: 'fraud_disposition',
  label_value: 'FRAUD_CONFIRMED',
  source_type: 'HUMAN',
  actor_id: 'HUMAN::analyst_7',
  effective_time: '2026-12-07T10:00:00Z',
  evidence_refs: [{ ref_type: 'CASE_EVENT', ref_id: 'note-1' }],
  platform_run_id: RUN,
  event_id: eventId,
  ...o,
});

/** What Postgres holds for the two runs: assertions, label timeline rows, mismatches, counters, case timeline rows. */
async function rowsOf(caseId: string) {
  const runs = [RUN, OTHER_RUN];
  const { rows } = await pool.query<Record<string, string>>(
    `SELECT
      (SELECT count(*) FROM ls_label_assertions WHERE platform_run_id = ANY($1)) AS assertions,
      (SELECT count(*) FROM ls_label_timeline WHERE platform_run_id = ANY($1)) AS label_timeline,
      (SELECT count(*) FROM ls_label_mismatches WHERE platform_run_id = ANY($1)) AS mismatches,
      (SELECT coalesce(string_agg(platform_run_id || ':' || metric_name || '=' || value, ',' ORDER BY platform_run_id,
        metric_name), '') FROM ls_metrics WHERE platform_run_id = ANY($1)) AS counters,
      (SELECT count(*) FROM cm_case_timeline WHERE case_id = $2) AS case_timeline,
      (SELECT count(*) FROM cm_case_timeline WHERE platform_run_id = $3) AS other_run_timeline`,
    [runs, caseId, OTHER_RUN],
  );
  return rows[0];
}

async function investigatorEvents(caseId: string) {
  const { rows } = await pool.query<{
    case_timeline_event_id: string;
    platform_run_id: string;
    observed_time: string;
  }>(
    `SELECT case_timeline_event_id, platform_run_id, observed_time FROM cm_case_timeline
      WHERE case_id = $1 AND timeline_event_type = 'INVESTIGATOR_ASSERTION' ORDER BY timeline_seq`,
    [caseId],
  );
  return rows;
}

beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

describe('label API on the local cloud', () => {
  it('POST a HUMAN label: 201; the same again: 200, a replay (one assertion, one timeline event)', async () => {
    const trigger = await seedCase('evt-post');
    const first = await call('POST', { body: humanLabel(trigger.case_id, 'evt-post') });
    expect(first.status).toBe(201);
    const answer = LabelApiWriteAnswer.parse(first.body);
    expect(answer.reason_code).toBe('ASSERTION_COMMITTED_NEW');

    const again = await call('POST', { body: humanLabel(trigger.case_id, 'evt-post') });
    expect(again.status).toBe(200);
    expect(LabelApiWriteAnswer.parse(again.body)).toEqual({
      ...answer,
      reason_code: 'ASSERTION_REPLAY_MATCH',
    });

    const { rows } = await pool.query(
      `SELECT source_type, actor_id, label_value, case_timeline_event_id, observed_time, replay_count
        FROM ls_label_assertions WHERE label_assertion_id = $1`,
      [answer.label_assertion_id],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        source_type: 'HUMAN',
        actor_id: 'HUMAN::analyst_7',
        label_value: 'FRAUD_CONFIRMED',
        case_timeline_event_id: answer.case_timeline_event_id,
        replay_count: 1,
      }),
    ]);
    expect(rows[0].observed_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(await investigatorEvents(trigger.case_id)).toEqual([
      {
        case_timeline_event_id: answer.case_timeline_event_id,
        platform_run_id: RUN,
        observed_time: rows[0].observed_time,
      },
    ]);
  });

  it('each bad input: its 4xx and reason code, and nothing written to Postgres', async () => {
    const trigger = await seedCase('evt-bad');
    const body = (o: Record<string, unknown>) => humanLabel(trigger.case_id, 'evt-bad', o);
    const before = await rowsOf(trigger.case_id);
    const cases: [string, unknown, number, string][] = [
      ['a bad taxonomy value', body({ label_value: 'NOT_A_VALUE' }), 400, 'LABEL_VALUE_INVALID'],
      ['no evidence', body({ evidence_refs: [] }), 400, 'MISSING_EVIDENCE_REFS'],
      ['a HUMAN source without an actor', body({ actor_id: undefined }), 400, 'ACTOR_REQUIRED'],
      ['another run’s subject', body({ platform_run_id: OTHER_RUN }), 409, 'SUBJECT_RUN_MISMATCH'],
      ['another event than the case’s', body({ event_id: 'evt-post' }), 409, 'SUBJECT_NOT_OF_CASE'],
      ['a case id that does not exist', body({ case_id: 'f'.repeat(32) }), 404, 'CASE_NOT_FOUND'],
      ['a body of the wrong shape', body({ source_type: 'AUTO' }), 400, 'REQUEST_INVALID'],
    ];
    for (const [what, input, status, code] of cases) {
      const answer = await call('POST', { body: input });
      expect([answer.status, answer.body.error], what).toEqual([status, code]);
      expect(typeof answer.body.detail, what).toBe('string');
    }
    expect(await rowsOf(trigger.case_id)).toEqual(before);
    expect(await investigatorEvents(trigger.case_id)).toEqual([]);
  });

  it('409 PAYLOAD_HASH_MISMATCH when the id is stored with another payload; no timeline event', async () => {
    const trigger = await seedCase('evt-mismatch');
    const body = humanLabel(trigger.case_id, 'evt-mismatch', { observed_time: '2026-12-07T11:00:00Z' });
    const parsed = LabelApiAssertion.parse(body);
    const eventId = caseTimelineEventId(
      trigger.case_id,
      'INVESTIGATOR_ASSERTION',
      investigatorAssertionSourceRef(parsed),
    );
    const stored = {
      case_timeline_event_id: eventId,
      label_subject_key: { platform_run_id: RUN, event_id: 'evt-mismatch' },
      pins: { platform_run_id: RUN },
      label_type: 'fraud_disposition' as const,
      label_value: 'LEGIT_CONFIRMED',
      effective_time: '2026-12-07T10:00:00.000000Z',
      observed_time: '2026-12-07T11:00:00.000000Z',
      source_type: 'HUMAN' as const,
      actor_id: 'HUMAN::someone_else',
      evidence_refs: [{ ref_type: 'CASE_EVENT' as const, ref_id: 'note-1' }],
    };
    const id = labelAssertionId(stored);
    await postgresLabelStore(pool).claim([
      { ...stored, label_assertion_id: id, payload_hash: 'e'.repeat(64) },
    ]);

    const answer = await call('POST', { body });
    expect([answer.status, answer.body.error]).toEqual([409, 'PAYLOAD_HASH_MISMATCH']);
    expect(await investigatorEvents(trigger.case_id)).toEqual([]);
    const { rows } = await pool.query(
      'SELECT reason_code FROM ls_label_mismatches WHERE label_assertion_id = $1',
      [id],
    );
    expect(rows).toEqual([{ reason_code: 'PAYLOAD_HASH_MISMATCH' }]);
  });

  it('GET: every label of the event; as_of before and after the HUMAN label’s observed_time', async () => {
    const trigger = await seedCase('evt-asof');
    const observed = '2026-12-07T11:00:00.000000Z';
    const posted = await call('POST', {
      body: humanLabel(trigger.case_id, 'evt-asof', { observed_time: '2026-12-07T11:00:00Z' }),
    });
    expect(posted.status).toBe(201);
    const subject = { platform_run_id: RUN, event_id: 'evt-asof' };

    const all = await call('GET', { query: subject });
    expect(all.status).toBe(200);
    expect(
      (all.body as unknown as LabelApiEventLabels).assertions.map((a) => [
        a.source_type,
        a.label_value,
        a.observed_time,
      ]),
    ).toEqual([
      ['AUTO', 'FRAUD_SUSPECTED', '2026-12-07T10:00:01.000000Z'],
      ['HUMAN', 'FRAUD_CONFIRMED', observed],
    ]);

    const asOf = async (as_of: string) => {
      const { status, body } = await call('GET', {
        query: { ...subject, as_of, label_type: 'fraud_disposition' },
      });
      expect(status).toBe(200);
      const [label] = (body as unknown as LabelApiAsOfLabels).labels;
      return [label?.status, label?.label_value ?? null];
    };
    expect(await asOf('2026-12-07T10:00:00Z')).toEqual(['NOT_FOUND', null]);
    expect(await asOf('2026-12-07T10:59:59.999999Z')).toEqual(['RESOLVED', 'FRAUD_SUSPECTED']);
    expect(await asOf('2026-12-07T11:00:00Z')).toEqual(['RESOLVED', 'FRAUD_CONFIRMED']);
    expect(await asOf('2026-12-08T00:00:00+02:00')).toEqual(['RESOLVED', 'FRAUD_CONFIRMED']);

    const bad = await call('GET', { query: { ...subject, as_of: 'later' } });
    expect([bad.status, bad.body.error]).toEqual([400, 'LABEL_QUERY_INVALID']);
  });
});
