import { z } from 'zod';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { IntentLink, LineageChain, OutcomeLink } from '../contracts/decision-log.ts';
import { EbRef } from '../contracts/receipts.ts';
import type {
  BatchKeys,
  BatchState,
  DecisionLogCheckpoint,
  DecisionLogCounts,
  DecisionLogScope,
  DecisionLogStore,
  DecisionLogTransaction,
} from '../decision-log/ports.ts';
import { ATTEMPT_COLUMNS, insertRows, writeDecisionLogBatch } from './decision-log-writes.ts';
import type { Pool } from './postgres/pool.ts';
import { inTransaction, type Queryable, RecordUnstorable } from './postgres/projector-store.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Decision Log & Audit store on Postgres (migration 0018), bound to one stream id (`dla.v0::<run>`). A batch is
 * one transaction (`inTransaction` of projector-store.ts: a deadlock or a `ConcurrentInsert` runs it again): `load`
 * reads the batch's rows in one statement per table (chains and checkpoints `FOR UPDATE`), `write` writes them in one
 * statement per table (`unnest` arrays). Rows the batch found absent are inserted expecting no other
 * (`insertExpectingNew`), so two batches racing on a new chain or candidate end with one of them running again and
 * reading the other's row. Rows read back are parsed with zod; JSON columns are canonical JSON, read losslessly.
 */

const OffsetKind = EbRef.shape.offset_kind;
const isDataError = (error: unknown) => /^(2[23]|54)/.test((error as { code?: string })?.code ?? '');
const json = (text: string) => parseJsonLossless(text);
const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const ObservationRow = z.object({
  topic: z.string(),
  partition_id: z.number().int(),
  offset_kind: OffsetKind,
  source_offset: z.string(),
  platform_run_id: z.string(),
  scenario_run_id: z.string(),
  event_type: z.string(),
  event_id: z.string(),
  payload_hash: z.string(),
});
const CandidateRow = z.object({
  platform_run_id: z.string(),
  event_type: z.string(),
  event_id: z.string(),
  payload_hash: z.string(),
});
const ChainRow = z.object({
  decision_id: z.string(),
  platform_run_id: z.string(),
  scenario_run_id: z.string(),
  pins_json: z.string(),
  run_config_digest: z.string(),
  decision_json: z.string().nullable(),
  unresolved_reasons_json: z.string(),
  chain_status: z.string(),
  unresolved_since_utc: z.date().nullable(),
  audit_id: z.string().nullable(),
});
const LinkRow = z.object({ decision_id: z.string(), link_json: z.string() });
const CheckpointRow = z.object({
  topic: z.string(),
  partition_id: z.number().int(),
  next_offset: z.string(),
  offset_kind: OffsetKind,
  watermark_ts_utc: z.string().nullable(),
  updated_at_utc: z.date(),
});
const AttemptRow = z.object({
  topic: z.string(),
  partition_id: z.number().int(),
  offset_kind: OffsetKind,
  source_offset: z.string(),
  platform_run_id: z.string().nullable(),
  scenario_run_id: z.string().nullable(),
  event_type: z.string().nullable(),
  event_id: z.string().nullable(),
  accepted: z.boolean(),
  reason_code: z.string(),
  write_status: z.enum(['NEW', 'DUPLICATE']).nullable(),
  checkpoint_advanced: z.boolean(),
  detail: z.string().nullable(),
  attempted_at_utc: z.date(),
});
const Counts = z.object({
  attempts_total: z.number().int(),
  accepted_total: z.number().int(),
  rejected_total: z.number().int(),
  new_total: z.number().int(),
  duplicate_total: z.number().int(),
  run_scope_skipped_total: z.number().int(),
  checkpoint_advanced_total: z.number().int(),
  write_failed_total: z.number().int(),
  candidate_total: z.number().int(),
  quarantine_total: z.number().int(),
  replay_divergence_total: z.number().int(),
  lineage_resolved_total: z.number().int(),
  lineage_unresolved_total: z.number().int(),
  audit_record_total: z.number().int(),
});

const CHAIN_COLUMNS = `decision_id, platform_run_id, scenario_run_id, pins_json, run_config_digest, decision_json,
  unresolved_reasons_json, chain_status, unresolved_since_utc, audit_id`;

/** The chains of `decisionIds` with their links (locked when `lock`), parsed. */
async function loadChains(
  client: Queryable,
  streamId: string,
  decisionIds: readonly string[],
  lock: boolean,
) {
  if (decisionIds.length === 0) return [];
  const params = [streamId, decisionIds];
  const chains = await client.query(
    `SELECT ${CHAIN_COLUMNS} FROM dla_lineage_chains WHERE stream_id = $1 AND decision_id = ANY($2::text[])
     ORDER BY decision_id${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (chains.rows.length === 0) return [];
  const links = async (table: string, order: string) =>
    z.array(LinkRow).parse(
      (
        await client.query(
          `SELECT decision_id, link_json FROM ${table} WHERE stream_id = $1 AND decision_id = ANY($2::text[])
             ORDER BY decision_id, ${order}`,
          params,
        )
      ).rows,
    );
  const [intents, outcomes] = [
    await links('dla_lineage_intents', 'action_id'),
    await links('dla_lineage_outcomes', 'outcome_id'),
  ];
  return z
    .array(ChainRow)
    .parse(chains.rows)
    .map((row) =>
      LineageChain.parse({
        decision_id: row.decision_id,
        platform_run_id: row.platform_run_id,
        scenario_run_id: row.scenario_run_id,
        pins: json(row.pins_json),
        run_config_digest: row.run_config_digest,
        decision: row.decision_json === null ? null : json(row.decision_json),
        intents: intents
          .filter((l) => l.decision_id === row.decision_id)
          .map((l) => IntentLink.parse(json(l.link_json))),
        outcomes: outcomes
          .filter((l) => l.decision_id === row.decision_id)
          .map((l) => OutcomeLink.parse(json(l.link_json))),
        chain_status: row.chain_status,
        unresolved_reasons: JSON.parse(row.unresolved_reasons_json),
        unresolved_since_utc: iso(row.unresolved_since_utc),
        audit_id: row.audit_id,
      }),
    );
}

async function load(client: Queryable, streamId: string, keys: BatchKeys): Promise<BatchState> {
  const observations = keys.offsets.length
    ? await client.query(
        `SELECT topic, partition_id, offset_kind, source_offset, platform_run_id, scenario_run_id, event_type, event_id,
           payload_hash FROM dla_intake_replay_observations
         WHERE stream_id = $1 AND (topic, partition_id, offset_kind, source_offset) IN
           (SELECT * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]))`,
        [
          streamId,
          ...(['topic', 'partition', 'offset_kind', 'offset'] as const).map((k) =>
            keys.offsets.map((o) => o[k]),
          ),
        ],
      )
    : { rows: [] };
  const candidates = keys.candidates.length
    ? await client.query(
        `SELECT platform_run_id, event_type, event_id, payload_hash FROM dla_intake_candidates
         WHERE stream_id = $1 AND (platform_run_id, event_type, event_id) IN
           (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))`,
        [
          streamId,
          ...(['platform_run_id', 'event_type', 'event_id'] as const).map((k) =>
            keys.candidates.map((c) => c[k]),
          ),
        ],
      )
    : { rows: [] };
  const chains = await loadChains(client, streamId, keys.decisionIds, true);
  const checkpoints = keys.partitions.length
    ? await client.query(
        `SELECT topic, partition_id, next_offset, offset_kind, watermark_ts_utc, updated_at_utc
         FROM dla_intake_checkpoints WHERE stream_id = $1 AND (topic, partition_id) IN
           (SELECT * FROM unnest($2::text[], $3::int[])) ORDER BY topic, partition_id FOR UPDATE`,
        [streamId, keys.partitions.map((p) => p.topic), keys.partitions.map((p) => p.partition)],
      )
    : { rows: [] };
  return {
    observations: z
      .array(ObservationRow)
      .parse(observations.rows)
      .map(({ partition_id, source_offset, ...o }) => ({
        ...o,
        partition: partition_id,
        offset: source_offset,
      })),
    candidates: z.array(CandidateRow).parse(candidates.rows),
    chains,
    checkpoints: z.array(CheckpointRow).parse(checkpoints.rows).map(checkpointOf),
  };
}

const checkpointOf = (row: z.infer<typeof CheckpointRow>): DecisionLogCheckpoint => ({
  topic: row.topic,
  partition: row.partition_id,
  next_offset: row.next_offset,
  offset_kind: row.offset_kind,
  watermark_ts_utc: row.watermark_ts_utc,
  updated_at_utc: row.updated_at_utc.toISOString(),
});

/** `AND (run) AND (scenario run)` on a table's columns, parameters from `$first`. */
const scopeFilter = (scope: DecisionLogScope, first: number, alias = '') => ({
  sql: `AND ($${first}::text IS NULL OR ${alias}platform_run_id = $${first}) AND ($${first + 1}::text IS NULL OR ${alias}scenario_run_id = $${first + 1})`,
  params: [scope.platformRunId ?? null, scope.scenarioRunId ?? null],
});

export function postgresDecisionLogStore(pool: Pool, streamId: string): DecisionLogStore {
  const transactionOf = (client: Queryable): DecisionLogTransaction => ({
    load: (keys) => load(client, streamId, keys),
    write: (writes) => writeDecisionLogBatch(client, streamId, writes),
  });
  const read = (sql: string, params: unknown[]) => queryOrUnavailable(pool, sql, params);
  const reader = { query: read } as unknown as Queryable;
  return {
    streamId,
    async inTransaction(work) {
      try {
        return await inTransaction(pool, (client) => work(transactionOf(client)));
      } catch (error) {
        if (isDataError(error)) throw new RecordUnstorable(error);
        throw error;
      }
    },
    recordAttempts: (attempts) =>
      inTransaction(pool, (client) =>
        insertRows(client, streamId, 'dla_intake_attempts', ATTEMPT_COLUMNS, attempts),
      ),
    async readChain(decisionId) {
      return (await loadChains(reader, streamId, [decisionId], false))[0];
    },
    async counts(scope) {
      const f = scopeFilter(scope, 2);
      const res = await read(
        `SELECT a.*, (SELECT count(*)::int FROM dla_intake_candidates WHERE stream_id = $1 ${f.sql}) AS candidate_total,
           q.quarantine_total, q.replay_divergence_total, ch.*
         FROM (SELECT count(*)::int AS attempts_total, count(*) FILTER (WHERE accepted)::int AS accepted_total,
             count(*) FILTER (WHERE NOT accepted)::int AS rejected_total,
             count(*) FILTER (WHERE accepted AND write_status = 'NEW')::int AS new_total,
             count(*) FILTER (WHERE accepted AND write_status = 'DUPLICATE')::int AS duplicate_total,
             count(*) FILTER (WHERE reason_code = 'RUN_SCOPE_MISMATCH')::int AS run_scope_skipped_total,
             count(*) FILTER (WHERE checkpoint_advanced)::int AS checkpoint_advanced_total,
             count(*) FILTER (WHERE reason_code = 'WRITE_FAILED')::int AS write_failed_total
           FROM dla_intake_attempts WHERE stream_id = $1 ${f.sql}) a,
         (SELECT count(*)::int AS quarantine_total,
             count(*) FILTER (WHERE reason_code = 'REPLAY_DIVERGENCE')::int AS replay_divergence_total
           FROM dla_intake_quarantine WHERE stream_id = $1 ${f.sql}) q,
         (SELECT count(*) FILTER (WHERE chain_status = 'RESOLVED')::int AS lineage_resolved_total,
             count(*) FILTER (WHERE chain_status = 'UNRESOLVED')::int AS lineage_unresolved_total,
             count(audit_id)::int AS audit_record_total
           FROM dla_lineage_chains WHERE stream_id = $1 ${f.sql}) ch`,
        [streamId, ...f.params],
      );
      return Counts.parse(res.rows[0]) satisfies DecisionLogCounts;
    },
    async unresolvedSince(scope, cutoffsUtc) {
      const f = scopeFilter(scope, 3, 'ch.');
      const res = await read(
        `SELECT c.n, count(ch.decision_id)::int AS chains
         FROM unnest($2::timestamptz[]) WITH ORDINALITY AS c(cutoff, n)
         LEFT JOIN dla_lineage_chains ch ON ch.stream_id = $1 AND ch.chain_status = 'UNRESOLVED'
           AND ch.unresolved_since_utc < c.cutoff ${f.sql}
         GROUP BY c.n ORDER BY c.n`,
        [streamId, cutoffsUtc, ...f.params],
      );
      return z
        .array(z.object({ chains: z.number().int() }))
        .parse(res.rows)
        .map((r) => r.chains);
    },
    async checkpoints() {
      const res = await read(
        `SELECT topic, partition_id, next_offset, offset_kind, watermark_ts_utc, updated_at_utc
         FROM dla_intake_checkpoints WHERE stream_id = $1 ORDER BY topic, partition_id`,
        [streamId],
      );
      return z.array(CheckpointRow).parse(res.rows).map(checkpointOf);
    },
    async anomalyLanes(scope) {
      const f = scopeFilter(scope, 2);
      const res = await read(
        `SELECT reason_code, count(*)::int AS total FROM dla_intake_quarantine WHERE stream_id = $1 ${f.sql}
         GROUP BY reason_code ORDER BY reason_code`,
        [streamId, ...f.params],
      );
      const rows = z.array(z.object({ reason_code: z.string(), total: z.number().int() })).parse(res.rows);
      return Object.fromEntries(rows.map((r) => [r.reason_code, r.total]));
    },
    async recentAttempts(scope, limit) {
      const f = scopeFilter(scope, 2);
      const res = await read(
        `SELECT topic, partition_id, offset_kind, source_offset, platform_run_id, scenario_run_id, event_type, event_id,
           accepted, reason_code, write_status, checkpoint_advanced, detail, attempted_at_utc
         FROM dla_intake_attempts WHERE stream_id = $1 ${f.sql}
         ORDER BY attempted_at_utc DESC, attempt_id DESC LIMIT $4`,
        [streamId, ...f.params, limit],
      );
      return z
        .array(AttemptRow)
        .parse(res.rows)
        .map(({ partition_id, source_offset, attempted_at_utc, ...a }) => ({
          ...a,
          partition: partition_id,
          offset: source_offset,
          attempted_at_utc: attempted_at_utc.toISOString(),
        }));
    },
  };
}
