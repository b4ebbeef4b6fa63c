import type {
  CaseRow,
  CaseStore,
  IntakeAnswer,
  LabelSettlement,
  PendingEmission,
  TriggerIntake,
} from '../case-management/ports.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { caseManagementStreamId } from '../contracts/case-management.ts';
import type { LabelAssertionInput } from '../contracts/label-store.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import { caseReads } from './case-management-reads.ts';
import type { Pool, Queryable } from './postgres/pool.ts';
import { inTransaction, RecordUnstorable } from './postgres/projector-store.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * Case management's store on Postgres (migration 0021). A batch's triggers are taken in by one transaction of set-wise
 * statements (`unnest`): the intake ledger claimed (`ON CONFLICT DO NOTHING RETURNING`), the stored hash (and the
 * pending emission) read for the rest, then the new triggers' cases upserted (trigger_count added), their timeline
 * events and label emissions inserted — five statements for 500 triggers. Settlements are one guarded UPDATE (status
 * PENDING and the attempts the writer started from) and one timeline insert. Counts are read from the rows.
 */

const column = <T>(rows: readonly T[], pick: (row: T) => unknown) => rows.map(pick);

const CLAIM = `INSERT INTO cm_case_trigger_intake (case_trigger_id, platform_run_id, case_id, trigger_type, source_ref_id,
    observed_time, payload_hash, payload_json, recorded_at_utc)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[]) AS u(case_trigger_id, platform_run_id, case_id, trigger_type, source_ref_id, observed_time, payload_hash,
    payload_json, recorded_at_utc)
  ORDER BY u.case_trigger_id
  ON CONFLICT (case_trigger_id) DO NOTHING
  RETURNING case_trigger_id`;

// A separate statement (not a CTE of the insert), so it sees rows another batch committed meanwhile.
const STORED = `SELECT i.case_trigger_id, i.payload_hash, e.label_assertion_id, e.case_id, e.platform_run_id,
    e.label_pending_event_id, e.observed_time, e.input_json, e.attempts
  FROM cm_case_trigger_intake i
  LEFT JOIN cm_label_emissions e ON e.case_trigger_id = i.case_trigger_id AND e.status = 'PENDING'
  WHERE i.case_trigger_id = ANY($1::text[])`;

const CASES = `INSERT INTO cm_cases (case_id, platform_run_id, event_class, event_id, subject_hash, trigger_count,
    first_observed_time, last_observed_time, created_at_utc)
  SELECT u.case_id, u.platform_run_id, u.event_class, u.event_id, u.subject_hash, u.trigger_count,
    u.first_observed_time, u.last_observed_time, u.created_at_utc
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::text[],
    $9::text[]) WITH ORDINALITY AS u(case_id, platform_run_id, event_class, event_id, subject_hash, trigger_count,
    first_observed_time, last_observed_time, created_at_utc, ord)
  -- Stream order: a batch's new cases get their creation sequence (the API's "newest first") in the order they came.
  ORDER BY u.ord
  ON CONFLICT (case_id) DO UPDATE SET trigger_count = cm_cases.trigger_count + EXCLUDED.trigger_count,
    first_observed_time = LEAST(cm_cases.first_observed_time COLLATE "C", EXCLUDED.first_observed_time COLLATE "C"),
    last_observed_time = GREATEST(cm_cases.last_observed_time COLLATE "C", EXCLUDED.last_observed_time COLLATE "C"),
    updated_at_utc = now()`;

const TIMELINE = `INSERT INTO cm_case_timeline (case_timeline_event_id, case_id, platform_run_id, timeline_event_type,
    source_ref_id, observed_time, payload_json, payload_hash, recorded_at_utc)
  SELECT u.case_timeline_event_id, u.case_id, u.platform_run_id, u.timeline_event_type, u.source_ref_id,
    u.observed_time, u.payload_json, u.payload_hash, u.recorded_at_utc
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[]) WITH ORDINALITY AS u(case_timeline_event_id, case_id, platform_run_id, timeline_event_type,
    source_ref_id, observed_time, payload_json, payload_hash, recorded_at_utc, ord)
  ORDER BY u.ord
  ON CONFLICT DO NOTHING`;

const EMISSIONS = `INSERT INTO cm_label_emissions (label_assertion_id, case_id, case_trigger_id, platform_run_id,
    label_pending_event_id, observed_time, input_json, status)
  SELECT u.label_assertion_id, u.case_id, u.case_trigger_id, u.platform_run_id, u.label_pending_event_id,
    u.observed_time, u.input_json, 'PENDING'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS u(label_assertion_id, case_id, case_trigger_id, platform_run_id, label_pending_event_id, observed_time,
      input_json)
  ORDER BY u.label_assertion_id
  ON CONFLICT DO NOTHING`;

// The label API's events: the run is the case's, and an event of no case matches no row (nothing written).
const APPEND = `INSERT INTO cm_case_timeline (case_timeline_event_id, case_id, platform_run_id, timeline_event_type,
    source_ref_id, observed_time, payload_json, payload_hash, recorded_at_utc)
  SELECT u.case_timeline_event_id, u.case_id, c.platform_run_id, u.timeline_event_type, u.source_ref_id,
    u.observed_time, u.payload_json, u.payload_hash, u.recorded_at_utc
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    WITH ORDINALITY AS u(case_timeline_event_id, case_id, timeline_event_type, source_ref_id, observed_time,
    payload_json, payload_hash, recorded_at_utc, ord)
  JOIN cm_cases c ON c.case_id = u.case_id
  ORDER BY u.ord
  ON CONFLICT DO NOTHING`;

const SETTLE = `UPDATE cm_label_emissions e SET status = u.status, attempts = e.attempts + 1,
    reason_code = u.reason_code, last_error = COALESCE(u.last_error, e.last_error), updated_at_utc = now()
  FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[])
    AS u(label_assertion_id, attempts_before, status, reason_code, last_error)
  WHERE e.label_assertion_id = u.label_assertion_id AND e.status = 'PENDING' AND e.attempts = u.attempts_before
  RETURNING e.label_assertion_id, e.platform_run_id`;

const QUARANTINE = `INSERT INTO cm_quarantine (scope_id, topic, partition_id, "offset", reason_code, detail, event_id,
    case_trigger_id, platform_run_id, data_base64, data_sha256, data_bytes)
  SELECT $1, u.* FROM unnest($2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::integer[]) AS u(topic, partition_id, "offset", reason_code, detail,
    event_id, case_trigger_id, platform_run_id, data_base64, data_sha256, data_bytes)
  ORDER BY u.topic, u.partition_id, u."offset"
  ON CONFLICT DO NOTHING`;

const ADD_COUNTERS = `INSERT INTO cm_metrics (scope_id, metric_name, value)
  SELECT $1, u.metric_name, u.value FROM unnest($2::text[], $3::bigint[]) AS u(metric_name, value)
  ORDER BY u.metric_name
  ON CONFLICT (scope_id, metric_name) DO UPDATE SET value = cm_metrics.value + EXCLUDED.value, updated_at_utc = now()`;

const PENDING = `SELECT label_assertion_id, case_id, case_trigger_id, platform_run_id, label_pending_event_id,
    observed_time, input_json, attempts
  FROM cm_label_emissions WHERE platform_run_id = $1 AND status = 'PENDING' ORDER BY emission_seq LIMIT $2`;

const COUNTS = `SELECT
    (SELECT count(*) FROM cm_case_trigger_intake WHERE platform_run_id = $1) AS case_triggers,
    (SELECT count(*) FROM cm_cases WHERE platform_run_id = $1) AS cases_created,
    (SELECT count(*) FROM cm_case_timeline WHERE platform_run_id = $1) AS timeline_events_appended,
    e.label_assertions, e.labels_pending, e.labels_accepted, e.labels_rejected,
    q.payload_mismatches, q.quarantined
  FROM (SELECT count(*) AS label_assertions, count(*) FILTER (WHERE status = 'PENDING') AS labels_pending,
      count(*) FILTER (WHERE status = 'ACCEPTED') AS labels_accepted,
      count(*) FILTER (WHERE status = 'REJECTED') AS labels_rejected
    FROM cm_label_emissions WHERE platform_run_id = $1) e,
  (SELECT count(*) FILTER (WHERE reason_code = 'TRIGGER_PAYLOAD_MISMATCH') AS payload_mismatches,
      count(*) FILTER (WHERE reason_code <> 'TRIGGER_PAYLOAD_MISMATCH') AS quarantined
    FROM cm_quarantine WHERE scope_id = $2) q`;

interface StoredRow {
  case_trigger_id: string;
  payload_hash: string;
  label_assertion_id: string | null;
  case_id: string | null;
  platform_run_id: string | null;
  label_pending_event_id: string | null;
  observed_time: string | null;
  input_json: string | null;
  attempts: number | null;
}

interface EmissionRow {
  label_assertion_id: string;
  case_id: string;
  case_trigger_id: string;
  platform_run_id: string;
  label_pending_event_id: string;
  observed_time: string;
  input_json: string;
  attempts: number;
}

const pendingOf = (row: EmissionRow): PendingEmission => ({
  label_assertion_id: row.label_assertion_id,
  case_id: row.case_id,
  case_trigger_id: row.case_trigger_id,
  platform_run_id: row.platform_run_id,
  label_pending_event_id: row.label_pending_event_id,
  observed_time: row.observed_time,
  input: parseJsonLossless(row.input_json) as LabelAssertionInput,
  attempts: row.attempts,
});

/** Postgres refused the data itself (SQLSTATE 22, 23, 54): the bus edge sets the record aside. */
const unstorable = (error: unknown): never => {
  if (/^(2[23]|54)/.test((error as { code?: string })?.code ?? '')) throw new RecordUnstorable(error);
  throw error;
};

/** One row per case: the new triggers of a batch added up (their count, the earliest and latest observed_time). */
function caseRows(intakes: readonly TriggerIntake[]) {
  const rows = new Map<
    string,
    { row: CaseRow; count: number; first: string; last: string; created: string }
  >();
  for (const { case_row: row, recorded_at_utc } of intakes) {
    const had = rows.get(row.case_id);
    if (had === undefined)
      rows.set(row.case_id, {
        row,
        count: 1,
        first: row.observed_time,
        last: row.observed_time,
        created: recorded_at_utc,
      });
    else
      Object.assign(had, {
        count: had.count + 1,
        first: row.observed_time < had.first ? row.observed_time : had.first,
        last: row.observed_time > had.last ? row.observed_time : had.last,
      });
  }
  return [...rows.values()];
}

async function writeNew(client: Queryable, intakes: readonly TriggerIntake[]): Promise<void> {
  const cases = caseRows(intakes);
  await client.query(CASES, [
    column(cases, (c) => c.row.case_id),
    column(cases, (c) => c.row.case_subject_key.platform_run_id),
    column(cases, (c) => c.row.case_subject_key.event_class),
    column(cases, (c) => c.row.case_subject_key.event_id),
    column(cases, (c) => c.row.subject_hash),
    column(cases, (c) => c.count),
    column(cases, (c) => c.first),
    column(cases, (c) => c.last),
    column(cases, (c) => c.created),
  ]);
  const events = intakes.flatMap((i) => i.timeline.map((event) => ({ event, run: i.platform_run_id })));
  await client.query(TIMELINE, [
    column(events, (e) => e.event.case_timeline_event_id),
    column(events, (e) => e.event.case_id),
    column(events, (e) => e.run),
    column(events, (e) => e.event.timeline_event_type),
    column(events, (e) => e.event.source_ref_id),
    column(events, (e) => e.event.observed_time),
    column(events, (e) => canonicalJson(e.event.payload)),
    column(events, (e) => e.event.payload_hash),
    column(events, (e) => e.event.recorded_at_utc),
  ]);
  const emissions = intakes.map((i) => ({ ...i.emission, observed_time: i.observed_time }));
  await client.query(EMISSIONS, [
    column(emissions, (e) => e.label_assertion_id),
    column(emissions, (e) => e.case_id),
    column(emissions, (e) => e.case_trigger_id),
    column(emissions, (e) => e.platform_run_id),
    column(emissions, (e) => e.label_pending_event_id),
    column(emissions, (e) => e.observed_time),
    column(emissions, (e) => canonicalJson(e.input)),
  ]);
}

async function takeIn(client: Queryable, intakes: readonly TriggerIntake[]): Promise<IntakeAnswer[]> {
  const inserted = await client.query<{ case_trigger_id: string }>(CLAIM, [
    column(intakes, (i) => i.case_trigger_id),
    column(intakes, (i) => i.platform_run_id),
    column(intakes, (i) => i.case_id),
    column(intakes, (i) => i.trigger_type),
    column(intakes, (i) => i.source_ref_id),
    column(intakes, (i) => i.observed_time),
    column(intakes, (i) => i.payload_hash),
    column(intakes, (i) => i.payload_json),
    column(intakes, (i) => i.recorded_at_utc),
  ]);
  const fresh = new Set(inserted.rows.map((r) => r.case_trigger_id));
  const earlier = intakes.filter((i) => !fresh.has(i.case_trigger_id));
  const stored = new Map<string, StoredRow>();
  if (earlier.length > 0) {
    const res = await client.query<StoredRow>(STORED, [column(earlier, (i) => i.case_trigger_id)]);
    for (const row of res.rows) stored.set(row.case_trigger_id, row);
  }
  const news = intakes.filter((i) => fresh.has(i.case_trigger_id));
  if (news.length > 0) await writeNew(client, news);
  return intakes.map((intake): IntakeAnswer => {
    if (fresh.has(intake.case_trigger_id)) return { outcome: 'NEW_TRIGGER' };
    const row = stored.get(intake.case_trigger_id);
    if (row === undefined)
      throw new InvariantViolation(`trigger ${intake.case_trigger_id} conflicted but is absent`);
    if (row.payload_hash !== intake.payload_hash)
      return { outcome: 'TRIGGER_PAYLOAD_MISMATCH', stored_payload_hash: row.payload_hash };
    return {
      outcome: 'DUPLICATE_TRIGGER',
      pending: row.label_assertion_id === null ? undefined : pendingOf({ ...(row as EmissionRow) }),
    };
  });
}

async function settle(client: Queryable, settlements: readonly LabelSettlement[]): Promise<boolean[]> {
  const res = await client.query<{ label_assertion_id: string; platform_run_id: string }>(SETTLE, [
    column(settlements, (s) => s.label_assertion_id),
    column(settlements, (s) => s.attempts_before),
    column(settlements, (s) => s.status),
    column(settlements, (s) => s.reason_code),
    column(settlements, (s) => s.last_error),
  ]);
  const runOf = new Map(res.rows.map((r) => [r.label_assertion_id, r.platform_run_id]));
  const events = settlements.flatMap((s) => {
    const run = runOf.get(s.label_assertion_id);
    return run !== undefined && s.timeline_event ? [{ event: s.timeline_event, run }] : [];
  });
  if (events.length > 0)
    await client.query(TIMELINE, [
      column(events, (e) => e.event.case_timeline_event_id),
      column(events, (e) => e.event.case_id),
      column(events, (e) => e.run),
      column(events, (e) => e.event.timeline_event_type),
      column(events, (e) => e.event.source_ref_id),
      column(events, (e) => e.event.observed_time),
      column(events, (e) => canonicalJson(e.event.payload)),
      column(events, (e) => e.event.payload_hash),
      column(events, (e) => e.event.recorded_at_utc),
    ]);
  return settlements.map((s) => runOf.has(s.label_assertion_id));
}

export function postgresCaseStore(pool: Pool): CaseStore {
  return {
    ...caseReads(pool),
    takeIn: (intakes) =>
      intakes.length === 0
        ? Promise.resolve([])
        : inTransaction(pool, (client) => takeIn(client, intakes)).catch(unstorable),
    settle: (settlements) =>
      settlements.length === 0
        ? Promise.resolve([])
        : inTransaction(pool, (client) => settle(client, settlements)).catch(unstorable),
    async quarantine(scopeId, rows) {
      if (rows.length === 0) return;
      await queryOrUnavailable(pool, QUARANTINE, [
        scopeId,
        column(rows, (r) => r.topic),
        column(rows, (r) => r.partition),
        column(rows, (r) => r.offset),
        column(rows, (r) => r.reason_code),
        column(rows, (r) => r.detail),
        column(rows, (r) => r.event_id),
        column(rows, (r) => r.case_trigger_id),
        column(rows, (r) => r.platform_run_id),
        column(rows, (r) => r.data_base64),
        column(rows, (r) => r.data_sha256),
        column(rows, (r) => r.data_bytes),
      ]).catch(unstorable);
    },
    async addCounters(scopeId, additions) {
      const entries = Object.entries(additions).filter(([, by]) => by > 0);
      if (entries.length === 0) return;
      await queryOrUnavailable(pool, ADD_COUNTERS, [
        scopeId,
        entries.map(([name]) => name),
        entries.map(([, by]) => String(by)),
      ]);
    },
    async appendTimeline(events) {
      if (events.length === 0) return;
      await queryOrUnavailable(pool, APPEND, [
        column(events, (e) => e.case_timeline_event_id),
        column(events, (e) => e.case_id),
        column(events, (e) => e.timeline_event_type),
        column(events, (e) => e.source_ref_id),
        column(events, (e) => e.observed_time),
        column(events, (e) => canonicalJson(e.payload)),
        column(events, (e) => e.payload_hash),
        column(events, (e) => e.recorded_at_utc),
      ]);
    },
    async pendingEmissions(platformRunId, limit) {
      const res = await queryOrUnavailable<EmissionRow>(pool, PENDING, [platformRunId, limit]);
      return res.rows.map(pendingOf);
    },
    async counts(platformRunId) {
      const scopeId = caseManagementStreamId(platformRunId);
      const [rows, counters] = await Promise.all([
        queryOrUnavailable<Record<string, string>>(pool, COUNTS, [platformRunId, scopeId]),
        queryOrUnavailable<{ metric_name: string; value: string }>(
          pool,
          'SELECT metric_name, value::text AS value FROM cm_metrics WHERE scope_id = $1',
          [scopeId],
        ),
      ]);
      const counts: Record<string, number> = {};
      for (const [name, value] of Object.entries(rows.rows[0] ?? {})) counts[name] = Number(value);
      for (const row of counters.rows) counts[row.metric_name] = Number(row.value);
      return counts;
    },
  };
}
