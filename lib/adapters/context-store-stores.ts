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
  eventRegistry,
  type HeldRows,
  insertExpectingNew,
  inTransaction,
  preloadHeld,
  type Queryable,
  queryOrUnavailable,
  readHeld,
  readHeldBeforeRecord,
  upsertMerged,
  writeHeld,
} from './postgres/projector-store.ts';

/**
 * The Context Store's port on Postgres (migration 0008), bound to one stream id. Each record's writes run in one
 * transaction (inside a batch, one record of the batch's unit of work). Intake dedupe rows, join frames and
 * checkpoints are held rows (projector-store.ts): a batch loads its records' rows in one statement each, stored join
 * frames locked (`FOR UPDATE`), and writes them once before COMMIT; a frame it found absent is inserted expecting no
 * conflict, so two shards merging roles into the same new frame serialise (the later batch runs again and merges
 * into the earlier's) instead of losing a role. Documents are canonical JSON text read back losslessly (bigints
 * stay exact).
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
const INTAKES = eventRegistry('csfb_intake_dedupe', 'first_seen_ts_utc');

const FRAME_KEY_COLUMNS = 'stream_id, platform_run_id, scenario_run_id, merchant_id, arrival_seq';
const frameKeyText = (streamId: string, key: JoinFrameKey) => JSON.stringify([streamId, ...keyParams(key)]);

/** A join frame as the unit holds it (`record` undefined: a stored row no role has filled yet). */
interface HeldFrame {
  record: JoinFrameRecord | undefined;
}

function frameColumns(changes: readonly { key: string; row: HeldFrame }[]) {
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const { key, row } of changes) {
    if (!row.record) continue;
    const values = [
      ...(JSON.parse(key) as string[]),
      row.record.payload_hash,
      canonicalJson(row.record.state),
      canonicalJson(row.record.source_event),
      row.record.state.context_complete,
    ];
    for (const [i, value] of values.entries()) columns[i]?.push(value);
  }
  return columns;
}

const FRAME_VALUES = `SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[],
  $7::text[], $8::text[], $9::boolean[])`;
const FRAME_INSERT = `INSERT INTO csfb_join_frames (${FRAME_KEY_COLUMNS}, payload_hash, frame_json, source_event_json,
  context_complete) ${FRAME_VALUES}`;

const JOIN_FRAMES: HeldRows<HeldFrame> = {
  name: 'csfb_join_frames',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as string[]);
    const res = await client.query<
      FrameRow & {
        stream_id: string;
        platform_run_id: string;
        scenario_run_id: string;
        merchant_id: string;
        arrival_seq: string;
      }
    >(
      `SELECT ${FRAME_KEY_COLUMNS}, payload_hash, frame_json, source_event_json FROM csfb_join_frames
       WHERE (${FRAME_KEY_COLUMNS}) IN
         (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[]))
       ORDER BY ${FRAME_KEY_COLUMNS} FOR UPDATE`,
      [0, 1, 2, 3, 4].map((i) => parts.map((p) => p[i])),
    );
    return new Map(
      res.rows.map((r) => [
        JSON.stringify([r.stream_id, r.platform_run_id, r.scenario_run_id, r.merchant_id, r.arrival_seq]),
        { record: frameOf(r) },
      ]),
    );
  },
  async write(client, changes) {
    const stored = changes.filter((c) => c.existed);
    if (stored.length > 0)
      await client.query(
        `${FRAME_INSERT} ON CONFLICT (${FRAME_KEY_COLUMNS}) DO UPDATE SET payload_hash = EXCLUDED.payload_hash,
           frame_json = EXCLUDED.frame_json, source_event_json = EXCLUDED.source_event_json,
           context_complete = EXCLUDED.context_complete, updated_at_utc = now()`,
        frameColumns(stored),
      );
    const added = changes.filter((c) => !c.existed && c.row.record);
    await insertExpectingNew(
      client,
      'csfb_join_frames',
      `${FRAME_INSERT} ON CONFLICT DO NOTHING RETURNING 1`,
      frameColumns(added),
      added.length,
    );
  },
};

const BINDING_COLUMNS = 'stream_id, platform_run_id, scenario_run_id, flow_id';
const flowKeyText = (streamId: string, key: JoinFrameKey, flowId: string) =>
  JSON.stringify([streamId, key.platform_run_id, key.scenario_run_id, flowId]);

/**
 * `csfb_flow_bindings` by flow (its PK) as held rows: the stored hash, or the binding to insert (expecting no
 * conflict on either of the table's keys: another transaction's binding of the flow or of the frame meanwhile is
 * ConcurrentInsert).
 */
const BINDINGS_BY_FLOW: HeldRows<{ payload_hash: string; insert?: FlowBinding }> = {
  name: 'csfb_flow_bindings',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as string[]);
    const res = await client.query<
      Record<'stream_id' | 'platform_run_id' | 'scenario_run_id' | 'flow_id' | 'payload_hash', string>
    >(
      `SELECT ${BINDING_COLUMNS}, payload_hash FROM csfb_flow_bindings
       WHERE (${BINDING_COLUMNS}) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
      [0, 1, 2, 3].map((i) => parts.map((p) => p[i])),
    );
    return new Map(
      res.rows.map((r) => [
        JSON.stringify([r.stream_id, r.platform_run_id, r.scenario_run_id, r.flow_id]),
        { payload_hash: r.payload_hash },
      ]),
    );
  },
  async write(client, changes) {
    const added = changes.flatMap((c) =>
      c.row.insert ? [{ streamId: (JSON.parse(c.key) as string[])[0], binding: c.row.insert }] : [],
    );
    const column = (pick: (a: (typeof added)[number]) => unknown) => added.map(pick);
    await insertExpectingNew(
      client,
      'csfb_flow_bindings',
      `INSERT INTO csfb_flow_bindings (${BINDING_COLUMNS}, merchant_id, arrival_seq, authoritative_source_event_type,
         payload_hash, binding_json, bound_at_utc)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
         $8::text[], $9::text[], $10::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        column((a) => a.streamId),
        column((a) => a.binding.join_frame_key.platform_run_id),
        column((a) => a.binding.join_frame_key.scenario_run_id),
        column((a) => a.binding.flow_id),
        column((a) => a.binding.join_frame_key.merchant_id),
        column((a) => a.binding.join_frame_key.arrival_seq.toString()),
        column((a) => a.binding.authoritative_source_event_type),
        column((a) => a.binding.payload_hash),
        column((a) => canonicalJson(a.binding)),
        column((a) => a.binding.bound_at_utc),
      ],
      added.length,
    );
  },
};

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
      const before = await readHeldBeforeRecord(client, JOIN_FRAMES, frameKeyText(streamId, key));
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
    // Insert-once rows (a redelivered failure keeps its first row): written with the batch's other rows.
    async recordApplyFailure(f) {
      await upsertMerged(client, [
        {
          table: 'csfb_join_apply_failures',
          keyColumns: ['failure_id'],
          key: [f.failure_id],
          values: {
            stream_id: ['first', streamId],
            platform_run_id: ['first', f.platform_run_id],
            scenario_run_id: ['first', f.scenario_run_id],
            topic: ['first', f.topic],
            partition_id: ['first', f.partition],
            offset: ['first', f.offset],
            offset_kind: ['first', f.offset_kind],
            event_id: ['first', f.event_id],
            event_type: ['first', f.event_type],
            reason_code: ['first', f.reason_code],
            details_json: ['first', canonicalJson(f.details)],
            late_applied: ['first', f.reason_code === 'LATE_CONTEXT_EVENT' && f.details.applied === true],
          },
        },
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
