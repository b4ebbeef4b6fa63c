import type pg from 'pg';
import type {
  AnomalyRow,
  ContextCheckpoint,
  ContextMetrics,
  ContextStore,
  ContextStoreTransaction,
  JoinFrameRecord,
  JoinFrameState,
} from '../context-store/ports.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { FlowBinding, JoinFrameKey, SourceEvent } from '../contracts/context-store.ts';
import type { Pool } from './postgres/pool.ts';
import {
  addToCounters,
  checkpointTable,
  inTransaction,
  type Queryable,
  queryOrUnavailable,
  registerEventOnce,
} from './postgres/projector-store.ts';

/**
 * The Context Store's port on Postgres (migration 0008), bound to one stream id. Each record's writes run in one
 * transaction on one client; a join frame is locked (`SELECT … FOR UPDATE` after an `INSERT … ON CONFLICT DO
 * NOTHING` of an empty row) so two shards merging roles into the same frame serialise instead of losing a role.
 * Documents are canonical JSON text read back losslessly (bigints stay exact).
 */

/** Floats such as `12.0` stay floats, so a stored role re-serialises (and re-hashes) byte-identically. */
const lossless = <T>(text: string) => parseJsonLossless(text, { preserveFloats: true }) as T;

/** arrival_seq stays a decimal string on the way to numeric(20,0); it comes back as a string too. */
const keyParams = (key: JoinFrameKey) => [
  key.platform_run_id,
  key.scenario_run_id,
  key.merchant_id,
  key.arrival_seq.toString(),
];

const FRAME_WHERE = `stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND merchant_id = $4
  AND arrival_seq = $5::numeric`;

interface FrameRow {
  payload_hash: string | null;
  frame_json: string | null;
  source_event_json: string | null;
}

function frameOf(row: FrameRow | undefined): JoinFrameRecord | undefined {
  if (!row?.frame_json || !row.payload_hash || !row.source_event_json) return undefined;
  const state = lossless<JoinFrameState>(row.frame_json);
  state.join_frame_key.arrival_seq = BigInt(state.join_frame_key.arrival_seq);
  return {
    state,
    payload_hash: row.payload_hash,
    source_event: lossless<SourceEvent>(row.source_event_json),
  };
}

function bindingOf(row: { binding_json: string } | undefined): FlowBinding | undefined {
  if (!row) return undefined;
  const binding = lossless<FlowBinding>(row.binding_json);
  binding.join_frame_key.arrival_seq = BigInt(binding.join_frame_key.arrival_seq);
  return binding;
}

const CHECKPOINTS = checkpointTable<ContextCheckpoint['offset_kind']>('csfb_join_checkpoints');

function transactionOn(client: Queryable, streamId: string): ContextStoreTransaction {
  return {
    registerIntake: (row) =>
      registerEventOnce(client, 'csfb_intake_dedupe', 'first_seen_ts_utc', streamId, row),
    async lockJoinFrame(key) {
      await client.query(
        `INSERT INTO csfb_join_frames (stream_id, platform_run_id, scenario_run_id, merchant_id, arrival_seq)
         VALUES ($1, $2, $3, $4, $5::numeric) ON CONFLICT DO NOTHING`,
        [streamId, ...keyParams(key)],
      );
      const res = await client.query<FrameRow>(
        `SELECT payload_hash, frame_json, source_event_json FROM csfb_join_frames WHERE ${FRAME_WHERE} FOR UPDATE`,
        [streamId, ...keyParams(key)],
      );
      return frameOf(res.rows[0]);
    },
    async writeJoinFrame(record) {
      await client.query(
        `UPDATE csfb_join_frames SET payload_hash = $6, frame_json = $7, source_event_json = $8,
           context_complete = $9, updated_at_utc = now()
         WHERE ${FRAME_WHERE}`,
        [
          streamId,
          ...keyParams(record.state.join_frame_key),
          record.payload_hash,
          canonicalJson(record.state),
          canonicalJson(record.source_event),
          record.state.context_complete,
        ],
      );
    },
    async insertFlowBinding(binding) {
      const key = binding.join_frame_key;
      const inserted = await client.query(
        `INSERT INTO csfb_flow_bindings (stream_id, platform_run_id, scenario_run_id, flow_id, merchant_id,
           arrival_seq, authoritative_source_event_type, payload_hash, binding_json, bound_at_utc)
         VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
        [
          streamId,
          key.platform_run_id,
          key.scenario_run_id,
          binding.flow_id,
          key.merchant_id,
          key.arrival_seq.toString(),
          binding.authoritative_source_event_type,
          binding.payload_hash,
          canonicalJson(binding),
          binding.bound_at_utc,
        ],
      );
      if (inserted.rowCount === 1) return 'inserted';
      const byFlow = await client.query<{ payload_hash: string }>(
        `SELECT payload_hash FROM csfb_flow_bindings
         WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND flow_id = $4`,
        [streamId, key.platform_run_id, key.scenario_run_id, binding.flow_id],
      );
      const found = byFlow.rows[0];
      if (!found) return 'FLOW_BINDING_JOIN_KEY_CONFLICT';
      return found.payload_hash === binding.payload_hash ? 'unchanged' : 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH';
    },
    readCheckpoint: (topic, partition) => CHECKPOINTS.read(client, streamId, topic, partition),
    writeCheckpoint: (c) => CHECKPOINTS.write(client, streamId, c),
    async recordApplyFailure(f) {
      await client.query(
        `INSERT INTO csfb_join_apply_failures (failure_id, stream_id, platform_run_id, scenario_run_id, topic,
           partition_id, "offset", offset_kind, event_id, event_type, reason_code, details_json, late_applied)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (failure_id) DO NOTHING`,
        [
          f.failure_id,
          streamId,
          f.platform_run_id,
          f.scenario_run_id,
          f.topic,
          f.partition,
          f.offset,
          f.offset_kind,
          f.event_id,
          f.event_type,
          f.reason_code,
          canonicalJson(f.details),
          f.reason_code === 'LATE_CONTEXT_EVENT' && f.details.applied === true,
        ],
      );
    },
    async incrementCounters(names) {
      await addToCounters(
        client,
        [...new Set(names)].map((name) => ({
          table: 'csfb_counters',
          keyColumns: ['stream_id', 'metric_name'],
          valueColumn: 'value',
          key: [streamId, name],
          by: 1,
        })),
      );
    },
  };
}

type AnomalySqlRow = Omit<AnomalyRow, 'details' | 'partition' | 'recorded_at_utc'> & {
  partition_id: number;
  details_json: string;
  recorded_at_utc: Date;
};

/** `AND platform_run_id = $n [AND scenario_run_id = $n+1]` for an optional scope. */
function scopeFilter(
  alias: string,
  scope: { platformRunId?: string; scenarioRunId?: string },
  first: number,
) {
  const clauses: string[] = [];
  const params: string[] = [];
  if (scope.platformRunId) {
    params.push(scope.platformRunId);
    clauses.push(`${alias}platform_run_id = $${first + params.length - 1}`);
  }
  if (scope.scenarioRunId) {
    params.push(scope.scenarioRunId);
    clauses.push(`${alias}scenario_run_id = $${first + params.length - 1}`);
  }
  return { sql: clauses.map((c) => ` AND ${c}`).join(''), params };
}

export function postgresContextStore(pool: Pool, streamId: string): ContextStore {
  const query = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) =>
    queryOrUnavailable<R>(pool, sql, params);
  return {
    streamId,
    inTransaction: (work) => inTransaction(pool, (client) => work(transactionOn(client, streamId))),
    async readFlowBinding(platformRunId, scenarioRunId, flowId) {
      const res = await query<{ binding_json: string }>(
        `SELECT binding_json FROM csfb_flow_bindings
         WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND flow_id = $4`,
        [streamId, platformRunId, scenarioRunId, flowId],
      );
      return bindingOf(res.rows[0]);
    },
    async readFlowBindingForJoinFrame(key) {
      const res = await query<{ binding_json: string }>(
        `SELECT binding_json FROM csfb_flow_bindings WHERE ${FRAME_WHERE}`,
        [streamId, ...keyParams(key)],
      );
      return bindingOf(res.rows[0]);
    },
    async readJoinFrame(key) {
      const res = await query<FrameRow>(
        `SELECT payload_hash, frame_json, source_event_json FROM csfb_join_frames WHERE ${FRAME_WHERE}`,
        [streamId, ...keyParams(key)],
      );
      return frameOf(res.rows[0]);
    },
    checkpoints: () => CHECKPOINTS.all(pool, streamId),
    async counters() {
      const res = await query<{ metric_name: string; value: string }>(
        'SELECT metric_name, value::text AS value FROM csfb_counters WHERE stream_id = $1 ORDER BY metric_name',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.metric_name, Number(r.value)]));
    },
    async metrics(scope): Promise<ContextMetrics> {
      const bindings = scopeFilter('fb.', scope, 2);
      const failures = scopeFilter('', scope, 2);
      const res = await query<Record<string, string>>(
        `SELECT
           (SELECT count(*) FROM csfb_flow_bindings fb JOIN csfb_join_frames jf
              ON jf.stream_id = fb.stream_id AND jf.platform_run_id = fb.platform_run_id
             AND jf.scenario_run_id = fb.scenario_run_id AND jf.merchant_id = fb.merchant_id
             AND jf.arrival_seq = fb.arrival_seq AND jf.frame_json IS NOT NULL
            WHERE fb.stream_id = $1${bindings.sql}) AS bindings_with_frame,
           (SELECT count(*) FROM csfb_flow_bindings fb WHERE fb.stream_id = $1${bindings.sql}) AS bindings,
           (SELECT count(*) FROM csfb_join_apply_failures WHERE stream_id = $1${failures.sql}) AS apply_failures,
           (SELECT count(*) FROM csfb_join_apply_failures
            WHERE stream_id = $1 AND late_applied${failures.sql}) AS late_context_applied,
           (SELECT count(*) FROM csfb_join_apply_failures
            WHERE stream_id = $1 AND reason_code LIKE 'FLOW\\_BINDING\\_%'${failures.sql}) AS binding_conflicts`,
        [streamId, ...bindings.params],
      );
      const row = res.rows[0] ?? {};
      const n = (name: string) => Number(row[name] ?? 0);
      return {
        join_hits: n('bindings_with_frame'),
        join_misses: n('bindings') - n('bindings_with_frame'),
        binding_conflicts: n('binding_conflicts'),
        apply_failures: n('apply_failures'),
        apply_failures_hard: Math.max(0, n('apply_failures') - n('late_context_applied')),
        late_context_applied: n('late_context_applied'),
      };
    },
    async anomalies(scope, limit) {
      const failures = scopeFilter('', scope, 2);
      const res = await query<AnomalySqlRow>(
        `SELECT failure_id, platform_run_id, scenario_run_id, topic, partition_id, "offset", offset_kind, event_id,
           event_type, reason_code, details_json, recorded_at_utc
         FROM csfb_join_apply_failures WHERE stream_id = $1${failures.sql}
         ORDER BY recorded_at_utc DESC, failure_id LIMIT ${Math.max(1, Math.floor(limit))}`,
        [streamId, ...failures.params],
      );
      return res.rows.map(({ partition_id, details_json, recorded_at_utc, ...rest }) => ({
        ...rest,
        partition: partition_id,
        details: lossless<Record<string, unknown>>(details_json),
        recorded_at_utc: recorded_at_utc.toISOString(),
      }));
    },
  };
}
