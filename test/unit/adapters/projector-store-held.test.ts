import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Pool } from '../../../lib/adapters/postgres/pool.ts';
import {
  addToCounters,
  ConcurrentInsert,
  type HeldRows,
  inBatchTransaction,
  insertExpectingNew,
  inTransaction,
  preloadHeld,
  type Queryable,
  readHeld,
  writeHeld,
} from '../../../lib/adapters/postgres/projector-store.ts';

/**
 * Held rows of the projectors' unit of work (lib/adapters/postgres/projector-store.ts): read once, read back by later
 * records, dropped with a record that rolls back, written once before COMMIT in key order; a row another transaction
 * inserted meanwhile runs the batch again. Against a scripted pool (the SQL each client sends is recorded) and a
 * held-rows definition whose load and write are recorded too.
 */

interface Sent {
  client: number;
  sql: string;
}

function scriptedPool(answer: (sql: string) => { rowCount?: number } | Error = () => ({})) {
  const sent: Sent[] = [];
  let clients = 0;
  const pool = {
    connect: async () => {
      const client = ++clients;
      return {
        query: async (sql: string) => {
          sent.push({ client, sql });
          const answered = answer(sql);
          if (answered instanceof Error) throw answered;
          return { rows: [], rowCount: answered.rowCount ?? 0 };
        },
        release: () => undefined,
      };
    },
  } as unknown as Pool;
  return { pool, sent, sql: () => sent.map((s) => s.sql) };
}

/** A held-rows definition over a map standing for the table: loads and writes are recorded as SQL-like lines. */
function heldTable(stored: Record<string, number>, name = 'counts') {
  const loads: string[][] = [];
  const writes: { key: string; row: number; existed: boolean }[][] = [];
  const held: HeldRows<number> = {
    name,
    async load(client: Queryable, keys) {
      loads.push([...keys]);
      await client.query(`SELECT ${name} ${keys.join(',')}`);
      return new Map(keys.flatMap((k) => (k in stored ? [[k, stored[k] as number] as const] : [])));
    },
    async write(client: Queryable, changes) {
      writes.push([...changes]);
      await client.query(`WRITE ${name} ${changes.map((c) => `${c.key}=${c.row}`).join(',')}`);
    },
  };
  return { held, loads, writes };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('held rows in a batch', () => {
  it('loaded once (ahead, for many keys), read back by later records, written once in key order before COMMIT', async () => {
    const db = scriptedPool();
    const table = heldTable({ b: 10 });
    const seen = await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, (t) => preloadHeld(t, table.held, ['b', 'a']));
      const first = await inTransaction(scope, async (t) => {
        const b = await readHeld(t, table.held, 'b');
        await writeHeld(t, table.held, 'b', (b ?? 0) + 1);
        await writeHeld(t, table.held, 'c', 1);
        return b;
      });
      const second = await inTransaction(scope, async (t) => [
        await readHeld(t, table.held, 'a'),
        await readHeld(t, table.held, 'b'),
        await readHeld(t, table.held, 'c'),
      ]);
      return { first, second };
    });
    expect(seen).toEqual({ first: 10, second: [undefined, 11, 1] });
    // 'a' and 'b' in one load; 'c' on first sight; nothing loaded twice.
    expect(table.loads).toEqual([['a', 'b'], ['c']]);
    expect(table.writes).toEqual([
      [
        { key: 'b', row: 11, existed: true },
        { key: 'c', row: 1, existed: false },
      ],
    ]);
    expect(db.sql()).toEqual([
      'BEGIN',
      'SELECT counts a,b',
      'SELECT counts c',
      'WRITE counts b=11,c=1',
      'COMMIT',
    ]);
  });

  it('a record that rolls back takes its held writes with it; the next record sees the state before it', async () => {
    const db = scriptedPool();
    const table = heldTable({ k: 1 });
    const after = await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, async (t) => {
        await writeHeld(t, table.held, 'k', 99);
        throw new Error('conflict');
      }).catch(() => undefined);
      return inTransaction(scope, (t) => readHeld(t, table.held, 'k'));
    });
    expect(after).toBe(1);
    expect(table.writes).toEqual([]);
    expect(db.sql()).toEqual(['BEGIN', 'SELECT counts k', 'COMMIT']);
  });

  it('definitions are written by name, before merged rows', async () => {
    const db = scriptedPool();
    const zeta = heldTable({}, 'zeta');
    const alpha = heldTable({}, 'alpha');
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, async (t) => {
        await addToCounters(t, [
          { table: 'metrics', keyColumns: ['name'], valueColumn: 'value', key: ['n'], by: 1 },
        ]);
        await writeHeld(t, zeta.held, 'z', 1);
        await writeHeld(t, alpha.held, 'a', 2);
      });
    });
    expect(db.sql().filter((sql) => !sql.startsWith('SELECT'))).toEqual([
      'BEGIN',
      'WRITE alpha a=2',
      'WRITE zeta z=1',
      expect.stringMatching(/^INSERT INTO metrics/),
      'COMMIT',
    ]);
  });

  it('a row another transaction inserted meanwhile (ConcurrentInsert, 40001) runs the batch again, which then loads it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const stored: Record<string, number> = {};
    const db = scriptedPool((sql) => {
      if (!sql.startsWith('INSERT new')) return {};
      // First try: another shard's batch committed the key just before; its row is then stored.
      if (!('k' in stored)) {
        stored.k = 7;
        return { rowCount: 0 };
      }
      return { rowCount: 1 };
    });
    const held: HeldRows<number> = {
      name: 'rows',
      load: async (_client, keys) =>
        new Map(keys.flatMap((k) => (k in stored ? [[k, stored[k] as number] as const] : []))),
      write: async (client, changes) => {
        const added = changes.filter((c) => !c.existed);
        await insertExpectingNew(client, 'rows', 'INSERT new', [], added.length);
      },
    };
    const work = vi.fn((scope: Pool) =>
      inTransaction(scope, async (t) => {
        const found = await readHeld(t, held, 'k');
        if (found === undefined) await writeHeld(t, held, 'k', 1);
        return found;
      }),
    );
    const running = inBatchTransaction(db.pool, work);
    await vi.runAllTimersAsync();
    await expect(running).resolves.toBe(7);
    expect(work).toHaveBeenCalledTimes(2);
    expect(db.sql()).toEqual(['BEGIN', 'INSERT new', 'ROLLBACK', 'BEGIN', 'COMMIT']);
  });
});

describe('held rows outside a batch', () => {
  it('a plain transaction holds them the same way and runs again on ConcurrentInsert', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let tries = 0;
    const db = scriptedPool((sql) =>
      sql.startsWith('WRITE') && ++tries === 1 ? new ConcurrentInsert('counts', 1) : {},
    );
    const table = heldTable({ k: 1 });
    const running = inTransaction(db.pool, async (t) => {
      const k = await readHeld(t, table.held, 'k');
      await writeHeld(t, table.held, 'k', (k ?? 0) + 1);
      return k;
    });
    await vi.runAllTimersAsync();
    await expect(running).resolves.toBe(1);
    expect(db.sql()).toEqual([
      'BEGIN',
      'SELECT counts k',
      'WRITE counts k=2',
      'ROLLBACK',
      'BEGIN',
      'SELECT counts k',
      'WRITE counts k=2',
      'COMMIT',
    ]);
  });

  it('on a bare client: read loads, write loads then writes at once', async () => {
    const db = scriptedPool();
    const table = heldTable({ k: 1 });
    const client = await db.pool.connect();
    expect(await readHeld(client, table.held, 'k')).toBe(1);
    await writeHeld(client, table.held, 'n', 5);
    await preloadHeld(client, table.held, ['x']);
    expect(table.writes).toEqual([[{ key: 'n', row: 5, existed: false }]]);
    expect(db.sql()).toEqual(['SELECT counts k', 'SELECT counts n', 'WRITE counts n=5']);
  });
});
