import type pg from 'pg';
import type { FeatureKey } from '../contracts/online-features.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { ANCHOR_ENTITY_TYPES, type AnchorEntityType } from '../online-features/keys.ts';
import type {
  FeatureCheckpoint,
  FeatureScope,
  OnlineFeatureStore,
  OnlineFeatureTransaction,
} from '../online-features/ports.ts';
import type { Totals } from '../online-features/windows.ts';
import { loadFeatureHistory, loadFlowEntities } from './online-features-history.ts';
import { textColumns } from './postgres/merged-rows.ts';
import type { Pool } from './postgres/pool.ts';
import {
  addToCounters,
  type HeldRows,
  insertExpectingNew,
  inTransaction,
  preloadHeld,
  type Queryable,
  readHeld,
  upsertMerged,
  writeHeld,
} from './postgres/projector-store.ts';
import {
  checkpointTable,
  eventRegistry,
  queryOrUnavailable,
  type StoredCheckpoint,
} from './postgres/projector-tables.ts';

/**
 * The Online Feature Plane's port on Postgres (migrations 0010, 0011), bound to one stream id. Each record's writes
 * run in one transaction (inside a batch, one record of the batch's unit of work, projector-store.ts): the offset and
 * semantic dedupe rows and the checkpoints are held rows (a batch loads its records' rows in one statement each and
 * inserts the new ones in one), buckets are sums merged in memory, event and entity rows insert-once rows; all are
 * written once, in key order, before the batch commits, so two shards adding to the same key lock its row for an
 * instant and in the same order. Times (µs) and amounts (micro-units) travel as decimal strings, so they stay exact.
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
const EVENTS = eventRegistry('ofp_semantic_dedupe', 'event_ts_utc');

const OFFSET_COLUMNS = 'stream_id, topic, partition_id, offset_kind, "offset"';
const offsetKey = (streamId: string, e: EbRef) =>
  JSON.stringify([streamId, e.topic, e.partition, e.offset_kind, e.offset]);

/** `ofp_applied_events` as held rows: an offset seen (its event id), new ones inserted before COMMIT. */
const OFFSETS: HeldRows<{ event_id: string | null; added: boolean }> = {
  name: 'ofp_applied_events',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as [string, string, number, string, string]);
    const res = await client.query<{
      stream_id: string;
      topic: string;
      partition_id: number;
      offset_kind: string;
      offset: string;
      event_id: string | null;
    }>(
      `SELECT ${OFFSET_COLUMNS}, event_id FROM ofp_applied_events WHERE (${OFFSET_COLUMNS}) IN
         (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[]))`,
      [0, 1, 2, 3, 4].map((i) => parts.map((p) => p[i])),
    );
    return new Map(
      res.rows.map((r) => [
        JSON.stringify([r.stream_id, r.topic, r.partition_id, r.offset_kind, r.offset]),
        { event_id: r.event_id, added: false },
      ]),
    );
  },
  async write(client, changes) {
    const added = changes.filter((c) => c.row.added);
    const parts = added.map((c) => JSON.parse(c.key) as unknown[]);
    await insertExpectingNew(
      client,
      'ofp_applied_events',
      `INSERT INTO ofp_applied_events (${OFFSET_COLUMNS}, event_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [...[0, 1, 2, 3, 4].map((i) => parts.map((p) => p[i])), added.map((c) => c.row.event_id)],
      added.length,
    );
  },
};

/** FeatureCheckpoint carries no update time. */
const withoutUpdatedAt = ({
  updated_at_utc: _updated,
  ...c
}: StoredCheckpoint<FeatureCheckpoint['offset_kind']>): FeatureCheckpoint => c;

const EVENT_KEY = [
  'stream_id',
  'platform_run_id',
  'scenario_run_id',
  'key_type',
  'key_id',
  'event_ts_micros',
  'event_id',
];

const BUCKET_TYPES = textColumns(['stream_id', 'platform_run_id', 'scenario_run_id', 'key_type', 'key_id'], {
  bucket_start_micros: 'bigint',
  event_count: 'bigint',
  amount_micros: 'numeric',
});
const EVENT_TYPES = textColumns(
  ['stream_id', 'platform_run_id', 'scenario_run_id', 'key_type', 'key_id', 'event_id'],
  {
    event_ts_micros: 'bigint',
    amount_micros: 'numeric',
  },
);
const SIGHTING_TYPES = textColumns(
  ['stream_id', 'platform_run_id', 'scenario_run_id', 'event_id', 'flow_id', ...ANCHOR_ENTITY_TYPES],
  { event_ts_micros: 'bigint' },
);

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
    async prefetch(hints) {
      await preloadHeld(
        client,
        OFFSETS,
        hints.offsets.map((e) => offsetKey(streamId, e)),
      );
      await EVENTS.preload(client, streamId, hints.events);
    },
    async registerOffset(ebRef, eventId) {
      const key = offsetKey(streamId, ebRef);
      if (await readHeld(client, OFFSETS, key)) return 'duplicate';
      await writeHeld(client, OFFSETS, key, { event_id: eventId, added: true });
      return 'inserted';
    },
    registerEvent: (row) => EVENTS.register(client, streamId, row),
    // Insert-once rows, written with the batch's other rows; the stored hash is the one the batch holds.
    async recordPayloadMismatch(row) {
      await upsertMerged(client, [
        {
          table: 'ofp_payload_mismatches',
          keyColumns: ['stream_id', 'topic', 'partition_id', 'offset_kind', 'offset'],
          key: [streamId, row.eb_ref.topic, row.eb_ref.partition, row.eb_ref.offset_kind, row.eb_ref.offset],
          values: {
            platform_run_id: ['first', row.platform_run_id],
            event_class: ['first', row.event_class],
            event_id: ['first', row.event_id],
            stored_payload_hash: ['first', (await EVENTS.storedHash(client, streamId, row)) ?? null],
            incoming_payload_hash: ['first', row.incoming_payload_hash],
          },
        },
      ]);
    },
    async addObservations(observations) {
      if (observations.length === 0) return;
      // Buckets are sums, merged on conflict; event rows are insert-once. Both are written at the end of the batch in
      // key order (upsertMerged), so a merchant's minute bucket every shard touches is locked for an instant, never
      // in opposite orders.
      await upsertMerged(client, [
        ...observations.map((o) => ({
          table: 'ofp_feature_buckets',
          types: BUCKET_TYPES,
          keyColumns: BUCKET_KEY,
          key: [
            streamId,
            o.scope.platform_run_id,
            o.scope.scenario_run_id,
            o.key.key_type,
            o.key.key_id,
            o.bucket_start_micros.toString(),
          ],
          values: { event_count: ['sum', 1], amount_micros: ['sum', o.amount_micros.toString()] } as const,
        })),
        ...observations.map((o) => ({
          table: 'ofp_feature_events',
          types: EVENT_TYPES,
          keyColumns: EVENT_KEY,
          key: [
            streamId,
            o.scope.platform_run_id,
            o.scope.scenario_run_id,
            o.key.key_type,
            o.key.key_id,
            o.event_ts_micros.toString(),
            o.event_id,
          ],
          values: { amount_micros: ['first', o.amount_micros.toString()] } as const,
        })),
      ]);
    },
    async addEntitySighting(sighting) {
      await upsertMerged(client, [
        {
          table: 'ofp_entity_sightings',
          types: SIGHTING_TYPES,
          keyColumns: ['stream_id', 'platform_run_id', 'scenario_run_id', 'event_id'],
          key: [streamId, sighting.scope.platform_run_id, sighting.scope.scenario_run_id, sighting.event_id],
          values: {
            event_ts_micros: ['first', sighting.event_ts_micros.toString()],
            flow_id: ['first', sighting.flow_id ?? null],
            ...Object.fromEntries(
              ANCHOR_ENTITY_TYPES.map((type) => [type, ['first', sighting.entities[type] ?? null] as const]),
            ),
          },
        },
      ]);
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
    loadHistory: (scope, keys, atOrBefore) => loadFeatureHistory(pool, streamId, scope, keys, atOrBefore),
    flowEntities: (scope, flowIds) => loadFlowEntities(pool, streamId, scope, flowIds),
    async metrics() {
      const res = await query<{ metric_name: string; value: string }>(
        'SELECT metric_name, value::text AS value FROM ofp_metrics WHERE stream_id = $1 ORDER BY metric_name',
        [streamId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.metric_name, Number(r.value)]));
    },
  };
}
