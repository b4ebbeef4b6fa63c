import type pg from 'pg';
import type { FeatureKey } from '../contracts/online-features.ts';
import { ANCHOR_ENTITY_TYPES, type AnchorEntityType } from '../online-features/keys.ts';
import type {
  FeatureCheckpoint,
  FeatureScope,
  OnlineFeatureStore,
  OnlineFeatureTransaction,
} from '../online-features/ports.ts';
import type { Totals } from '../online-features/windows.ts';
import type { Pool } from './postgres/pool.ts';
import {
  addToCounters,
  checkpointTable,
  inTransaction,
  type Queryable,
  queryOrUnavailable,
  registerEventOnce,
  type StoredCheckpoint,
  upsertMerged,
} from './postgres/projector-store.ts';

/**
 * The Online Feature Plane's port on Postgres (migrations 0010, 0011), bound to one stream id. Each record's writes
 * run in one transaction on one client; a bucket is an `INSERT … ON CONFLICT DO UPDATE` increment, so two shards
 * adding to the same key serialise on its row, and an event's keys are written in (key_type, key_id) order, so two
 * anchors sharing entities lock their rows in the same order. Times (µs) and amounts (micro-units) travel as decimal
 * strings, so they stay exact.
 */

const KEY_WHERE = `stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND key_type = $4
  AND key_id = $5`;
const keyParams = (streamId: string, scope: FeatureScope, key: FeatureKey) => [
  streamId,
  scope.platform_run_id,
  scope.scenario_run_id,
  key.key_type,
  key.key_id,
];

const totalsOf = (row: { event_count: string | null; amount_micros: string | null } | undefined): Totals => ({
  event_count: Number(row?.event_count ?? 0),
  amount_micros: BigInt(row?.amount_micros ?? 0),
});

/** A column of `ofp_entity_sightings`: only the allow-listed entity types reach the SQL text. */
function entityColumn(type: AnchorEntityType): AnchorEntityType {
  if (!(ANCHOR_ENTITY_TYPES as readonly string[]).includes(type))
    throw new RangeError(`not an entity: ${type}`);
  return type;
}

const CHECKPOINTS = checkpointTable<FeatureCheckpoint['offset_kind']>('ofp_checkpoints');

/** FeatureCheckpoint carries no update time. */
const withoutUpdatedAt = ({
  updated_at_utc: _updated,
  ...c
}: StoredCheckpoint<FeatureCheckpoint['offset_kind']>): FeatureCheckpoint => c;

const BUCKET_KEY = [
  'stream_id',
  'platform_run_id',
  'scenario_run_id',
  'key_type',
  'key_id',
  'bucket_start_micros',
];

function transactionOn(client: Queryable, streamId: string): OnlineFeatureTransaction {
  return {
    async registerOffset(ebRef, eventId) {
      const inserted = await client.query(
        `INSERT INTO ofp_applied_events (stream_id, topic, partition_id, offset_kind, "offset", event_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [streamId, ebRef.topic, ebRef.partition, ebRef.offset_kind, ebRef.offset, eventId],
      );
      return inserted.rowCount === 1 ? 'inserted' : 'duplicate';
    },
    registerEvent: (row) => registerEventOnce(client, 'ofp_semantic_dedupe', 'event_ts_utc', streamId, row),
    async recordPayloadMismatch(row) {
      await client.query(
        `INSERT INTO ofp_payload_mismatches (stream_id, topic, partition_id, offset_kind, "offset",
           platform_run_id, event_class, event_id, stored_payload_hash, incoming_payload_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
           (SELECT payload_hash FROM ofp_semantic_dedupe
            WHERE stream_id = $1 AND platform_run_id = $6 AND event_class = $7 AND event_id = $8), $9)
         ON CONFLICT DO NOTHING`,
        [
          streamId,
          row.eb_ref.topic,
          row.eb_ref.partition,
          row.eb_ref.offset_kind,
          row.eb_ref.offset,
          row.platform_run_id,
          row.event_class,
          row.event_id,
          row.incoming_payload_hash,
        ],
      );
    },
    async addObservations(observations) {
      if (observations.length === 0) return;
      // Column arrays for unnest: [run, scenario run, key type, key id, event time, event id, amount].
      const columns: string[][] = [[], [], [], [], [], [], []];
      for (const o of observations) {
        const row = [
          o.scope.platform_run_id,
          o.scope.scenario_run_id,
          o.key.key_type,
          o.key.key_id,
          o.event_ts_micros.toString(),
          o.event_id,
          o.amount_micros.toString(),
        ];
        for (const [i, value] of row.entries()) columns[i]?.push(value);
      }
      const [runs, scenarioRuns, keyTypes, keyIds, times, eventIds, amounts] = columns;
      // Buckets are sums, merged on conflict: written at the end of the batch in key order (upsertMerged), so a
      // merchant's minute bucket every shard touches is locked for an instant, never in opposite orders.
      await upsertMerged(
        client,
        observations.map((o) => ({
          table: 'ofp_feature_buckets',
          keyColumns: BUCKET_KEY,
          key: [
            streamId,
            o.scope.platform_run_id,
            o.scope.scenario_run_id,
            o.key.key_type,
            o.key.key_id,
            o.bucket_start_micros.toString(),
          ],
          values: { event_count: ['sum', 1], amount_micros: ['sum', o.amount_micros.toString()] },
        })),
      );
      await client.query(
        `INSERT INTO ofp_feature_events (stream_id, platform_run_id, scenario_run_id, key_type, key_id,
           event_ts_micros, event_id, amount_micros)
         SELECT $1, r, s, kt, ki, t, e, a
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::numeric[])
           AS o(r, s, kt, ki, t, e, a)
         ORDER BY kt, ki
         ON CONFLICT DO NOTHING`,
        [streamId, runs, scenarioRuns, keyTypes, keyIds, times, eventIds, amounts],
      );
    },
    async addEntitySighting(sighting) {
      await client.query(
        `INSERT INTO ofp_entity_sightings (stream_id, platform_run_id, scenario_run_id, event_id, event_ts_micros,
           ${ANCHOR_ENTITY_TYPES.join(', ')})
         VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
        [
          streamId,
          sighting.scope.platform_run_id,
          sighting.scope.scenario_run_id,
          sighting.event_id,
          sighting.event_ts_micros.toString(),
          ...ANCHOR_ENTITY_TYPES.map((type) => sighting.entities[type] ?? null),
        ],
      );
    },
    async readCheckpoint(topic, partition) {
      const found = await CHECKPOINTS.read(client, streamId, topic, partition);
      return found && withoutUpdatedAt(found);
    },
    writeCheckpoint: (c) => CHECKPOINTS.write(client, streamId, c),
    async incrementMetrics(names) {
      await addToCounters(
        client,
        [...new Set(names)].map((name) => ({
          table: 'ofp_metrics',
          keyColumns: ['stream_id', 'metric_name'],
          valueColumn: 'value',
          key: [streamId, name],
          by: 1,
        })),
      );
    },
  };
}

export function postgresOnlineFeatureStore(pool: Pool, streamId: string): OnlineFeatureStore {
  const query = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) =>
    queryOrUnavailable<R>(pool, sql, params);
  type TotalsRow = { event_count: string | null; amount_micros: string | null };
  return {
    streamId,
    inTransaction: (work) => inTransaction(pool, (client) => work(transactionOn(client, streamId))),
    async hasState(scope) {
      const res = await query(
        `SELECT 1 FROM ofp_feature_buckets WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3
         LIMIT 1`,
        [streamId, scope.platform_run_id, scope.scenario_run_id],
      );
      return res.rows.length > 0;
    },
    async sumBuckets(scope, key, first, last) {
      const res = await query<TotalsRow>(
        `SELECT sum(event_count)::text AS event_count, sum(amount_micros)::text AS amount_micros
         FROM ofp_feature_buckets WHERE ${KEY_WHERE}
           AND ($6::bigint IS NULL OR bucket_start_micros >= $6::bigint) AND bucket_start_micros <= $7::bigint`,
        [...keyParams(streamId, scope, key), first?.toString() ?? null, last.toString()],
      );
      return totalsOf(res.rows[0]);
    },
    async sumEvents(scope, key, after, atOrBefore) {
      const res = await query<TotalsRow>(
        `SELECT count(*)::text AS event_count, sum(amount_micros)::text AS amount_micros
         FROM ofp_feature_events WHERE ${KEY_WHERE}
           AND ($6::bigint IS NULL OR event_ts_micros > $6::bigint) AND event_ts_micros <= $7::bigint`,
        [...keyParams(streamId, scope, key), after?.toString() ?? null, atOrBefore.toString()],
      );
      return totalsOf(res.rows[0]);
    },
    async lastEventAtOrBefore(scope, key, atOrBefore) {
      const res = await query<{ event_ts_micros: string }>(
        `SELECT event_ts_micros::text AS event_ts_micros FROM ofp_feature_events
         WHERE ${KEY_WHERE} AND event_ts_micros <= $6::bigint ORDER BY event_ts_micros DESC LIMIT 1`,
        [...keyParams(streamId, scope, key), atOrBefore.toString()],
      );
      const found = res.rows[0];
      return found ? BigInt(found.event_ts_micros) : undefined;
    },
    async firstEventAtOrBefore(scope, key, atOrBefore) {
      const res = await query<{ event_ts_micros: string }>(
        `SELECT event_ts_micros::text AS event_ts_micros FROM ofp_feature_events
         WHERE ${KEY_WHERE} ORDER BY event_ts_micros LIMIT 1`,
        keyParams(streamId, scope, key),
      );
      const first = res.rows[0] ? BigInt(res.rows[0].event_ts_micros) : undefined;
      return first !== undefined && first <= atOrBefore ? first : undefined;
    },
    async distinctCounterparts(scope, key, counterpart, after, atOrBefore) {
      const [keyColumn, counterpartColumn] = [entityColumn(key.key_type), entityColumn(counterpart)];
      const res = await query<{ n: string }>(
        `SELECT count(DISTINCT ${counterpartColumn})::text AS n FROM ofp_entity_sightings
         WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND ${keyColumn} = $4
           AND event_ts_micros > $5::bigint AND event_ts_micros <= $6::bigint`,
        [
          streamId,
          scope.platform_run_id,
          scope.scenario_run_id,
          key.key_id,
          after.toString(),
          atOrBefore.toString(),
        ],
      );
      return Number(res.rows[0]?.n ?? 0);
    },
    async checkpoints() {
      return (await CHECKPOINTS.all(pool, streamId)).map(withoutUpdatedAt);
    },
    async metrics() {
      const res = await query<{ metric_name: string; value: string }>(
        'SELECT metric_name, value::text AS value FROM ofp_metrics WHERE stream_id = $1 ORDER BY metric_name',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.metric_name, Number(r.value)]));
    },
  };
}
