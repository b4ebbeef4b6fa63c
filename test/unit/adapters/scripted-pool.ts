import type { Pool } from '../../../lib/adapters/postgres/pool.ts';
import type { CounterAddition } from '../../../lib/adapters/postgres/projector-store.ts';

/**
 * A scripted Postgres pool for the projector store's unit-of-work tests (projector-store-batch.test.ts,
 * projector-store-merged.test.ts): the SQL each client sends is recorded; `fail` makes a statement throw. And the
 * counter additions those tests write, with the statement that writes them.
 */

export interface Sent {
  client: number;
  sql: string;
  params: unknown[] | undefined;
}

/** A pool whose clients record each statement; `fail` answers an error for a statement to throw. */
export function scriptedPool(fail: (sql: string, sent: readonly Sent[]) => unknown = () => undefined) {
  const sent: Sent[] = [];
  const released: number[] = [];
  let clients = 0;
  const pool = {
    connect: async () => {
      const client = ++clients;
      return {
        query: async (sql: string, params?: unknown[]) => {
          sent.push({ client, sql, params });
          const error = fail(sql, sent);
          if (error) throw error;
          // A scripted 'INSERT record …' changes a row; nothing else does.
          return { rows: [], rowCount: sql.startsWith('INSERT record') ? 1 : 0 };
        },
        release: () => released.push(client),
      };
    },
  } as unknown as Pool;
  return {
    pool,
    sent,
    released,
    /** The statements sent, whitespace collapsed. */
    sql: () => sent.map((s) => s.sql.replace(/\s+/g, ' ').trim()),
  };
}

/** An addition of `by` to the counter `key` of the run `csfb.v0::run` in `table`. */
export const counter = (key: string, by: number, table = 'csfb_counters'): CounterAddition => ({
  table,
  keyColumns: ['stream_id', 'name'],
  valueColumn: 'value',
  key: ['csfb.v0::run', key],
  by,
});

/** The statement that adds `rows` counter rows to `table` (sums on conflict). */
export const UPSERT = (table: string, rows: number) => {
  const values = Array.from({ length: rows }, (_, r) => `($${r * 3 + 1}, $${r * 3 + 2}, $${r * 3 + 3})`);
  return (
    `INSERT INTO ${table} (stream_id, name, value) VALUES ${values.join(', ')} ` +
    `ON CONFLICT (stream_id, name) DO UPDATE SET value = ${table}.value + EXCLUDED.value`
  );
};
