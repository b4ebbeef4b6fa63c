import type pg from 'pg';
import { canonicalJson } from '../contracts/canonical-json.ts';
import type { GraphPins, LinkedEntity } from '../contracts/identity-graph.ts';
import {
  GRAPH_METRIC_NAMES,
  type GraphCheckpoint,
  type GraphMetrics,
  type GraphScope,
  type IdentityGraphStore,
  type IdentityGraphTransaction,
} from '../identity-graph/ports.ts';
import type { Pool } from './postgres/pool.ts';
import {
  addToCounters,
  checkpointTable,
  inTransaction,
  type Queryable,
  queryOrUnavailable,
  upsertMerged,
} from './postgres/projector-store.ts';

/**
 * The Identity & Entity Graph's port on Postgres (migration 0009), bound to one stream id. Each record's writes
 * run in one transaction on one client. Upserts keep first_seen = min and last_seen = max (event times are
 * RFC 3339 UTC with six fractional digits, so text order is time order). An arrival key row is locked
 * (`INSERT … ON CONFLICT DO NOTHING`, then `SELECT … FOR UPDATE`) before its members are read, so a flow anchor
 * and its arrival entities applied at once on two shards serialise and the later one sees the earlier's
 * entities. "Linked within N hops" is one recursive CTE over the edges in both directions.
 */

const pinText = (value: unknown) => (value === null || value === undefined ? null : String(value));

const pinParams = (pins: GraphPins) => [
  pins.platform_run_id,
  pins.scenario_run_id,
  pins.manifest_fingerprint,
  pinText(pins.parameter_hash),
  pinText(pins.scenario_id),
  pinText(pins.seed),
  pinText(pins.run_id),
];

const CHECKPOINTS = checkpointTable<GraphCheckpoint['offset_kind']>('ieg_checkpoints');

function transactionOn(client: Queryable, streamId: string): IdentityGraphTransaction {
  return {
    async registerEvent(row) {
      const inserted = await client.query(
        `INSERT INTO ieg_dedupe (stream_id, dedupe_key, platform_run_id, scenario_run_id, event_class, event_id,
           payload_hash, first_topic, first_partition, first_offset, offset_kind, first_seen_ts_utc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
        [
          streamId,
          row.dedupe_key,
          row.platform_run_id,
          row.scenario_run_id,
          row.event_class,
          row.event_id,
          row.payload_hash,
          row.eb_ref.topic,
          row.eb_ref.partition,
          row.eb_ref.offset,
          row.eb_ref.offset_kind,
          row.event_ts_utc,
        ],
      );
      if (inserted.rowCount === 1) return 'inserted';
      const found = await client.query<{ payload_hash: string }>(
        'SELECT payload_hash FROM ieg_dedupe WHERE stream_id = $1 AND dedupe_key = $2',
        [streamId, row.dedupe_key],
      );
      return found.rows[0]?.payload_hash === row.payload_hash ? 'duplicate' : 'mismatch';
    },
    // Entities, identifiers and edges merge on conflict (first sighting the least, last the greatest), so they are
    // written at the end of the batch, in key order (upsertMerged): a merchant every shard touches is not locked for
    // a whole batch, and two batches never take those locks in opposite orders.
    async upsertEntity(e) {
      const [run, scenarioRun, manifest, parameterHash, scenarioId, seed, runId] = pinParams(e.pins);
      await upsertMerged(client, [
        {
          table: 'ieg_entities',
          keyColumns: ['stream_id', 'entity_id'],
          key: [streamId, e.entity_id],
          values: {
            entity_type: ['first', e.entity_type],
            platform_run_id: ['first', run],
            scenario_run_id: ['first', scenarioRun],
            manifest_fingerprint: ['first', manifest],
            parameter_hash: ['first', parameterHash],
            scenario_id: ['first', scenarioId],
            seed: ['first', seed],
            run_id: ['first', runId],
            first_seen_ts_utc: ['least', e.seen_ts_utc],
            last_seen_ts_utc: ['greatest', e.seen_ts_utc],
          },
        },
      ]);
    },
    async upsertIdentifier(i) {
      await upsertMerged(client, [
        {
          table: 'ieg_identifiers',
          keyColumns: ['stream_id', 'identifier_type', 'identifier_value', 'entity_id'],
          key: [streamId, i.identifier_type, i.identifier_value, i.entity_id],
          values: {
            entity_type: ['first', i.entity_type],
            scenario_run_id: ['first', i.pins.scenario_run_id],
            first_seen_ts_utc: ['least', i.seen_ts_utc],
            last_seen_ts_utc: ['greatest', i.seen_ts_utc],
            source_event_id: ['first', i.source_event_id],
          },
        },
      ]);
    },
    async upsertEdge(e) {
      await upsertMerged(client, [
        {
          table: 'ieg_edges',
          keyColumns: ['stream_id', 'edge_id'],
          key: [streamId, e.edge_id],
          values: {
            edge_type: ['first', e.edge_type],
            src_entity_id: ['first', e.src_entity_id],
            dst_entity_id: ['first', e.dst_entity_id],
            scenario_run_id: ['first', e.pins.scenario_run_id],
            first_seen_ts_utc: ['least', e.seen_ts_utc],
            last_seen_ts_utc: ['greatest', e.seen_ts_utc],
            source_event_id: ['first', e.source_event_id],
          },
        },
      ]);
    },
    async joinArrival(key, members) {
      const keyParams = [streamId, key.scenario_run_id, key.merchant_id, key.arrival_seq];
      const where = 'stream_id = $1 AND scenario_run_id = $2 AND merchant_id = $3 AND arrival_seq = $4';
      await client.query(
        `INSERT INTO ieg_arrival_keys (stream_id, scenario_run_id, merchant_id, arrival_seq)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        keyParams,
      );
      await client.query(`SELECT 1 FROM ieg_arrival_keys WHERE ${where} FOR UPDATE`, keyParams);
      if (members.length > 0)
        await client.query(
          `INSERT INTO ieg_arrival_members (stream_id, scenario_run_id, merchant_id, arrival_seq, entity_id,
             entity_type)
           SELECT $1, $2, $3, $4, m.entity_id, m.entity_type
           FROM unnest($5::text[], $6::text[]) AS m(entity_id, entity_type)
           ON CONFLICT DO NOTHING`,
          [...keyParams, members.map((m) => m.entity_id), members.map((m) => m.entity_type)],
        );
      const res = await client.query<{ entity_id: string; entity_type: string }>(
        `SELECT entity_id, entity_type FROM ieg_arrival_members WHERE ${where} ORDER BY entity_id`,
        keyParams,
      );
      return res.rows;
    },
    async countMetric(scenarioRunId, name, by = 1) {
      await addToCounters(client, [
        {
          table: 'ieg_metrics',
          keyColumns: ['stream_id', 'scenario_run_id', 'metric_name'],
          valueColumn: 'metric_value',
          key: [streamId, scenarioRunId, name],
          by,
        },
      ]);
    },
    readCheckpoint: (topic, partition) => CHECKPOINTS.read(client, streamId, topic, partition),
    writeCheckpoint: (c) => CHECKPOINTS.write(client, streamId, c),
    async recordApplyFailure(f) {
      await client.query(
        `INSERT INTO ieg_apply_failures (failure_id, stream_id, platform_run_id, scenario_run_id, topic,
           partition_id, "offset", offset_kind, event_id, event_type, event_ts_utc, reason_code, details_json)
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
          f.event_ts_utc,
          f.reason_code,
          canonicalJson(f.details),
        ],
      );
    },
  };
}

/** `AND platform_run_id = $n [AND scenario_run_id = $n+1]` for an optional scope. */
function scopeFilter(scope: GraphScope, first: number, withRun: boolean) {
  const clauses: string[] = [];
  const params: string[] = [];
  if (withRun && scope.platformRunId) {
    params.push(scope.platformRunId);
    clauses.push(`platform_run_id = $${first + params.length - 1}`);
  }
  if (scope.scenarioRunId) {
    params.push(scope.scenarioRunId);
    clauses.push(`scenario_run_id = $${first + params.length - 1}`);
  }
  return { sql: clauses.map((c) => ` AND ${c}`).join(''), params };
}

/**
 * The hops walk: `UNION` (not `UNION ALL`) keeps one row per (entity, hops), so the work is bounded by
 * entities × max_hops whatever cycles the graph has; each entity is answered at its fewest hops.
 */
const LINKED_ENTITIES_SQL = `
WITH RECURSIVE walk(entity_id, hops) AS (
  SELECT $2::text, 0
  UNION
  SELECT next.entity_id, walk.hops + 1
  FROM walk
  CROSS JOIN LATERAL (
    SELECT e.dst_entity_id AS entity_id FROM ieg_edges e
      WHERE e.stream_id = $1 AND e.src_entity_id = walk.entity_id
    UNION ALL
    SELECT e.src_entity_id FROM ieg_edges e
      WHERE e.stream_id = $1 AND e.dst_entity_id = walk.entity_id
  ) AS next
  WHERE walk.hops < $3
)
SELECT walk.entity_id, en.entity_type, min(walk.hops)::int AS hops
FROM walk JOIN ieg_entities en ON en.stream_id = $1 AND en.entity_id = walk.entity_id
WHERE walk.entity_id <> $2
GROUP BY walk.entity_id, en.entity_type
ORDER BY hops, walk.entity_id
LIMIT $4`;

export function postgresIdentityGraphStore(pool: Pool, streamId: string): IdentityGraphStore {
  const query = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) =>
    queryOrUnavailable<R>(pool, sql, params);
  return {
    streamId,
    inTransaction: (work) => inTransaction(pool, (client) => work(transactionOn(client, streamId))),
    checkpoints: () => CHECKPOINTS.all(pool, streamId),
    async metrics(scope): Promise<GraphMetrics> {
      const filter = scopeFilter(scope, 2, false);
      const res = await query<{ metric_name: string; total: string }>(
        `SELECT metric_name, sum(metric_value) AS total FROM ieg_metrics WHERE stream_id = $1${filter.sql}
         GROUP BY metric_name`,
        [streamId, ...filter.params],
      );
      const totals = new Map(res.rows.map((r) => [r.metric_name, Number(r.total)]));
      return Object.fromEntries(GRAPH_METRIC_NAMES.map((n) => [n, totals.get(n) ?? 0])) as GraphMetrics;
    },
    async failureCountsByReason() {
      const res = await query<{ reason_code: string; n: string }>(
        'SELECT reason_code, count(*)::text AS n FROM ieg_apply_failures WHERE stream_id = $1 GROUP BY reason_code',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.reason_code, Number(r.n)]));
    },
    async applyFailureCount(scope) {
      const filter = scopeFilter(scope, 2, true);
      const res = await query<{ n: string }>(
        `SELECT count(*) AS n FROM ieg_apply_failures WHERE stream_id = $1${filter.sql}`,
        [streamId, ...filter.params],
      );
      return Number(res.rows[0]?.n ?? 0);
    },
    async readEntity(entityId) {
      const res = await query<{
        entity_id: string;
        entity_type: string;
        first_seen_ts_utc: string;
        last_seen_ts_utc: string;
      }>(
        `SELECT entity_id, entity_type, first_seen_ts_utc, last_seen_ts_utc FROM ieg_entities
         WHERE stream_id = $1 AND entity_id = $2`,
        [streamId, entityId],
      );
      return res.rows[0];
    },
    async linkedEntities(entityId, maxHops, limit): Promise<LinkedEntity[]> {
      const res = await query<LinkedEntity>(LINKED_ENTITIES_SQL, [streamId, entityId, maxHops, limit]);
      return res.rows;
    },
  };
}
