import type pg from 'pg';
import type { FeatureKey } from '../contracts/online-features.ts';
import type {
  FeatureCheckpoint,
  FeatureScope,
  OnlineFeatureStore,
  OnlineFeatureTransaction,
} from '../online-features/ports.ts';
import type { Totals } from '../online-features/windows.ts';
import type { Pool } from './postgres/pool.ts';
import {
  checkpointTable,
  inTransaction,
  type Queryable,
  queryOrUnavailable,
  registerEventOnce,
  type StoredCheckpoint,
} from './postgres/projector-store.ts';

/**
 * The Online Feature Plane's port on Postgres (migration 0010), bound to one stream id. Each record's writes run
 * in one transaction on one client; a bucket is an `INSERT … ON CONFLICT DO UPDATE` increment, so two shards
 * adding to the same key serialise on its row. Times (µs) and amounts (micro-units) travel as decimal strings, so
 * they stay exact.
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

const CHECKPOINTS = checkpointTable<FeatureCheckpoint['offset_kind']>('ofp_checkpoints');

/** FeatureCheckpoint carries no update time. */
const withoutUpdatedAt = ({
  updated_at_utc: _updated,
  ...c
}: StoredCheckpoint<FeatureCheckpoint['offset_kind']>): FeatureCheckpoint => c;

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
    async addObservation(o) {
      const key = keyParams(streamId, o.scope, o.key);
      await client.query(
        `INSERT INTO ofp_feature_buckets (stream_id, platform_run_id, scenario_run_id, key_type, key_id,
           bucket_start_micros, event_count, amount_micros)
         VALUES ($1, $2, $3, $4, $5, $6::bigint, 1, $7::numeric)
         ON CONFLICT (stream_id, platform_run_id, scenario_run_id, key_type, key_id, bucket_start_micros)
         DO UPDATE SET event_count = ofp_feature_buckets.event_count + 1,
           amount_micros = ofp_feature_buckets.amount_micros + EXCLUDED.amount_micros`,
        [...key, o.bucket_start_micros.toString(), o.amount_micros.toString()],
      );
      await client.query(
        `INSERT INTO ofp_feature_events (stream_id, platform_run_id, scenario_run_id, key_type, key_id,
           event_ts_micros, event_id, amount_micros)
         VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8::numeric) ON CONFLICT DO NOTHING`,
        [...key, o.event_ts_micros.toString(), o.event_id, o.amount_micros.toString()],
      );
    },
    async readCheckpoint(topic, partition) {
      const found = await CHECKPOINTS.read(client, streamId, topic, partition);
      return found && withoutUpdatedAt(found);
    },
    writeCheckpoint: (c) => CHECKPOINTS.write(client, streamId, c),
    async incrementMetrics(names) {
      // Sorted, so two transactions take the counter rows' locks in the same order.
      const sorted = [...new Set(names)].sort();
      await client.query(
        `INSERT INTO ofp_metrics (stream_id, metric_name, value)
         SELECT $1, name, 1 FROM unnest($2::text[]) AS name
         ON CONFLICT (stream_id, metric_name) DO UPDATE SET value = ofp_metrics.value + 1, updated_at_utc = now()`,
        [streamId, sorted],
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
