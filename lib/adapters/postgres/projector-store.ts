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
