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

/**
 * `work` on one client between BEGIN and COMMIT; rolled back when it throws. Its merged and held rows (below) are
 * written just before COMMIT. A deadlock, a serialization failure or a `ConcurrentInsert` runs it again (a few times,
 * after a short jittered pause). Inside a batch (`inBatchTransaction`) the client is a record's, whose unit is the
 * batch's: the batch commits, and retries. Postgres unreachable is DatabaseUnavailable.
 */
export async function inTransaction<T>(pool: Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect().catch(rethrowUnavailable);
    const release = heldSafely(client);
    const own = unitOf(client) === undefined;
    // Its own unit, whose one record it is.
    const unit = newUnit();
    const layer = newLayer();
    const worker: UnitClient = own
      ? {
          query: ((text: string, values?: unknown[]) => client.query(text, values)) as Queryable['query'],
          [UNIT]: { unit, layer },
        }
      : client;
    try {
      await client.query('BEGIN');
      const result = await work(worker);
      if (own) {
        mergeLayer(unit.committed, layer);
        await flushUnit(client, unit);
      }
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!own || !isTransient(error) || attempt >= BATCH_TRIES) return rethrowUnavailable(error);
    } finally {
      release();
    }
    await pause(attempt);
  }
}

/** A short jittered pause before running a transaction again: 20 ms × 2^attempt, ±50%. */
const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * (0.5 + Math.random())));

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
  /**
   * The SQL type of every key and value column (`text`, `bigint`, `numeric`…). With them, a table's rows are written
   * as one `INSERT … SELECT * FROM unnest($1::type[], …)`, one array per column, which Postgres plans in constant
   * time whatever the row count; without, as `VALUES` tuples (planning grows with the rows).
   */
  types?: Readonly<Record<string, string>>;
}

type Deferred = Map<string, MergedRow>;

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

/** Merges `row` (id `id`) into `into`: the first row of an id is copied, later ones merged into the copy. */
function mergeInto(into: Deferred, id: string, row: MergedRow) {
  const found = into.get(id);
  if (!found) {
    into.set(id, { ...row, values: { ...row.values } });
    return;
  }
  const values = found.values as Record<string, readonly [Merge, unknown]>;
  for (const [column, [how, value]] of Object.entries(values))
    values[column] = [how, mergeValue(how, value, row.values[column]?.[1])];
}

function merge(into: Deferred, rows: Iterable<MergedRow>) {
  for (const row of rows) mergeInto(into, rowId(row), row);
}

/** Column names that are SQL keywords (`"offset"`) are quoted; the others are written as they are. */
const KEYWORDS = new Set(['offset', 'order', 'group', 'limit', 'user']);
const column = (name: string) => (KEYWORDS.has(name) ? `"${name}"` : name);

const SET: Record<Exclude<Merge, 'first'>, (table: string, column: string) => string> = {
  sum: (t, c) => `${c} = ${t}.${c} + EXCLUDED.${c}`,
  least: (t, c) => `${c} = LEAST(${t}.${c}, EXCLUDED.${c})`,
  greatest: (t, c) => `${c} = GREATEST(${t}.${c}, EXCLUDED.${c})`,
};

/** Postgres takes at most 65,535 parameters a statement. */
const MAX_PARAMETERS = 60_000;

/** Writes rows, by table then key (`rows`: [rowId, row]). */
async function writeMerged(client: Queryable, rows: Iterable<readonly [string, MergedRow]>) {
  const byTable = new Map<string, MergedRow[]>();
  const ordered = [...rows].sort(([x], [y]) => (x < y ? -1 : 1));
  for (const [, row] of ordered) {
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
      return how === undefined || how === 'first' ? [] : [SET[how](table, column(c))];
    });
    const conflict = sets.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${sets.join(', ')}`;
    const names = [...first.keyColumns, ...columns];
    const target = `INSERT INTO ${table} (${names.map(column).join(', ')})`;
    const onConflict = `ON CONFLICT (${first.keyColumns.map(column).join(', ')}) ${conflict}`;
    const valuesOf = (row: MergedRow) => [...row.key, ...columns.map((c) => row.values[c]?.[1] ?? null)];
    const types = first.types;
    if (types && names.every((name) => types[name] !== undefined)) {
      const arrays = names.map((): unknown[] => []);
      for (const row of all) for (const [i, value] of valuesOf(row).entries()) arrays[i]?.push(value);
      const unnest = names.map((name, i) => `$${i + 1}::${types[name]}[]`).join(', ');
      await client.query(`${target} SELECT * FROM unnest(${unnest}) ${onConflict}`, arrays);
      continue;
    }
    const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / width));
    for (let at = 0; at < all.length; at += perStatement) {
      const chunk = all.slice(at, at + perStatement);
      const tuples = chunk.map(
        (_, r) => `(${Array.from({ length: width }, (_v, c) => `$${r * width + c + 1}`).join(', ')})`,
      );
      await client.query(
        `${target} VALUES ${tuples.join(', ')}\n         ${onConflict}`,
        chunk.flatMap(valuesOf),
      );
    }
  }
}

/**
 * Rows a transaction reads once and writes once, at its end (a checkpoint, a dedupe row, a join frame): the unit of
 * work of one batch keeps them in memory. `load` reads the stored rows of some keys (locking them for the
 * transaction when they change), `write` writes the changed ones in key order just before COMMIT — `existed` tells
 * whether load found the row, so a row it did not find is inserted expecting no conflict (`ConcurrentInsert` when
 * another batch inserted the same key meanwhile: the batch runs again and then finds it). A record reads its own and
 * earlier records' writes; a record that rolls back takes its writes with it. Keys are text the adapter encodes.
 */
export interface HeldRows<Row> {
  /** Names the rows in the unit and orders their writes (by name, then key). */
  readonly name: string;
  /** The stored rows among `keys` (absent keys left out), locked until the transaction ends. */
  load(client: Queryable, keys: readonly string[]): Promise<Map<string, Row>>;
  /** Writes changed rows, in key order. */
  write(client: Queryable, changes: readonly HeldChange<Row>[]): Promise<void>;
}

export interface HeldChange<Row> {
  key: string;
  row: Row;
  /** Whether the row was stored when the unit loaded it. */
  existed: boolean;
}

/**
 * Another transaction inserted a key this one found absent (a row `HeldRows.write` expected to insert): SQLSTATE
 * 40001, so the batch is rolled back and run again (it then loads the other's row).
 */
export class ConcurrentInsert extends Error {
  readonly code = '40001';
  constructor(table: string, missing: number) {
    super(`${missing} row(s) of ${table} inserted by another transaction meanwhile; running the batch again`);
  }
}

/** Inserts rows expected to be new (`sql` ends `ON CONFLICT DO NOTHING RETURNING 1`); any conflict is ConcurrentInsert. */
export async function insertExpectingNew(
  client: Queryable,
  table: string,
  sql: string,
  params: unknown[],
  rows: number,
) {
  if (rows === 0) return;
  const res = await client.query(sql, params);
  const inserted = res.rowCount ?? 0;
  if (inserted < rows) throw new ConcurrentInsert(table, rows - inserted);
}

type AnyHeld = HeldRows<unknown>;

/** The writes of a unit (or of one record inside it): merged rows and held rows per definition. */
interface Layer {
  merged: Deferred;
  held: Map<AnyHeld, Map<string, unknown>>;
}

interface Unit {
  /** The stored rows loaded so far (undefined: absent when loaded). */
  loaded: Map<AnyHeld, Map<string, unknown>>;
  committed: Layer;
}

const UNIT = Symbol('unit of work');
type UnitClient = Queryable & { [UNIT]?: { unit: Unit; layer: Layer } };

const newLayer = (): Layer => ({ merged: new Map(), held: new Map() });
const newUnit = (): Unit => ({ loaded: new Map(), committed: newLayer() });

function mergeLayer(into: Layer, from: Layer) {
  for (const [id, row] of from.merged) mergeInto(into.merged, id, row);
  for (const [held, rows] of from.held) {
    const target = into.held.get(held) ?? new Map<string, unknown>();
    for (const [key, row] of rows) target.set(key, row);
    into.held.set(held, target);
  }
  from.merged.clear();
  from.held.clear();
}

const unitOf = (client: Queryable) => (client as UnitClient)[UNIT];

/** Loads the keys the unit has not loaded yet, in one statement (a batch's keys ahead of its records). */
export async function preloadHeld<Row>(
  client: Queryable,
  held: HeldRows<Row>,
  keys: Iterable<string>,
): Promise<void> {
  const state = unitOf(client);
  if (!state) return;
  const loaded = state.unit.loaded.get(held as AnyHeld) ?? new Map<string, unknown>();
  state.unit.loaded.set(held as AnyHeld, loaded);
  const missing = [...new Set(keys)].filter((key) => !loaded.has(key)).sort();
  if (missing.length === 0) return;
  const found = await held.load(client, missing);
  for (const key of missing) loaded.set(key, found.get(key));
}

/** The row of `key` as this record sees it: its own writes, then earlier records', then the stored row. */
export async function readHeld<Row>(
  client: Queryable,
  held: HeldRows<Row>,
  key: string,
): Promise<Row | undefined> {
  const state = unitOf(client);
  if (!state) return (await held.load(client, [key])).get(key);
  for (const layer of [state.layer, state.unit.committed]) {
    const rows = layer.held.get(held as AnyHeld);
    if (rows?.has(key)) return rows.get(key) as Row;
  }
  await preloadHeld(client, held, [key]);
  return state.unit.loaded.get(held as AnyHeld)?.get(key) as Row | undefined;
}

/** The row of `key` as it stood before this record's own writes (earlier records' writes, then the stored row). */
export async function readHeldBeforeRecord<Row>(
  client: Queryable,
  held: HeldRows<Row>,
  key: string,
): Promise<Row | undefined> {
  const state = unitOf(client);
  if (!state) return (await held.load(client, [key])).get(key);
  const rows = state.unit.committed.held.get(held as AnyHeld);
  if (rows?.has(key)) return rows.get(key) as Row;
  await preloadHeld(client, held, [key]);
  return state.unit.loaded.get(held as AnyHeld)?.get(key) as Row | undefined;
}

/** Sets the row of `key`, written when the unit commits (at once outside a unit). */
export async function writeHeld<Row>(
  client: Queryable,
  held: HeldRows<Row>,
  key: string,
  row: Row,
): Promise<void> {
  const state = unitOf(client);
  if (!state) {
    const existed = (await held.load(client, [key])).has(key);
    await held.write(client, [{ key, row, existed }]);
    return;
  }
  await preloadHeld(client, held, [key]);
  const rows = state.layer.held.get(held as AnyHeld) ?? new Map<string, unknown>();
  rows.set(key, row);
  state.layer.held.set(held as AnyHeld, rows);
}

/** Writes a unit's held rows (by definition name, then key) and merged rows, just before COMMIT. */
async function flushUnit(client: Queryable, unit: Unit) {
  const helds = [...unit.committed.held].sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const [held, rows] of helds) {
    const loaded = unit.loaded.get(held);
    const changes = [...rows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, row]) => ({ key, row, existed: loaded?.get(key) !== undefined }));
    if (changes.length > 0) await held.write(client, changes);
  }
  await writeMerged(client, unit.committed.merged);
}

/** `types` for merged rows whose columns are all text, plus any others named. */
export const textColumns = (
  names: readonly string[],
  others: Readonly<Record<string, string>> = {},
): Record<string, string> => ({ ...Object.fromEntries(names.map((n) => [n, 'text'])), ...others });

/** Upserts merged rows: at the end of the transaction (or batch) `client` belongs to, else at once. */
export async function upsertMerged(client: Queryable, rows: readonly MergedRow[]): Promise<void> {
  const state = unitOf(client);
  if (state) merge(state.layer.merged, rows);
  else if (rows.length > 0)
    await writeMerged(
      client,
      rows.map((row) => [rowId(row), row] as const),
    );
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

/** A record rolled back writes already sent: the batch runs again with a savepoint per record. */
class SavepointsNeeded extends Error {
  constructor() {
    super('a record rolled back statements it had sent; the batch runs again with savepoints');
  }
}

const EMPTY = { rows: [], rowCount: 0 } as unknown as pg.QueryResult;
const READ_ONLY = /^\s*SELECT\b/i;

/**
 * A whole batch in one transaction: `work` gets a pool-shaped scope on one client inside BEGIN … COMMIT, whose
 * stores' own transactions (`inTransaction` above) become records of the batch's unit of work: a record's merged
 * and held rows join the batch's when it commits and are dropped when it rolls back, and the batch writes them all
 * once, in order, before its one COMMIT (one WAL flush). A record pays no statement of its own for them, and none
 * for its transaction either: a record that rolls back after sending a statement that changed a row (or failed)
 * makes the batch roll back and run again with a savepoint per record, so the record still rolls back alone. Reads
 * through the scope see the batch's writes. A deadlock with a concurrent batch, a serialization failure or a
 * `ConcurrentInsert` rolls the batch back and runs it again, after a short jittered pause; data Postgres refuses is
 * `RecordUnstorable` (the bus edge then finds the record); any other error rolls back and is rethrown (the mapping
 * retries the batch; every store is idempotent, so nothing is applied twice).
 */
export async function inBatchTransaction<T>(pool: Pool, work: (scope: Pool) => Promise<T>): Promise<T> {
  let withSavepoints = false;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect().catch(rethrowUnavailable);
    const release = heldSafely(client);
    const unit = newUnit();
    let records = 0;
    let fallBack = false;
    const scope = {
      query: ((text: string, values?: unknown[]) => client.query(text, values)) as Queryable['query'],
      connect: async () => {
        const name = `record_${++records}`;
        const layer = newLayer();
        let sentWrites = false;
        const control = async (verb: 'BEGIN' | 'COMMIT' | 'ROLLBACK') => {
          if (verb === 'COMMIT') mergeLayer(unit.committed, layer);
          if (verb === 'ROLLBACK') {
            layer.merged.clear();
            layer.held.clear();
          }
          if (withSavepoints) {
            const sql = {
              BEGIN: 'SAVEPOINT',
              COMMIT: 'RELEASE SAVEPOINT',
              ROLLBACK: 'ROLLBACK TO SAVEPOINT',
            };
            return client.query(`${sql[verb]} ${name}`);
          }
          if (verb === 'ROLLBACK' && sentWrites) {
            fallBack = true;
            throw new SavepointsNeeded();
          }
          return EMPTY;
        };
        const recordClient: UnitClient = {
          query: (async (text: string, values?: unknown[]) => {
            if (text === 'BEGIN' || text === 'COMMIT' || text === 'ROLLBACK') return control(text);
            if (fallBack) throw new SavepointsNeeded();
            try {
              const result = await client.query(text, values);
              if (!READ_ONLY.test(text) && (result.rowCount ?? 0) > 0) sentWrites = true;
              return result;
            } catch (error) {
              sentWrites = true;
              throw error;
            }
          }) as Queryable['query'],
          [UNIT]: { unit, layer },
        };
        return { ...recordClient, release: () => undefined };
      },
    } as unknown as Pool;
    try {
      await client.query('BEGIN');
      const result = await work(scope);
      if (fallBack) throw new SavepointsNeeded();
      await flushUnit(client, unit);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (fallBack && !withSavepoints) {
        withSavepoints = true;
        attempt--;
        continue;
      }
      if (isDataError(error)) throw new RecordUnstorable(error);
      if (!isTransient(error) || attempt >= BATCH_TRIES) return rethrowUnavailable(error);
    } finally {
      release();
    }
    await pause(attempt);
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
