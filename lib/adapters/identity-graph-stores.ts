import type pg from 'pg';
import type { GraphPins, LinkedEntity } from '../contracts/identity-graph.ts';
import {
  GRAPH_METRIC_NAMES,
  type GraphCheckpoint,
  type GraphMetrics,
  type GraphScope,
  type IdentityGraphStore,
  type IdentityGraphTransaction,
} from '../identity-graph/ports.ts';
import { ARRIVALS, arrivalKeyText, byEntityId, DEDUPE } from './identity-graph-held-rows.ts';
import { textColumns } from './postgres/merged-rows.ts';
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
import { applyFailureRow, checkpointTable, queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Identity & Entity Graph's port on Postgres (migration 0009), bound to one stream id. Each record's writes
 * run in one transaction (inside a batch, one record of the batch's unit of work, projector-store.ts). Upserts keep
 * first_seen = min and last_seen = max (event times are RFC 3339 UTC with six fractional digits, so text order is
 * time order). Dedupe rows, arrival keys (with their members) and checkpoints are held rows: a batch loads its
 * records' rows at once — stored arrival keys locked (`FOR UPDATE`) — and writes them before COMMIT; an arrival key
 * it found absent is inserted expecting no conflict, so a flow anchor and its arrival entities applied at once on
 * two shards serialise (the later batch runs again) and the later one sees the earlier's entities. "Linked within N
 * hops" is one recursive CTE over the edges in both directions.
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

const IEG_ENTITIES_TYPES = textColumns([
  'stream_id',
  'entity_id',
  'entity_type',
  'platform_run_id',
  'scenario_run_id',
  'manifest_fingerprint',
  'parameter_hash',
  'scenario_id',
  'seed',
  'run_id',
  'first_seen_ts_utc',
  'last_seen_ts_utc',
]);

const IEG_IDENTIFIERS_TYPES = textColumns([
  'stream_id',
  'identifier_type',
  'identifier_value',
  'entity_id',
  'entity_type',
  'scenario_run_id',
  'first_seen_ts_utc',
  'last_seen_ts_utc',
  'source_event_id',
]);

const IEG_EDGES_TYPES = textColumns([
  'stream_id',
  'edge_id',
  'edge_type',
  'src_entity_id',
  'dst_entity_id',
  'scenario_run_id',
  'first_seen_ts_utc',
  'last_seen_ts_utc',
  'source_event_id',
]);

const CHECKPOINTS = checkpointTable<GraphCheckpoint['offset_kind']>('ieg_checkpoints');

function transactionOn(client: Queryable, streamId: string): IdentityGraphTransaction {
  return {
    async prefetch(hints) {
      await preloadHeld(
        client,
        DEDUPE,
        hints.dedupeKeys.map((key) => JSON.stringify([streamId, key])),
      );
      await preloadHeld(
        client,
        ARRIVALS,
        hints.arrivals.map((key) => arrivalKeyText(streamId, key)),
      );
    },
    async registerEvent(row) {
      const key = JSON.stringify([streamId, row.dedupe_key]);
      const found = await readHeld(client, DEDUPE, key);
      if (found) return found.payload_hash === row.payload_hash ? 'duplicate' : 'mismatch';
      await writeHeld(client, DEDUPE, key, {
        payload_hash: row.payload_hash,
        insert: { stream_id: streamId, ...row },
      });
      return 'inserted';
    },
    // Entities, identifiers and edges merge on conflict (first sighting the least, last the greatest), so they are
    // written at the end of the batch, in key order (upsertMerged): a merchant every shard touches is not locked for
    // a whole batch, and two batches never take those locks in opposite orders.
    async upsertEntity(e) {
      const [run, scenarioRun, manifest, parameterHash, scenarioId, seed, runId] = pinParams(e.pins);
      await upsertMerged(client, [
        {
          table: 'ieg_entities',
          types: IEG_ENTITIES_TYPES,
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
          types: IEG_IDENTIFIERS_TYPES,
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
          types: IEG_EDGES_TYPES,
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
      const heldKey = arrivalKeyText(streamId, key);
      const found = await readHeld(client, ARRIVALS, heldKey);
      const all = new Map((found?.members ?? []).map((m) => [m.entity_id, m]));
      const added = [...(found?.added ?? [])];
      for (const m of members)
        if (!all.has(m.entity_id)) {
          all.set(m.entity_id, m);
          added.push(m);
        }
      const sorted = [...all.values()].sort(byEntityId);
      await writeHeld(client, ARRIVALS, heldKey, { members: sorted, added });
      return sorted.map((m) => ({ entity_id: m.entity_id, entity_type: m.entity_type }));
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
      await upsertMerged(client, [
        applyFailureRow('ieg_apply_failures', streamId, f, { event_ts_utc: f.event_ts_utc }),
      ]);
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
