import type { ActionLayerStore, AppendAnswer, ClaimAnswer, SemanticClaim } from '../action-layer/ports.ts';
import type { PublishDecision } from '../contracts/action-layer.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import type { Pool, Queryable } from './postgres/pool.ts';
import { inTransaction } from './postgres/projector-store.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Action Layer's store on Postgres (migration 0017), bound to one stream id (`al.v0::<run>`). Claims and
 * publish decisions are written set-wise (`unnest`, in key order so concurrent batches lock alike); an outcome is
 * appended with its ledger link in one transaction, right after its effect ran, so a claim without an outcome means
 * the delivery ended in between.
 */

const ledgerKey = (run: string, scenario: string, semanticKey: string) => `${run}|${scenario}|${semanticKey}`;

const CLAIM = `INSERT INTO al_semantic_ledger (stream_id, platform_run_id, scenario_run_id, semantic_key, idempotency_key,
    action_id, decision_id, intent_hash, first_seen_at_utc)
  SELECT $1, u.platform_run_id, u.scenario_run_id, u.semantic_key, u.idempotency_key, u.action_id, u.decision_id,
    u.intent_hash, u.first_seen_at_utc
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS u(platform_run_id, scenario_run_id, semantic_key, idempotency_key, action_id, decision_id, intent_hash,
      first_seen_at_utc)
  ORDER BY u.platform_run_id, u.scenario_run_id, u.semantic_key
  ON CONFLICT DO NOTHING
  RETURNING platform_run_id, scenario_run_id, semantic_key`;

// A separate statement (not a CTE of the insert), so it sees rows another batch committed meanwhile.
const STORED_CLAIMS = `SELECT l.platform_run_id, l.scenario_run_id, l.semantic_key, l.intent_hash, o.outcome_json,
    p.publish_decision
  FROM al_semantic_ledger l
  LEFT JOIN al_outcomes_append o ON o.stream_id = l.stream_id AND o.outcome_id = l.outcome_id
  LEFT JOIN al_outcome_publish p ON p.stream_id = l.stream_id AND p.outcome_id = l.outcome_id
  WHERE l.stream_id = $1
    AND (l.platform_run_id, l.scenario_run_id, l.semantic_key) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))`;

const PUBLISH = `INSERT INTO al_outcome_publish (stream_id, outcome_id, publish_decision, receipt_ref, reason_code)
  SELECT $1, u.outcome_id, u.publish_decision, u.receipt_ref, u.reason_code
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(outcome_id, publish_decision, receipt_ref, reason_code)
  ORDER BY u.outcome_id
  ON CONFLICT (stream_id, outcome_id) DO UPDATE SET publish_decision = EXCLUDED.publish_decision,
    receipt_ref = EXCLUDED.receipt_ref, reason_code = EXCLUDED.reason_code,
    attempts = al_outcome_publish.attempts + 1, updated_at_utc = now()
  WHERE al_outcome_publish.publish_decision = 'AMBIGUOUS'`;

const ADD_METRICS = `INSERT INTO al_metrics (stream_id, metric_name, value)
  SELECT $1, u.metric_name, u.value FROM unnest($2::text[], $3::bigint[]) AS u(metric_name, value)
  ORDER BY u.metric_name
  ON CONFLICT (stream_id, metric_name) DO UPDATE SET value = al_metrics.value + EXCLUDED.value, updated_at_utc = now()`;

interface StoredClaimRow {
  platform_run_id: string;
  scenario_run_id: string;
  semantic_key: string;
  intent_hash: string;
  outcome_json: string | null;
  publish_decision: PublishDecision | null;
}

const column = <T>(rows: readonly T[], pick: (row: T) => unknown) => rows.map(pick);

async function appendOutcome(
  client: Queryable,
  streamId: string,
  semanticKey: string,
  outcome: Parameters<ActionLayerStore['append']>[1],
  hash: string,
): Promise<AppendAnswer> {
  const { pins } = outcome;
  const inserted = await client.query(
    `INSERT INTO al_outcomes_append (stream_id, outcome_id, platform_run_id, scenario_run_id, semantic_key, decision_id,
       action_id, status, outcome_hash, outcome_json, completed_at_utc)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (stream_id, outcome_id) DO NOTHING RETURNING 1`,
    [
      streamId,
      outcome.outcome_id,
      pins.platform_run_id,
      pins.scenario_run_id,
      semanticKey,
      outcome.decision_id,
      outcome.action_id,
      outcome.status,
      hash,
      canonicalJson(outcome),
      outcome.completed_at_utc,
    ],
  );
  let answer: AppendAnswer = 'NEW';
  if (inserted.rowCount !== 1) {
    const stored = await client.query<{ outcome_hash: string }>(
      'SELECT outcome_hash FROM al_outcomes_append WHERE stream_id = $1 AND outcome_id = $2',
      [streamId, outcome.outcome_id],
    );
    const storedHash = stored.rows[0]?.outcome_hash;
    if (storedHash === undefined)
      throw new InvariantViolation(`outcome ${outcome.outcome_id} conflicted but is absent`);
    if (storedHash !== hash) return 'HASH_MISMATCH';
    answer = 'DUPLICATE';
  }
  await client.query(
    `UPDATE al_semantic_ledger SET outcome_id = $5
     WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND semantic_key = $4 AND outcome_id IS NULL`,
    [streamId, pins.platform_run_id, pins.scenario_run_id, semanticKey, outcome.outcome_id],
  );
  return answer;
}

export function postgresActionLayerStore(pool: Pool, streamId: string): ActionLayerStore {
  return {
    async claim(claims) {
      if (claims.length === 0) return [];
      const inserted = await queryOrUnavailable<
        Pick<SemanticClaim, 'platform_run_id' | 'scenario_run_id' | 'semantic_key'>
      >(pool, CLAIM, [
        streamId,
        column(claims, (c) => c.platform_run_id),
        column(claims, (c) => c.scenario_run_id),
        column(claims, (c) => c.semantic_key),
        column(claims, (c) => c.idempotency_key),
        column(claims, (c) => c.action_id),
        column(claims, (c) => c.decision_id),
        column(claims, (c) => c.intent_hash),
        column(claims, (c) => c.first_seen_at_utc),
      ]);
      const fresh = new Set(
        inserted.rows.map((r) => ledgerKey(r.platform_run_id, r.scenario_run_id, r.semantic_key)),
      );
      const earlier = claims.filter(
        (c) => !fresh.has(ledgerKey(c.platform_run_id, c.scenario_run_id, c.semantic_key)),
      );
      const stored = new Map<string, StoredClaimRow>();
      if (earlier.length > 0) {
        const res = await queryOrUnavailable<StoredClaimRow>(pool, STORED_CLAIMS, [
          streamId,
          column(earlier, (c) => c.platform_run_id),
          column(earlier, (c) => c.scenario_run_id),
          column(earlier, (c) => c.semantic_key),
        ]);
        for (const row of res.rows)
          stored.set(ledgerKey(row.platform_run_id, row.scenario_run_id, row.semantic_key), row);
      }
      return claims.map((c): ClaimAnswer => {
        const key = ledgerKey(c.platform_run_id, c.scenario_run_id, c.semantic_key);
        if (fresh.has(key)) return { status: 'NEW' };
        const row = stored.get(key);
        if (row === undefined)
          throw new InvariantViolation(`semantic key ${c.semantic_key} conflicted but is absent`);
        if (row.intent_hash !== c.intent_hash)
          return { status: 'HASH_MISMATCH', stored_intent_hash: row.intent_hash };
        return {
          status: 'DROP_DUPLICATE',
          outcome:
            row.outcome_json === null
              ? undefined
              : { outcome: parseJsonLossless(row.outcome_json), publish_decision: row.publish_decision },
        };
      });
    },
    append: (semanticKey, outcome, hash) =>
      inTransaction(pool, (client) => appendOutcome(client, streamId, semanticKey, outcome, hash)),
    async recordPublish(records) {
      if (records.length === 0) return;
      await queryOrUnavailable(pool, PUBLISH, [
        streamId,
        column(records, (r) => r.outcome_id),
        column(records, (r) => r.decision),
        column(records, (r) => r.receipt_ref),
        column(records, (r) => r.reason_code),
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
        'SELECT metric_name, value::text AS value FROM al_metrics WHERE stream_id = $1 ORDER BY metric_name',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.metric_name, Number(r.value)]));
    },
  };
}
