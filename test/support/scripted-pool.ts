import type { Pool } from '../../lib/adapters/postgres/pool.ts';

/**
 * A scripted Postgres pool for the stores' unit tests (the SQL itself runs in the integration tier): every statement
 * is recorded; `answer(sql, params)` scripts its rows and row count. By default an insert expecting new rows
 * (`… RETURNING 1`, the unit of work's held rows) inserts every row it sent (its first column's length), and any
 * other statement answers as many rows as scripted.
 */

export interface ScriptedCall {
  sql: string;
  params: unknown[];
}

export type ScriptedAnswer = { rows?: unknown[]; rowCount?: number } | undefined;

export function scriptedPool(answer: (sql: string, params: unknown[]) => ScriptedAnswer = () => undefined) {
  const calls: ScriptedCall[] = [];
  const query = async (sql: string, params: unknown[] = []) => {
    calls.push({ sql, params });
    const scripted = answer(sql, params);
    const rows = scripted?.rows ?? [];
    const sent = sql.includes('RETURNING 1') ? (params[0] as unknown[]).length : 0;
    return { rows, rowCount: scripted?.rowCount ?? (rows.length || sent) };
  };
  const pool = { query, connect: async () => ({ query, release: () => undefined }) } as unknown as Pool;
  return {
    pool,
    calls,
    sqlOf: (fragment: string) => calls.filter((c) => c.sql.includes(fragment)),
    /** Each statement as `SELECT <table>`, `INSERT <table>` or the control verb. */
    log: () =>
      calls.map(({ sql }) => {
        if (sql.startsWith('SELECT')) return `SELECT ${/FROM (\w+)/.exec(sql)?.[1]}`;
        if (sql.startsWith('INSERT')) return `INSERT ${/INTO (\w+)/.exec(sql)?.[1]}`;
        return sql;
      }),
  };
}

/** The stored rows whose key columns are among the unnest arrays sent, as `IN (SELECT * FROM unnest(…))` finds. */
export const storedAmong = (params: unknown[], columns: string[], stored: Record<string, unknown>[]) =>
  stored.filter((row) =>
    (params[0] as unknown[]).some((_, i) =>
      columns.every((c, j) => String((params[j] as unknown[])[i]) === String(row[c])),
    ),
  );
