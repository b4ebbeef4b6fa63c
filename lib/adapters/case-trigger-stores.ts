import type {
  CaseTriggerStore,
  DecisionSource,
  LedgerAnswer,
  LedgerClaim,
  RaisedOutcome,
} from '../case-trigger/ports.ts';
import type { PublishDecision } from '../contracts/action-layer.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import type { Pool } from './postgres/pool.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The case trigger's store on Postgres (migration 0020), bound to one stream id (`case_trigger.v0::<run>`). Every
 * write is one set-wise statement (`unnest`, in key order so concurrent batches lock alike) that is safe to race: the
 * source map, the parked outcomes, the ledger and the anomalies are insert-once (`ON CONFLICT DO NOTHING`, the first
 * row kept), a ledger claim answers NEW only to the statement that inserted the row, and a publish decision replaces
 * only an AMBIGUOUS one.
 */

const RECORD_SOURCES = `INSERT INTO ct_decision_sources (stream_id, decision_id, platform_run_id, scenario_run_id,
    source_event_id)
  SELECT $1, u.decision_id, u.platform_run_id, u.scenario_run_id, u.source_event_id
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
    AS u(decision_id, platform_run_id, scenario_run_id, source_event_id)
  ORDER BY u.decision_id
  ON CONFLICT DO NOTHING`;

const SOURCES = `SELECT decision_id, platform_run_id, scenario_run_id, source_event_id FROM ct_decision_sources
  WHERE stream_id = $1 AND decision_id = ANY($2::text[])`;

const PARK = `INSERT INTO ct_waiting_outcomes (stream_id, outcome_id, decision_id, platform_run_id, scenario_run_id,
    status, outcome_json)
  SELECT $1, u.outcome_id, u.decision_id, u.platform_run_id, u.scenario_run_id, u.status, u.outcome_json
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS u(outcome_id, decision_id, platform_run_id, scenario_run_id, status, outcome_json)
  ORDER BY u.outcome_id
  ON CONFLICT DO NOTHING
  RETURNING outcome_id`;

const WAITING = `SELECT outcome_json FROM ct_waiting_outcomes
  WHERE stream_id = $1 AND decision_id = ANY($2::text[]) AND raised_at_utc IS NULL
  ORDER BY outcome_id`;

const MARK_RAISED = `UPDATE ct_waiting_outcomes w
  SET raised_at_utc = now(), case_trigger_id = u.case_trigger_id, raised_disposition = u.disposition
  FROM unnest($2::text[], $3::text[], $4::text[]) AS u(outcome_id, case_trigger_id, disposition)
  WHERE w.stream_id = $1 AND w.outcome_id = u.outcome_id AND w.raised_at_utc IS NULL`;

const CLAIM = `INSERT INTO ct_replay_ledger (stream_id, case_trigger_id, case_id, trigger_type, source_ref_id,
    platform_run_id, scenario_run_id, payload_hash, payload_json, first_seen_at_utc)
  SELECT $1, u.case_trigger_id, u.case_id, u.trigger_type, u.source_ref_id, u.platform_run_id, u.scenario_run_id,
    u.payload_hash, u.payload_json, u.first_seen_at_utc
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::text[])
    AS u(case_trigger_id, case_id, trigger_type, source_ref_id, platform_run_id, scenario_run_id, payload_hash,
      payload_json, first_seen_at_utc)
  ORDER BY u.case_trigger_id
  ON CONFLICT DO NOTHING
  RETURNING case_trigger_id`;

// A separate statement (not a CTE of the insert), so it sees rows another batch committed meanwhile.
const STORED_CLAIMS = `SELECT l.case_trigger_id, l.payload_hash, p.publish_decision
  FROM ct_replay_ledger l
  LEFT JOIN ct_trigger_publish p ON p.stream_id = l.stream_id AND p.case_trigger_id = l.case_trigger_id
  WHERE l.stream_id = $1 AND l.case_trigger_id = ANY($2::text[])`;

const PUBLISH = `INSERT INTO ct_trigger_publish (stream_id, case_trigger_id, publish_decision, receipt_ref, reason_code)
  SELECT $1, u.case_trigger_id, u.publish_decision, u.receipt_ref, u.reason_code
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
    AS u(case_trigger_id, publish_decision, receipt_ref, reason_code)
  ORDER BY u.case_trigger_id
  ON CONFLICT (stream_id, case_trigger_id) DO UPDATE SET publish_decision = EXCLUDED.publish_decision,
    receipt_ref = EXCLUDED.receipt_ref, reason_code = EXCLUDED.reason_code,
    attempts = ct_trigger_publish.attempts + 1, updated_at_utc = now()
  WHERE ct_trigger_publish.publish_decision = 'AMBIGUOUS'`;

const ANOMALIES = `INSERT INTO ct_anomalies (stream_id, case_trigger_id, observed_payload_hash, reason_code,
    stored_payload_hash, source_ref_id, platform_run_id, scenario_run_id, observed_at_utc)
  SELECT $1, u.case_trigger_id, u.observed_payload_hash, 'CASE_TRIGGER_PAYLOAD_MISMATCH', u.stored_payload_hash,
    u.source_ref_id, u.platform_run_id, u.scenario_run_id, u.observed_at_utc
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS u(case_trigger_id, observed_payload_hash, stored_payload_hash, source_ref_id, platform_run_id,
      scenario_run_id, observed_at_utc)
  ORDER BY u.case_trigger_id, u.observed_payload_hash
  ON CONFLICT DO NOTHING`;

const ADD_METRICS = `INSERT INTO ct_metrics (stream_id, metric_name, value)
  SELECT $1, u.metric_name, u.value FROM unnest($2::text[], $3::bigint[]) AS u(metric_name, value)
  ORDER BY u.metric_name
  ON CONFLICT (stream_id, metric_name) DO UPDATE SET value = ct_metrics.value + EXCLUDED.value, updated_at_utc = now()`;

interface StoredClaimRow {
  case_trigger_id: string;
  payload_hash: string;
  publish_decision: PublishDecision | null;
}

const column = <T>(rows: readonly T[], pick: (row: T) => unknown) => rows.map(pick);
/** One row per key (the first), so a statement never names a key twice. */
const distinctBy = <T>(rows: readonly T[], key: (row: T) => string): T[] => {
  const seen = new Map<string, T>();
  for (const row of rows) if (!seen.has(key(row))) seen.set(key(row), row);
  return [...seen.values()];
};

export function postgresCaseTriggerStore(pool: Pool, streamId: string): CaseTriggerStore {
  return {
    async recordDecisionSources(sources) {
      const rows = distinctBy(sources, (s) => s.decision_id);
      if (rows.length === 0) return;
      await queryOrUnavailable(pool, RECORD_SOURCES, [
        streamId,
        column(rows, (s) => s.decision_id),
        column(rows, (s) => s.platform_run_id),
        column(rows, (s) => s.scenario_run_id),
        column(rows, (s) => s.source_event_id),
      ]);
    },
    async decisionSources(decisionIds) {
      if (decisionIds.length === 0) return [];
      const res = await queryOrUnavailable<DecisionSource>(pool, SOURCES, [
        streamId,
        [...new Set(decisionIds)],
      ]);
      return res.rows;
    },
    async park(outcomes) {
      const rows = distinctBy(outcomes, (o) => o.outcome_id);
      if (rows.length === 0) return [];
      const res = await queryOrUnavailable<{ outcome_id: string }>(pool, PARK, [
        streamId,
        column(rows, (o) => o.outcome_id),
        column(rows, (o) => o.decision_id),
        column(rows, (o) => o.pins.platform_run_id),
        column(rows, (o) => o.pins.scenario_run_id),
        column(rows, (o) => o.status),
        column(rows, (o) => canonicalJson(o)),
      ]);
      return res.rows.map((r) => r.outcome_id);
    },
    async waitingFor(decisionIds) {
      if (decisionIds.length === 0) return [];
      const res = await queryOrUnavailable<{ outcome_json: string }>(pool, WAITING, [
        streamId,
        [...new Set(decisionIds)],
      ]);
      return res.rows.map((r) => parseJsonLossless(r.outcome_json));
    },
    async markRaised(raised) {
      const rows = distinctBy(raised, (r: RaisedOutcome) => r.outcome_id);
      if (rows.length === 0) return;
      await queryOrUnavailable(pool, MARK_RAISED, [
        streamId,
        column(rows, (r) => r.outcome_id),
        column(rows, (r) => r.case_trigger_id),
        column(rows, (r) => r.disposition),
      ]);
    },
    async claim(claims) {
      if (claims.length === 0) return [];
      const rows = distinctBy(claims, (c: LedgerClaim) => c.case_trigger_id);
      if (rows.length !== claims.length) throw new InvariantViolation('a ledger claim names a trigger twice');
      const inserted = await queryOrUnavailable<{ case_trigger_id: string }>(pool, CLAIM, [
        streamId,
        column(claims, (c) => c.case_trigger_id),
        column(claims, (c) => c.case_id),
        column(claims, (c) => c.trigger_type),
        column(claims, (c) => c.source_ref_id),
        column(claims, (c) => c.platform_run_id),
        column(claims, (c) => c.scenario_run_id),
        column(claims, (c) => c.payload_hash),
        column(claims, (c) => canonicalJson(c.payload)),
        column(claims, (c) => c.first_seen_at_utc),
      ]);
      const fresh = new Set(inserted.rows.map((r) => r.case_trigger_id));
      const earlier = claims.filter((c) => !fresh.has(c.case_trigger_id));
      const stored = new Map<string, StoredClaimRow>();
      if (earlier.length > 0) {
        const res = await queryOrUnavailable<StoredClaimRow>(pool, STORED_CLAIMS, [
          streamId,
          column(earlier, (c) => c.case_trigger_id),
        ]);
        for (const row of res.rows) stored.set(row.case_trigger_id, row);
      }
      return claims.map((c): LedgerAnswer => {
        if (fresh.has(c.case_trigger_id)) return { status: 'NEW' };
        const row = stored.get(c.case_trigger_id);
        if (row === undefined)
          throw new InvariantViolation(`case trigger ${c.case_trigger_id} conflicted but is absent`);
        if (row.payload_hash !== c.payload_hash)
          return { status: 'PAYLOAD_MISMATCH', stored_payload_hash: row.payload_hash };
        return { status: 'SEEN', publish_decision: row.publish_decision };
      });
    },
    async recordPublish(records) {
      const rows = distinctBy(records, (r) => r.case_trigger_id);
      if (rows.length === 0) return;
      await queryOrUnavailable(pool, PUBLISH, [
        streamId,
        column(rows, (r) => r.case_trigger_id),
        column(rows, (r) => r.decision),
        column(rows, (r) => r.receipt_ref),
        column(rows, (r) => r.reason_code),
      ]);
    },
    async recordAnomalies(anomalies) {
      const rows = distinctBy(anomalies, (a) => `${a.case_trigger_id}|${a.observed_payload_hash}`);
      if (rows.length === 0) return;
      await queryOrUnavailable(pool, ANOMALIES, [
        streamId,
        column(rows, (a) => a.case_trigger_id),
        column(rows, (a) => a.observed_payload_hash),
        column(rows, (a) => a.stored_payload_hash),
        column(rows, (a) => a.source_ref_id),
        column(rows, (a) => a.platform_run_id),
        column(rows, (a) => a.scenario_run_id),
        column(rows, (a) => a.observed_at_utc),
      ]);
    },
    async addMetrics(additions) {
      const entries = Object.entries(additions).filter(([, by]) => by > 0);
      if (entries.length === 0) return;
      await queryOrUnavailable(pool, ADD_METRICS, [
        streamId,
        entries.map(([name]) => name),
        entries.map(([, by]) => String(by)),
      ]);
    },
    async metrics() {
      const res = await queryOrUnavailable<{ metric_name: string; value: string }>(
        pool,
        'SELECT metric_name, value::text AS value FROM ct_metrics WHERE stream_id = $1 ORDER BY metric_name',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.metric_name, Number(r.value)]));
    },
  };
}
