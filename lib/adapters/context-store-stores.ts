import type pg from 'pg';
import type {
  AnomalyRow,
  ContextCheckpoint,
  ContextMetrics,
  ContextStore,
  ContextStoreTransaction,
} from '../context-store/ports.ts';
import {
  BINDINGS_BY_FLOW,
  bindingOf,
  type FrameRow,
  flowKeyText,
  frameKeyText,
  frameOf,
  JOIN_FRAMES,
  keyParams,
  lossless,
} from './context-store-held-rows.ts';
import type { Pool } from './postgres/pool.ts';
import {
  addToCounters,
  inTransaction,
  preloadHeld,
  type Queryable,
  readHeld,
  upsertMerged,
  writeHeld,
} from './postgres/projector-store.ts';
import {
  applyFailureRow,
  checkpointTable,
  eventRegistry,
  queryOrUnavailable,
} from './postgres/projector-tables.ts';

/**
 * The Context Store's port on Postgres (migration 0008), bound to one stream id. Each record's writes run in one
 * transaction (inside a batch, one record of the batch's unit of work). Intake dedupe rows, join frames and
 * checkpoints are held rows (projector-store.ts): a batch loads its records' rows in one statement each, stored join
 * frames locked (`FOR UPDATE`), and writes them once before COMMIT; a frame it found absent is inserted expecting no
 * conflict, so two shards merging roles into the same new frame serialise (the later batch runs again and merges
 * into the earlier's) instead of losing a role. Documents are canonical JSON text read back losslessly (bigints
 * stay exact).
 */

const FRAME_WHERE = `stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND merchant_id = $4
  AND arrival_seq = $5::numeric`;

const CHECKPOINTS = checkpointTable<ContextCheckpoint['offset_kind']>('csfb_join_checkpoints');
const INTAKES = eventRegistry('csfb_intake_dedupe', 'first_seen_ts_utc');

function transactionOn(client: Queryable, streamId: string): ContextStoreTransaction {
  return {
    async prefetch(hints) {
      await INTAKES.preload(client, streamId, hints.intakes);
      const frames = hints.joinFrames.map((key) => frameKeyText(streamId, key));
      await preloadHeld(client, JOIN_FRAMES, frames);
      await preloadHeld(
        client,
        BINDINGS_BY_FLOW,
        hints.bindings.map((b) => flowKeyText(streamId, b.join_frame_key, b.flow_id)),
      );
    },
    registerIntake: (row) => INTAKES.register(client, streamId, row),
    async lockJoinFrame(key) {
      return (await readHeld(client, JOIN_FRAMES, frameKeyText(streamId, key)))?.record;
    },
    async writeJoinFrame(record) {
      await writeHeld(client, JOIN_FRAMES, frameKeyText(streamId, record.state.join_frame_key), { record });
    },
    async insertFlowBinding(binding) {
      const key = binding.join_frame_key;
      const byFlow = await readHeld(client, BINDINGS_BY_FLOW, flowKeyText(streamId, key, binding.flow_id));
      if (byFlow)
        return byFlow.payload_hash === binding.payload_hash
          ? 'unchanged'
          : 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH';
      // Another flow bound this join frame already. A frame names the flow of its anchor, which is written with its
      // binding in one record (a binding that conflicts rolls the frame back with it), so the frame as it stood
      // before this record names the flow bound to it, if any.
      const before = await readHeld(client, JOIN_FRAMES, frameKeyText(streamId, key), { ownWrites: false });
      const bound = before?.record?.state.flow_id;
      if (bound !== undefined && bound !== binding.flow_id) return 'FLOW_BINDING_JOIN_KEY_CONFLICT';
      await writeHeld(client, BINDINGS_BY_FLOW, flowKeyText(streamId, key, binding.flow_id), {
        payload_hash: binding.payload_hash,
        insert: binding,
      });
      return 'inserted';
    },
    readCheckpoint: (topic, partition) => CHECKPOINTS.read(client, streamId, topic, partition),
    writeCheckpoint: (c) => CHECKPOINTS.write(client, streamId, c),
    async recordApplyFailure(f) {
      await upsertMerged(client, [
        applyFailureRow('csfb_join_apply_failures', streamId, f, {
          late_applied: f.reason_code === 'LATE_CONTEXT_EVENT' && f.details.applied === true,
        }),
      ]);
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
