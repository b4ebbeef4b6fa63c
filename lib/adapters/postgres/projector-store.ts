import type pg from 'pg';
import { type Pool, rethrowUnavailable } from './pool.ts';

/**
 * What the RTDL projectors' Postgres stores share: one transaction per unit of work, and the per-(topic,
 * partition) checkpoint table every projector keeps (same columns, its own table).
 */

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** `work` on one client between BEGIN and COMMIT; rolled back when it throws. Postgres unreachable is DatabaseUnavailable. */
export async function inTransaction<T>(pool: Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch(rethrowUnavailable);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    return rethrowUnavailable(error);
  } finally {
    client.release();
  }
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
 */
export function checkpointTable<Kind extends string>(table: string) {
  return {
    /** One partition's row, locked for the transaction. */
    async read(client: Queryable, streamId: string, topic: string, partition: number) {
      const res = await client.query<CheckpointRow>(
        `SELECT ${COLUMNS} FROM ${table} WHERE stream_id = $1 AND topic = $2 AND partition_id = $3 FOR UPDATE`,
        [streamId, topic, partition],
      );
      return res.rows[0] ? checkpointOf<Kind>(res.rows[0]) : undefined;
    },
    async write(
      client: Queryable,
      streamId: string,
      c: Omit<StoredCheckpoint<Kind>, 'updated_at_utc'>,
    ): Promise<void> {
      await client.query(
        `INSERT INTO ${table} (stream_id, topic, partition_id, next_offset, offset_kind, watermark_ts_utc)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (stream_id, topic, partition_id) DO UPDATE SET next_offset = EXCLUDED.next_offset,
           offset_kind = EXCLUDED.offset_kind, watermark_ts_utc = EXCLUDED.watermark_ts_utc, updated_at_utc = now()`,
        [streamId, c.topic, c.partition, c.next_offset, c.offset_kind, c.watermark_ts_utc],
      );
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

/**
 * Registers an event in the dedupe table `table` (a constant of the calling adapter): columns stream_id,
 * platform_run_id, event_class, event_id, payload_hash, first_topic, first_partition, first_offset, offset_kind and
 * the event time in `tsColumn`; PK (stream_id, platform_run_id, event_class, event_id). Answers whether it is new, a
 * duplicate (same payload hash) or a mismatch (another one); a stored row is never overwritten.
 */
export async function registerEventOnce(
  client: Queryable,
  table: string,
  tsColumn: string,
  streamId: string,
  row: EventSighting,
): Promise<'inserted' | 'duplicate' | 'mismatch'> {
  const inserted = await client.query(
    `INSERT INTO ${table} (stream_id, platform_run_id, event_class, event_id, payload_hash,
       first_topic, first_partition, first_offset, offset_kind, ${tsColumn})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
    [
      streamId,
      row.platform_run_id,
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
    `SELECT payload_hash FROM ${table}
     WHERE stream_id = $1 AND platform_run_id = $2 AND event_class = $3 AND event_id = $4`,
    [streamId, row.platform_run_id, row.event_class, row.event_id],
  );
  return found.rows[0]?.payload_hash === row.payload_hash ? 'duplicate' : 'mismatch';
}
