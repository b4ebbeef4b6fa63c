import type pg from 'pg';
import { canonicalJson } from '../contracts/canonical-json.ts';
import type { GraphPins, LinkedEntity } from '../contracts/identity-graph.ts';
import type { ArrivalKey, ArrivalMember, DedupeRow } from '../identity-graph/ports.ts';
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
  type HeldRows,
  insertExpectingNew,
  inTransaction,
  preloadHeld,
  type Queryable,
  queryOrUnavailable,
  readHeld,
  textColumns,
  upsertMerged,
  writeHeld,
} from './postgres/projector-store.ts';

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

/** An `ieg_dedupe` row as the unit holds it: the stored hash, or the new row to insert. */
interface HeldDedupe {
  payload_hash: string;
  insert?: DedupeRow & { stream_id: string };
}

const DEDUPE: HeldRows<HeldDedupe> = {
  name: 'ieg_dedupe',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as [string, string]);
    const res = await client.query<{ stream_id: string; dedupe_key: string; payload_hash: string }>(
      `SELECT stream_id, dedupe_key, payload_hash FROM ieg_dedupe
       WHERE (stream_id, dedupe_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [parts.map((p) => p[0]), parts.map((p) => p[1])],
    );
    return new Map(
      res.rows.map((r) => [JSON.stringify([r.stream_id, r.dedupe_key]), { payload_hash: r.payload_hash }]),
    );
  },
  async write(client, changes) {
    const rows = changes.flatMap((c) => (c.row.insert ? [c.row.insert] : []));
    const column = (pick: (r: (typeof rows)[number]) => unknown) => rows.map(pick);
    await insertExpectingNew(
      client,
      'ieg_dedupe',
      `INSERT INTO ieg_dedupe (stream_id, dedupe_key, platform_run_id, scenario_run_id, event_class, event_id,
         payload_hash, first_topic, first_partition, first_offset, offset_kind, first_seen_ts_utc)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::int[], $10::text[], $11::text[], $12::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        column((r) => r.stream_id),
        column((r) => r.dedupe_key),
        column((r) => r.platform_run_id),
        column((r) => r.scenario_run_id),
        column((r) => r.event_class),
        column((r) => r.event_id),
        column((r) => r.payload_hash),
        column((r) => r.eb_ref.topic),
        column((r) => r.eb_ref.partition),
        column((r) => r.eb_ref.offset),
        column((r) => r.eb_ref.offset_kind),
        column((r) => r.event_ts_utc),
      ],
      rows.length,
    );
  },
};

const ARRIVAL_COLUMNS = 'stream_id, scenario_run_id, merchant_id, arrival_seq';
const arrivalKeyText = (streamId: string, k: ArrivalKey) =>
  JSON.stringify([streamId, k.scenario_run_id, k.merchant_id, k.arrival_seq]);

/** An arrival key as the unit holds it: every member (by entity id), and those this unit adds. */
interface HeldArrival {
  members: ArrivalMember[];
  added: ArrivalMember[];
}

const byEntityId = (a: ArrivalMember, b: ArrivalMember) =>
  a.entity_id < b.entity_id ? -1 : a.entity_id > b.entity_id ? 1 : 0;

const ARRIVALS: HeldRows<HeldArrival> = {
  name: 'ieg_arrival_keys',
  async load(client, keys) {
    const columns = [0, 1, 2, 3].map((i) => keys.map((key) => (JSON.parse(key) as string[])[i]));
    const where = `(${ARRIVAL_COLUMNS}) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`;
    const stored = await client.query<
      Record<'stream_id' | 'scenario_run_id' | 'merchant_id' | 'arrival_seq', string>
    >(
      `SELECT ${ARRIVAL_COLUMNS} FROM ieg_arrival_keys WHERE ${where} ORDER BY ${ARRIVAL_COLUMNS} FOR UPDATE`,
      columns,
    );
    const found = new Map<string, HeldArrival>(
      stored.rows.map((r) => [arrivalKeyText(r.stream_id, r), { members: [], added: [] }]),
    );
    if (found.size === 0) return found;
    const members = await client.query<{
      stream_id: string;
      scenario_run_id: string;
      merchant_id: string;
      arrival_seq: string;
      entity_id: string;
      entity_type: string;
    }>(`SELECT ${ARRIVAL_COLUMNS}, entity_id, entity_type FROM ieg_arrival_members WHERE ${where}`, columns);
    for (const m of members.rows)
      found
        .get(arrivalKeyText(m.stream_id, m))
        ?.members.push({ entity_id: m.entity_id, entity_type: m.entity_type });
    for (const arrival of found.values()) arrival.members.sort(byEntityId);
    return found;
  },
  async write(client, changes) {
    const added = changes.filter((c) => !c.existed);
    const keyColumns = (rows: readonly { key: string }[]) =>
      [0, 1, 2, 3].map((i) => rows.map((r) => (JSON.parse(r.key) as string[])[i]));
    await insertExpectingNew(
      client,
      'ieg_arrival_keys',
      `INSERT INTO ieg_arrival_keys (${ARRIVAL_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING RETURNING 1`,
      keyColumns(added),
      added.length,
    );
    const members = changes.flatMap((c) => c.row.added.map((m) => ({ key: c.key, ...m })));
    if (members.length > 0)
      await client.query(
        `INSERT INTO ieg_arrival_members (${ARRIVAL_COLUMNS}, entity_id, entity_type)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        [...keyColumns(members), members.map((m) => m.entity_id), members.map((m) => m.entity_type)],
      );
  },
};

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
    // Insert-once rows (a redelivered failure keeps its first row): written with the batch's other rows.
    async recordApplyFailure(f) {
      await upsertMerged(client, [
        {
          table: 'ieg_apply_failures',
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
            event_ts_utc: ['first', f.event_ts_utc],
            reason_code: ['first', f.reason_code],
            details_json: ['first', canonicalJson(f.details)],
          },
        },
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
