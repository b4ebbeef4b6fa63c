import type pg from 'pg';
import { PlatformError } from '../../errors/platform-error.ts';
import { type Pool, rethrowUnavailable } from './pool.ts';

/**
 * What the RTDL projectors' Postgres stores share: one transaction per unit of work, and the per-(topic,
 * partition) checkpoint table every projector keeps (same columns, its own table).
 */

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * A checked-out client whose server goes away (Postgres stopped or failed over mid-transaction) emits 'error'; with no
 * listener that event would end the process — every function of the local Lambda host with it. While held, the
 * error is ignored here (the pending query rejects, and the caller sees DatabaseUnavailable); the returned release
 * removes the listener and gives the client back.
 */
function heldSafely(client: pg.PoolClient): () => void {
  // A record's savepoint inside a batch (inBatchTransaction's scope) is no connection: nothing to listen to.
  if (typeof client.on !== 'function') return () => client.release();
  const ignore = () => undefined;
  client.on('error', ignore);
  return () => {
    client.off('error', ignore);
    client.release();
  };
}

/** `work` on one client between BEGIN and COMMIT; rolled back when it throws. Postgres unreachable is DatabaseUnavailable. */
export async function inTransaction<T>(pool: Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch(rethrowUnavailable);
  const release = heldSafely(client);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    return rethrowUnavailable(error);
  } finally {
    release();
  }
}

/**
 * Rows merged on conflict (`INSERT … ON CONFLICT (key) DO UPDATE SET col = <merge>`): counters (`sum`), first and last
 * sightings (`least`, `greatest`), insert-once columns (`first`). Inside a batch transaction (below) they are held,
 * merged in memory, and written once, in table then key order, just before the batch commits: a row many records of
 * many shards touch (a total, a merchant entity, a minute bucket) is then locked for an instant at the end of each
 * batch, not for the whole batch, and every batch takes those locks in the same order, so batches of other shards
 * neither queue behind them nor deadlock on them. The merges are associative and commutative, so the rows are the
 * same as if each record had written its own. A record whose savepoint rolls back takes its rows with it. Outside a
 * batch they are written at once.
 */
export type Merge = 'sum' | 'least' | 'greatest' | 'first';

export interface MergedRow {
  table: string;
  keyColumns: readonly string[];
  key: readonly unknown[];
  /** Column → [how it merges, value]; every row of a table names the same columns. */
  values: Readonly<Record<string, readonly [Merge, unknown]>>;
}

const DEFERRED = Symbol('deferred merged rows');
type Deferred = Map<string, MergedRow>;
type DeferringClient = Queryable & { [DEFERRED]?: Deferred };

const rowId = (r: MergedRow) => JSON.stringify([r.table, r.key.map((k) => String(k))]);

function mergeValue(how: Merge, a: unknown, b: unknown): unknown {
  if (a === null || a === undefined) return b;
  if (b === null || b === undefined) return a;
  switch (how) {
    case 'sum':
      return typeof a === 'number' && typeof b === 'number'
        ? a + b
        : (BigInt(String(a)) + BigInt(String(b))).toString();
    case 'least':
      return String(b) < String(a) ? b : a;
    case 'greatest':
      return String(b) > String(a) ? b : a;
    case 'first':
      return a;
  }
}

function merge(into: Deferred, rows: Iterable<MergedRow>) {
  for (const row of rows) {
    const id = rowId(row);
    const found = into.get(id);
    if (!found) {
      into.set(id, row);
      continue;
    }
    const values = Object.fromEntries(
      Object.entries(found.values).map(([column, [how, value]]) => [
        column,
        [how, mergeValue(how, value, row.values[column]?.[1])] as const,
      ]),
    );
    into.set(id, { ...found, values });
  }
}

const SET: Record<Exclude<Merge, 'first'>, (table: string, column: string) => string> = {
  sum: (t, c) => `${c} = ${t}.${c} + EXCLUDED.${c}`,
  least: (t, c) => `${c} = LEAST(${t}.${c}, EXCLUDED.${c})`,
  greatest: (t, c) => `${c} = GREATEST(${t}.${c}, EXCLUDED.${c})`,
};

/** Postgres takes at most 65,535 parameters a statement. */
const MAX_PARAMETERS = 60_000;

async function writeMerged(client: Queryable, rows: readonly MergedRow[]) {
  const byTable = new Map<string, MergedRow[]>();
  for (const row of [...rows].sort((x, y) => (rowId(x) < rowId(y) ? -1 : 1))) {
    const rowsOfTable = byTable.get(row.table);
    if (rowsOfTable) rowsOfTable.push(row);
    else byTable.set(row.table, [row]);
  }
  for (const [table, all] of [...byTable].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = all[0] as MergedRow;
    const columns = Object.keys(first.values);
    const width = first.keyColumns.length + columns.length;
    const sets = columns.flatMap((c) => {
      const how = first.values[c]?.[0];
      return how === undefined || how === 'first' ? [] : [SET[how](table, c)];
    });
    const conflict = sets.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${sets.join(', ')}`;
    const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / width));
    for (let at = 0; at < all.length; at += perStatement) {
      const chunk = all.slice(at, at + perStatement);
      const tuples = chunk.map(
        (_, r) => `(${Array.from({ length: width }, (_v, c) => `$${r * width + c + 1}`).join(', ')})`,
      );
      await client.query(
        `INSERT INTO ${table} (${[...first.keyColumns, ...columns].join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT (${first.keyColumns.join(', ')}) ${conflict}`,
        chunk.flatMap((row) => [...row.key, ...columns.map((c) => row.values[c]?.[1] ?? null)]),
      );
    }
  }
}

/** Upserts merged rows: at once, or at the end of the batch when `client` belongs to one. */
export async function upsertMerged(client: Queryable, rows: readonly MergedRow[]): Promise<void> {
  const deferred = (client as DeferringClient)[DEFERRED];
  if (deferred) merge(deferred, rows);
  else if (rows.length > 0) await writeMerged(client, rows);
}

/** A counter row: `valueColumn` summed on conflict. */
export interface CounterAddition {
  table: string;
  keyColumns: readonly string[];
  valueColumn: string;
  key: readonly unknown[];
  by: number;
}

/** Adds to counter rows (merged rows whose one value column is summed). */
export function addToCounters(client: Queryable, additions: readonly CounterAddition[]): Promise<void> {
  return upsertMerged(
    client,
    additions.map((a) => ({
      table: a.table,
      keyColumns: a.keyColumns,
      key: a.key,
      values: { [a.valueColumn]: ['sum', a.by] as const },
    })),
  );
}

/**
 * Postgres refused the data itself (SQLSTATE class 22, data exception — e.g. a NUL character in text —, 23,
 * integrity constraint violation, or 54, program limit exceeded — e.g. a key too long for its index): no retry can
 * store it. Not retryable, so the bus edge sets the record aside
 * (with its bytes) instead of retrying its batch until the mapping gives up.
 */
export class RecordUnstorable extends PlatformError<'RECORD_UNSTORABLE'> {
  constructor(cause: unknown) {
    const e = cause as { code?: string; message?: string };
    super('RECORD_UNSTORABLE', `RECORD_UNSTORABLE: ${e?.code ?? ''} ${e?.message ?? String(cause)}`, {
      detail: `Postgres refused the record's data (SQLSTATE ${e?.code ?? 'unknown'})`,
      cause,
    });
  }
}

const isDataError = (error: unknown) => /^(2[23]|54)/.test((error as { code?: string })?.code ?? '');

/** Postgres ended a transaction to break a deadlock (40P01) or a serialization failure (40001): run it again. */
const isTransient = (error: unknown) => ['40P01', '40001'].includes((error as { code?: string })?.code ?? '');

/** How often a batch is run again after a deadlock, in process, before its error reaches the mapping. */
const BATCH_TRIES = 6;

/**
 * A whole batch in one transaction: `work` gets a pool-shaped scope on one client inside BEGIN … COMMIT, whose
 * stores' own transactions (`inTransaction` above: BEGIN, COMMIT, ROLLBACK on a connect()ed client) become
 * savepoints, so a record that rolls back its own writes still does so alone, while the batch pays one commit (one
 * WAL flush) instead of one per record. Reads through the scope see the batch's writes. A deadlock with a concurrent
 * batch (two shards touching the same rows in another order) rolls the batch back and runs it again, after a short
 * jittered pause; any other error rolls it back and is rethrown (the mapping retries the batch; every store is
 * idempotent, so nothing is applied twice).
 */
export async function inBatchTransaction<T>(pool: Pool, work: (scope: Pool) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect().catch(rethrowUnavailable);
    const release = heldSafely(client);
    let savepoints = 0;
    const batchRows: Deferred = new Map();
    const scope = {
      query: ((text: string, values?: unknown[]) => client.query(text, values)) as Queryable['query'],
      connect: async () => {
        const name = `record_${++savepoints}`;
        const recordRows: Deferred = new Map();
        const verbs: Record<string, string> = {
          BEGIN: `SAVEPOINT ${name}`,
          COMMIT: `RELEASE SAVEPOINT ${name}`,
          ROLLBACK: `ROLLBACK TO SAVEPOINT ${name}`,
        };
        const recordClient: DeferringClient = {
          query: (async (text: string, values?: unknown[]) => {
            const result = await client.query(verbs[text] ?? text, values);
            if (text === 'COMMIT') merge(batchRows, recordRows.values());
            if (text === 'COMMIT' || text === 'ROLLBACK') recordRows.clear();
            return result;
          }) as Queryable['query'],
          [DEFERRED]: recordRows,
        };
        return { ...recordClient, release: () => undefined };
      },
    } as unknown as Pool;
    try {
      await client.query('BEGIN');
      const result = await work(scope);
      await writeMerged(client, [...batchRows.values()]);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isDataError(error)) throw new RecordUnstorable(error);
      if (!isTransient(error) || attempt >= BATCH_TRIES) return rethrowUnavailable(error);
    } finally {
      release();
    }
    await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * (0.5 + Math.random())));
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
