import type { Queryable } from './pool.ts';

/**
 * Rows the projectors merge on conflict (counters, first and last sightings, insert-once rows), as the unit of work
 * (projector-store.ts) holds and writes them: merged in memory, then written table by table in key order.
 */

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

export type Deferred = Map<string, MergedRow>;

export const rowId = (r: MergedRow) => JSON.stringify([r.table, r.key.map((k) => String(k))]);

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
export function mergeInto(into: Deferred, id: string, row: MergedRow) {
  const found = into.get(id);
  if (!found) {
    into.set(id, { ...row, values: { ...row.values } });
    return;
  }
  const values = found.values as Record<string, readonly [Merge, unknown]>;
  for (const [column, [how, value]] of Object.entries(values))
    values[column] = [how, mergeValue(how, value, row.values[column]?.[1])];
}

export function merge(into: Deferred, rows: Iterable<MergedRow>) {
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
export async function writeMerged(client: Queryable, rows: Iterable<readonly [string, MergedRow]>) {
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

/** `types` for merged rows whose columns are all text, plus any others named. */
export const textColumns = (
  names: readonly string[],
  others: Readonly<Record<string, string>> = {},
): Record<string, string> => ({ ...Object.fromEntries(names.map((n) => [n, 'text'])), ...others });

/** A counter row: `valueColumn` summed on conflict. */
export interface CounterAddition {
  table: string;
  keyColumns: readonly string[];
  valueColumn: string;
  key: readonly unknown[];
  by: number;
}
