import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { EvidenceRef } from '../contracts/case-trigger.ts';
import type { LabelPins, LabelType, SourceType, StoredLabelAssertion } from '../contracts/label-store.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import type {
  LabelClaimAnswer,
  LabelMismatch,
  LabelStorePort,
  LabelTimelineEntry,
  StoredIdentity,
} from '../label-store/ports.ts';
import type { Pool } from './postgres/pool.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Label Store on Postgres (migration 0019). A claim is one statement: the batch's assertions inserted with
 * `unnest` (`ON CONFLICT DO NOTHING RETURNING`, in id order so concurrent batches lock alike) and, in a CTE of the
 * same statement, a timeline row for each one inserted — so an assertion and its timeline row commit together, and of
 * two writers of one id the second waits on the first's key and inserts nothing. The ids not inserted are then read
 * in a second statement (not a CTE: it must see what a concurrent writer committed meanwhile). A settle is one more
 * statement: replay counts (rows locked in id order), mismatch rows and counter additions.
 */

const CLAIM = `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
      AS u(label_assertion_id, platform_run_id, event_id, label_type, label_value, effective_time, observed_time,
        source_type, actor_id, evidence_refs, case_timeline_event_id, pins, payload_hash)
  ),
  inserted AS (
    INSERT INTO ls_label_assertions (label_assertion_id, platform_run_id, event_id, label_type, label_value,
      effective_time, observed_time, source_type, actor_id, evidence_refs, case_timeline_event_id, pins, payload_hash)
    SELECT * FROM input ORDER BY label_assertion_id
    ON CONFLICT DO NOTHING
    RETURNING label_assertion_id, platform_run_id, event_id, label_type, label_value, effective_time, observed_time,
      source_type
  ),
  timeline AS (
    INSERT INTO ls_label_timeline (label_assertion_id, platform_run_id, event_id, label_type, label_value,
      effective_time, observed_time, source_type)
    SELECT * FROM inserted ORDER BY label_assertion_id
  )
  SELECT label_assertion_id FROM inserted`;

const STORED = `SELECT label_assertion_id, platform_run_id, event_id, label_type, payload_hash
  FROM ls_label_assertions WHERE label_assertion_id = ANY($1::text[])`;

const SETTLE = `WITH replays AS (
    SELECT id, count(*)::integer AS n FROM unnest($1::text[]) AS r(id) GROUP BY id
  ),
  locked AS (
    SELECT a.label_assertion_id FROM ls_label_assertions a JOIN replays r ON r.id = a.label_assertion_id
    ORDER BY a.label_assertion_id FOR UPDATE OF a
  ),
  replayed AS (
    UPDATE ls_label_assertions a SET replay_count = a.replay_count + r.n
    FROM replays r, locked l WHERE a.label_assertion_id = r.id AND l.label_assertion_id = r.id
  ),
  mismatches AS (
    INSERT INTO ls_label_mismatches (label_assertion_id, reason_code, platform_run_id, event_id, label_type,
      incoming_payload_hash, stored_payload_hash)
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  ),
  counters AS (
    INSERT INTO ls_metrics (platform_run_id, metric_name, value)
    SELECT * FROM unnest($9::text[], $10::text[], $11::bigint[]) AS c(platform_run_id, metric_name, value)
    ORDER BY platform_run_id, metric_name
    ON CONFLICT (platform_run_id, metric_name)
      DO UPDATE SET value = ls_metrics.value + EXCLUDED.value, updated_at = now()
  )
  SELECT 1`;

const ASSERTION_COLUMNS = `label_assertion_id, platform_run_id, event_id, label_type, label_value, effective_time,
  observed_time, source_type, actor_id, evidence_refs, case_timeline_event_id, pins, payload_hash, replay_count`;

interface AssertionRow {
  label_assertion_id: string;
  platform_run_id: string;
  event_id: string;
  label_type: LabelType;
  label_value: string;
  effective_time: string;
  observed_time: string;
  source_type: SourceType;
  actor_id: string | null;
  evidence_refs: string;
  case_timeline_event_id: string;
  pins: string;
  payload_hash: string;
  replay_count: number;
}

function assertionOf(row: AssertionRow): StoredLabelAssertion {
  return {
    case_timeline_event_id: row.case_timeline_event_id,
    label_subject_key: { platform_run_id: row.platform_run_id, event_id: row.event_id },
    pins: parseJsonLossless(row.pins) as LabelPins,
    label_type: row.label_type,
    label_value: row.label_value,
    effective_time: row.effective_time,
    observed_time: row.observed_time,
    source_type: row.source_type,
    ...(row.actor_id === null ? {} : { actor_id: row.actor_id }),
    evidence_refs: parseJsonLossless(row.evidence_refs) as EvidenceRef[],
    label_assertion_id: row.label_assertion_id,
    payload_hash: row.payload_hash,
    replay_count: row.replay_count,
  };
}

export function postgresLabelStore(pool: Pool): LabelStorePort {
  const assertions = async (where: string, params: unknown[], order: string) =>
    (
      await queryOrUnavailable<AssertionRow>(
        pool,
        `SELECT ${ASSERTION_COLUMNS} FROM ls_label_assertions WHERE ${where} ORDER BY ${order}`,
        params,
      )
    ).rows.map(assertionOf);
  return {
    async claim(batch) {
      if (batch.length === 0) return [];
      const inserted = await queryOrUnavailable<{ label_assertion_id: string }>(pool, CLAIM, [
        batch.map((a) => a.label_assertion_id),
        batch.map((a) => a.label_subject_key.platform_run_id),
        batch.map((a) => a.label_subject_key.event_id),
        batch.map((a) => a.label_type),
        batch.map((a) => a.label_value),
        batch.map((a) => a.effective_time),
        batch.map((a) => a.observed_time),
        batch.map((a) => a.source_type),
        batch.map((a) => a.actor_id ?? null),
        batch.map((a) => canonicalJson(a.evidence_refs)),
        batch.map((a) => a.case_timeline_event_id),
        batch.map((a) => canonicalJson(a.pins)),
        batch.map((a) => a.payload_hash),
      ]);
      const fresh = new Set(inserted.rows.map((r) => r.label_assertion_id));
      const others = batch.filter((a) => !fresh.has(a.label_assertion_id)).map((a) => a.label_assertion_id);
      const stored = new Map<string, StoredIdentity>();
      if (others.length > 0) {
        const res = await queryOrUnavailable<StoredIdentity & { label_assertion_id: string }>(pool, STORED, [
          others,
        ]);
        for (const { label_assertion_id, ...identity } of res.rows) stored.set(label_assertion_id, identity);
      }
      return batch.map((a): LabelClaimAnswer => {
        if (fresh.has(a.label_assertion_id)) return { status: 'COMMITTED' };
        const identity = stored.get(a.label_assertion_id);
        if (identity === undefined)
          throw new InvariantViolation(`label assertion ${a.label_assertion_id} conflicted but is absent`);
        return { status: 'STORED', stored: identity };
      });
    },
    async settle({ replays, mismatches, counters }) {
      const additions = [...counters].flatMap(([run, counts]) =>
        Object.entries(counts)
          .filter(([, by]) => by > 0)
          .map(([name, by]) => ({ run, name, by })),
      );
      if (replays.length === 0 && mismatches.length === 0 && additions.length === 0) return;
      const column = (pick: (m: LabelMismatch) => string) => mismatches.map(pick);
      await queryOrUnavailable(pool, SETTLE, [
        [...replays],
        column((m) => m.label_assertion_id),
        column((m) => m.reason_code),
        column((m) => m.platform_run_id),
        column((m) => m.event_id),
        column((m) => m.label_type),
        column((m) => m.incoming_payload_hash),
        column((m) => m.stored_payload_hash),
        additions.map((a) => a.run),
        additions.map((a) => a.name),
        additions.map((a) => String(a.by)),
      ]);
    },
    assertionsAsOf: (subject, labelType, asOf) =>
      assertions(
        'platform_run_id = $1 AND event_id = $2 AND label_type = $3 AND observed_time <= $4',
        [subject.platform_run_id, subject.event_id, labelType, asOf],
        'observed_time, effective_time, label_assertion_id',
      ),
    assertionsOfEvent: (subject) =>
      assertions(
        'platform_run_id = $1 AND event_id = $2',
        [subject.platform_run_id, subject.event_id],
        'label_type, observed_time, effective_time, label_assertion_id',
      ),
    assertionsOfRun: (platformRunId, { afterId, limit }) =>
      assertions(
        'platform_run_id = $1 AND label_assertion_id > $2',
        [platformRunId, afterId ?? '', limit],
        'label_assertion_id LIMIT $3',
      ),
    async timelineOf(subject, labelType) {
      const res = await queryOrUnavailable<
        Omit<LabelTimelineEntry, 'timeline_seq'> & { timeline_seq: string }
      >(
        pool,
        `SELECT timeline_seq::text AS timeline_seq, label_assertion_id, label_type, label_value, effective_time,
           observed_time, source_type
         FROM ls_label_timeline WHERE platform_run_id = $1 AND event_id = $2 AND label_type = $3
         ORDER BY timeline_seq`,
        [subject.platform_run_id, subject.event_id, labelType],
      );
      return res.rows.map((row) => ({ ...row, timeline_seq: Number(row.timeline_seq) }));
    },
    async mismatchesOfRun(platformRunId) {
      const res = await queryOrUnavailable<LabelMismatch>(
        pool,
        `SELECT label_assertion_id, reason_code, platform_run_id, event_id, label_type, incoming_payload_hash,
           stored_payload_hash
         FROM ls_label_mismatches WHERE platform_run_id = $1 ORDER BY mismatch_id`,
        [platformRunId],
      );
      return res.rows;
    },
    async runTotals(platformRunId) {
      const res = await queryOrUnavailable<{ assertions: string; replays: string; counters: string }>(
        pool,
        `SELECT
           (SELECT count(*) FROM ls_label_assertions WHERE platform_run_id = $1)::text AS assertions,
           (SELECT COALESCE(sum(replay_count), 0) FROM ls_label_assertions WHERE platform_run_id = $1)::text AS replays,
           (SELECT COALESCE(json_object_agg(metric_name, value::text), '{}') FROM ls_metrics WHERE platform_run_id = $1)::text
             AS counters`,
        [platformRunId],
      );
      const row = res.rows[0];
      if (row === undefined) throw new InvariantViolation('label store totals answered no row');
      const counters = JSON.parse(row.counters) as Record<string, string>;
      return {
        assertions: Number(row.assertions),
        replays: Number(row.replays),
        counters: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)])),
      };
    },
  };
}
