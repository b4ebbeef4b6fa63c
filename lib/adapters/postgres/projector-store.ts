import type pg from 'pg';
import { PlatformError } from '../../errors/platform-error.ts';
import {
  type CounterAddition,
  type Deferred,
  type MergedRow,
  merge,
  mergeInto,
  rowId,
  writeMerged,
} from './merged-rows.ts';
import { type Pool, type Queryable, rethrowUnavailable } from './pool.ts';

/**
 * The unit of work of the RTDL projectors' Postgres stores: a transaction (a plain one, or a whole batch whose
 * records are its units), the rows it holds (held rows, merged rows) and writes once before COMMIT, and its retries.
 * The tables every projector keeps are in projector-tables.ts; how merged rows merge and are written, in
 * merged-rows.ts.
 */

export type { CounterAddition, Merge, MergedRow } from './merged-rows.ts';
export type { Queryable } from './pool.ts';

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

/**
 * The row of `key` as this record sees it: its own writes (unless `ownWrites` is false: the row as it stood before
 * this record), then earlier records', then the stored row.
 */
export async function readHeld<Row>(
  client: Queryable,
  held: HeldRows<Row>,
  key: string,
  { ownWrites = true }: { ownWrites?: boolean } = {},
): Promise<Row | undefined> {
  const state = unitOf(client);
  if (!state) return (await held.load(client, [key])).get(key);
  for (const layer of ownWrites ? [state.layer, state.unit.committed] : [state.unit.committed]) {
    const rows = layer.held.get(held as AnyHeld);
    if (rows?.has(key)) return rows.get(key) as Row;
  }
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
