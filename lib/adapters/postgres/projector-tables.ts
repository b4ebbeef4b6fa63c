import type pg from 'pg';
import { canonicalJson } from '../../contracts/canonical-json.ts';
import type { MergedRow } from './merged-rows.ts';
import { type Pool, rethrowUnavailable } from './pool.ts';
import {
  type HeldRows,
  insertExpectingNew,
  preloadHeld,
  type Queryable,
  readHeld,
  writeHeld,
} from './projector-store.ts';

/**
 * The tables every projector keeps in the same shape (a checkpoint per topic partition, a dedupe row per event), as
 * held rows of the unit of work (projector-store.ts), and pool reads that name an unreachable Postgres.
 */

/** What every projector's apply failure row carries. */
export interface ApplyFailureColumns {
  failure_id: string;
  reason_code: string;
  details: Record<string, unknown>;
  platform_run_id: string | null;
  scenario_run_id: string | null;
  topic: string;
  partition: number;
  offset: string;
  offset_kind: string;
  event_id: string | null;
  event_type: string | null;
}

/**
 * An apply failure row of `table` (a constant of the calling adapter; PK failure_id): insert-once (a redelivered
 * failure keeps its first row), written with the batch's other merged rows; `extra` names the table's own columns.
 */
export function applyFailureRow(
  table: string,
  streamId: string,
  f: ApplyFailureColumns,
  extra: Readonly<Record<string, unknown>> = {},
): MergedRow {
  const columns: Record<string, unknown> = {
    stream_id: streamId,
    platform_run_id: f.platform_run_id,
    scenario_run_id: f.scenario_run_id,
    topic: f.topic,
    partition_id: f.partition,
    offset: f.offset,
    offset_kind: f.offset_kind,
    event_id: f.event_id,
    event_type: f.event_type,
    reason_code: f.reason_code,
    details_json: canonicalJson(f.details),
    ...extra,
  };
  return {
    table,
    keyColumns: ['failure_id'],
    key: [f.failure_id],
    values: Object.fromEntries(
      Object.entries(columns).map(([column, value]) => [column, ['first', value] as const]),
    ),
  };
}

/** A pool query whose failure to reach Postgres is DatabaseUnavailable. */
export async function queryOrUnavailable<R extends pg.QueryResultRow>(
  pool: Pool,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(sql, params);
  } catch (error) {
    return rethrowUnavailable(error);
  }
}

export interface StoredCheckpoint<Kind extends string = string> {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: Kind;
  watermark_ts_utc: string | null;
  updated_at_utc: string;
}

interface CheckpointRow {
  topic: string;
  partition_id: number;
  next_offset: string;
  offset_kind: string;
  watermark_ts_utc: string | null;
  updated_at_utc: Date;
}

const COLUMNS = 'topic, partition_id, next_offset, offset_kind, watermark_ts_utc, updated_at_utc';

const checkpointOf = <Kind extends string>(row: CheckpointRow): StoredCheckpoint<Kind> => ({
  topic: row.topic,
  partition: row.partition_id,
  next_offset: row.next_offset,
  offset_kind: row.offset_kind as Kind,
  watermark_ts_utc: row.watermark_ts_utc,
  updated_at_utc: row.updated_at_utc.toISOString(),
});

/**
 * The checkpoint table `table` (a constant of the calling adapter, never input): columns stream_id, topic,
 * partition_id, next_offset, offset_kind, watermark_ts_utc, updated_at_utc; PK (stream_id, topic, partition_id).
 * Held rows: a batch reads a partition's row once (locked) and writes it once, before COMMIT.
 */
export function checkpointTable<Kind extends string>(table: string) {
  const keyOf = (streamId: string, topic: string, partition: number) =>
    JSON.stringify([streamId, topic, partition]);
  const held: HeldRows<StoredCheckpoint<Kind> & { stream_id: string }> = {
    name: table,
    async load(client, keys) {
      const parts = keys.map((key) => JSON.parse(key) as [string, string, number]);
      const res = await client.query<CheckpointRow & { stream_id: string }>(
        `SELECT stream_id, ${COLUMNS} FROM ${table}
         WHERE (stream_id, topic, partition_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))
         ORDER BY stream_id, topic, partition_id FOR UPDATE`,
        [parts.map((p) => p[0]), parts.map((p) => p[1]), parts.map((p) => p[2])],
      );
      return new Map(
        res.rows.map((row) => [
          keyOf(row.stream_id, row.topic, row.partition_id),
          { stream_id: row.stream_id, ...checkpointOf<Kind>(row) },
        ]),
      );
    },
    async write(client, changes) {
      const rows = changes.map((c) => c.row);
      await client.query(
        `INSERT INTO ${table} (stream_id, topic, partition_id, next_offset, offset_kind, watermark_ts_utc)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (stream_id, topic, partition_id) DO UPDATE SET next_offset = EXCLUDED.next_offset,
           offset_kind = EXCLUDED.offset_kind, watermark_ts_utc = EXCLUDED.watermark_ts_utc, updated_at_utc = now()`,
        [
          rows.map((r) => r.stream_id),
          rows.map((r) => r.topic),
          rows.map((r) => r.partition),
          rows.map((r) => r.next_offset),
          rows.map((r) => r.offset_kind),
          rows.map((r) => r.watermark_ts_utc),
        ],
      );
    },
  };
  return {
    /** One partition's row, as the transaction sees it (locked until it ends). */
    async read(client: Queryable, streamId: string, topic: string, partition: number) {
      const found = await readHeld(client, held, keyOf(streamId, topic, partition));
      if (!found) return undefined;
      const { stream_id: _stream, ...checkpoint } = found;
      return checkpoint;
    },
    write(
      client: Queryable,
      streamId: string,
      c: Omit<StoredCheckpoint<Kind>, 'updated_at_utc'>,
    ): Promise<void> {
      return writeHeld(client, held, keyOf(streamId, c.topic, c.partition), {
        stream_id: streamId,
        ...c,
        updated_at_utc: new Date().toISOString(),
      });
    },
    /** Every partition's row of a stream, in (topic, partition) order. */
    async all(pool: Pool, streamId: string) {
      const res = await queryOrUnavailable<CheckpointRow>(
        pool,
        `SELECT ${COLUMNS} FROM ${table} WHERE stream_id = $1 ORDER BY topic, partition_id`,
        [streamId],
      );
      return res.rows.map((row) => checkpointOf<Kind>(row));
    },
  };
}

/** The first sighting of an event (its run, class and id) in a dedupe table, with where it was read. */
export interface EventSighting {
  platform_run_id: string;
  event_class: string;
  event_id: string;
  payload_hash: string;
  eb_ref: { topic: string; partition: number; offset: string; offset_kind: string };
  event_ts_utc: string | null;
}

/** A dedupe row as the unit holds it: the stored hash, or the new row to insert. */
interface RegisteredEvent {
  payload_hash: string;
  insert?: EventSighting & { stream_id: string };
}

/**
 * The dedupe table `table` (a constant of the calling adapter): columns stream_id, platform_run_id, event_class,
 * event_id, payload_hash, first_topic, first_partition, first_offset, offset_kind and the event time in `tsColumn`;
 * PK (stream_id, platform_run_id, event_class, event_id). `register` answers whether an event is new, a duplicate
 * (same payload hash) or a mismatch (another one); a stored row is never overwritten. Held rows: a batch `preload`s
 * its events' rows in one statement and inserts its new ones in one, before COMMIT.
 */
export function eventRegistry(table: string, tsColumn: string) {
  type Key = Pick<EventSighting, 'platform_run_id' | 'event_class' | 'event_id'>;
  const keyOf = (streamId: string, k: Key) =>
    JSON.stringify([streamId, k.platform_run_id, k.event_class, k.event_id]);
  const held: HeldRows<RegisteredEvent> = {
    name: table,
    async load(client, keys) {
      const parts = keys.map((key) => JSON.parse(key) as [string, string, string, string]);
      const res = await client.query<{
        stream_id: string;
        platform_run_id: string;
        event_class: string;
        event_id: string;
        payload_hash: string;
      }>(
        `SELECT stream_id, platform_run_id, event_class, event_id, payload_hash FROM ${table}
         WHERE (stream_id, platform_run_id, event_class, event_id) IN
           (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
        [0, 1, 2, 3].map((i) => parts.map((p) => p[i])),
      );
      return new Map(res.rows.map((r) => [keyOf(r.stream_id, r), { payload_hash: r.payload_hash }]));
    },
    async write(client, changes) {
      const rows = changes.flatMap((c) => (c.row.insert ? [c.row.insert] : []));
      await insertExpectingNew(
        client,
        table,
        `INSERT INTO ${table} (stream_id, platform_run_id, event_class, event_id, payload_hash,
           first_topic, first_partition, first_offset, offset_kind, ${tsColumn})
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
           $8::text[], $9::text[], $10::text[])
         ON CONFLICT DO NOTHING RETURNING 1`,
        [
          rows.map((r) => r.stream_id),
          rows.map((r) => r.platform_run_id),
          rows.map((r) => r.event_class),
          rows.map((r) => r.event_id),
          rows.map((r) => r.payload_hash),
          rows.map((r) => r.eb_ref.topic),
          rows.map((r) => r.eb_ref.partition),
          rows.map((r) => r.eb_ref.offset),
          rows.map((r) => r.eb_ref.offset_kind),
          rows.map((r) => r.event_ts_utc),
        ],
        rows.length,
      );
    },
  };
  return {
    async register(
      client: Queryable,
      streamId: string,
      row: EventSighting,
    ): Promise<'inserted' | 'duplicate' | 'mismatch'> {
      const key = keyOf(streamId, row);
      const found = await readHeld(client, held, key);
      if (found) return found.payload_hash === row.payload_hash ? 'duplicate' : 'mismatch';
      await writeHeld(client, held, key, {
        payload_hash: row.payload_hash,
        insert: { stream_id: streamId, ...row },
      });
      return 'inserted';
    },
    /** The payload hash stored (or about to be) for an event. */
    storedHash: async (client: Queryable, streamId: string, key: Key) =>
      (await readHeld(client, held, keyOf(streamId, key)))?.payload_hash,
    /** Loads the rows of a batch's events at once. */
    preload: (client: Queryable, streamId: string, keys: readonly Key[]) =>
      preloadHeld(
        client,
        held,
        keys.map((k) => keyOf(streamId, k)),
      ),
  };
}
