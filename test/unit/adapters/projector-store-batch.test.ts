import { afterEach, describe, expect, it, vi } from 'vitest';
import { DatabaseUnavailable, type Pool } from '../../../lib/adapters/postgres/pool.ts';
import {
  addToCounters,
  inBatchTransaction,
  inTransaction,
  RecordUnstorable,
} from '../../../lib/adapters/postgres/projector-store.ts';
import { counter, scriptedPool, UPSERT } from './scripted-pool.ts';

/**
 * One Postgres transaction per projector batch (lib/adapters/postgres/projector-store.ts `inBatchTransaction`):
 * BEGIN … COMMIT on one client, records' own transactions inside it, a savepoint per record only when a record rolls
 * back a write it sent, counters written once before COMMIT, and what is retried (deadlocks, serialization failures)
 * and what is not. Against a scripted pool (scripted-pool.ts).
 */

const pgError = (code: string, message = `pg error ${code}`) => Object.assign(new Error(message), { code });

afterEach(() => {
  vi.useRealTimers();
});

describe('inBatchTransaction', () => {
  it('wraps the batch in BEGIN … COMMIT on one client, released once, and answers the work’s result', async () => {
    const db = scriptedPool();
    const result = await inBatchTransaction(db.pool, async (scope) => {
      await scope.query('SELECT 1');
      return 'done';
    });
    expect(result).toBe('done');
    expect(db.sql()).toEqual(['BEGIN', 'SELECT 1', 'COMMIT']);
    expect(new Set(db.sent.map((s) => s.client))).toEqual(new Set([1]));
    expect(db.released).toEqual([1]);
  });

  it('a store’s own transaction inside is a record of the batch: no statement of its own', async () => {
    const db = scriptedPool();
    const outcomes = await inBatchTransaction(db.pool, async (scope) => [
      await inTransaction(scope, async (t) => {
        await t.query('INSERT record 1', ['a']);
        return 'applied';
      }),
      await inTransaction(scope, async (t) => {
        // Rolled back having changed nothing in Postgres: its rows are dropped in memory.
        await t.query('SELECT 2');
        await addToCounters(t, [counter('dropped', 1)]);
        throw new Error('conflict in record 2');
      }).catch((error: Error) => error.message),
    ]);
    expect(outcomes).toEqual(['applied', 'conflict in record 2']);
    expect(db.sql()).toEqual(['BEGIN', 'INSERT record 1', 'SELECT 2', 'COMMIT']);
    expect(db.sent[1]?.params).toEqual(['a']);
    // Every statement on the batch's one client; only it is released (the record clients release nothing).
    expect(new Set(db.sent.map((s) => s.client))).toEqual(new Set([1]));
    expect(db.released).toEqual([1]);
  });

  it('a record that rolls back a write it sent: the batch runs again with a savepoint per record, rolling back to it alone', async () => {
    const db = scriptedPool();
    const work = vi.fn(async (scope: Pool) => [
      await inTransaction(scope, async (t) => {
        await t.query('INSERT record 1', ['a']);
        return 'applied';
      }),
      await inTransaction(scope, async (t) => {
        await t.query('INSERT record 2');
        throw new Error('conflict in record 2');
      }).catch((error: Error) => error.message),
      await inTransaction(scope, async (t) => {
        await t.query('INSERT record 3');
        return 'applied';
      }),
    ]);
    expect(await inBatchTransaction(db.pool, work)).toEqual(['applied', 'conflict in record 2', 'applied']);
    expect(work).toHaveBeenCalledTimes(2);
    expect(db.sql()).toEqual([
      'BEGIN',
      'INSERT record 1',
      'INSERT record 2',
      'ROLLBACK',
      'BEGIN',
      'SAVEPOINT record_1',
      'INSERT record 1',
      'RELEASE SAVEPOINT record_1',
      'SAVEPOINT record_2',
      'INSERT record 2',
      'ROLLBACK TO SAVEPOINT record_2',
      'SAVEPOINT record_3',
      'INSERT record 3',
      'RELEASE SAVEPOINT record_3',
      'COMMIT',
    ]);
    expect(db.released).toEqual([1, 2]);
  });

  it('counters added in records are written once, summed and in key order, just before COMMIT', async () => {
    const db = scriptedPool();
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, async (t) => {
        await addToCounters(t, [counter('seen', 1), counter('applied', 1)]);
        await t.query('INSERT record 1');
      });
      await inTransaction(scope, async (t) => {
        await addToCounters(t, [counter('seen', 1), counter('duplicate', 1)]);
        await addToCounters(t, [counter('seen', 2), counter('x', 5, 'ieg_metrics')]);
      });
    });
    expect(db.sql()).toEqual([
      'BEGIN',
      'INSERT record 1',
      UPSERT('csfb_counters', 3),
      UPSERT('ieg_metrics', 1),
      'COMMIT',
    ]);
    const [csfb, ieg] = db.sent.filter((s) => s.sql.startsWith('INSERT INTO'));
    expect(csfb?.params).toEqual([
      'csfb.v0::run',
      'applied',
      1,
      'csfb.v0::run',
      'duplicate',
      1,
      'csfb.v0::run',
      'seen',
      4,
    ]);
    expect(ieg?.params).toEqual(['csfb.v0::run', 'x', 5]);
  });

  it('a record that rolls back takes its counter additions with it', async () => {
    const db = scriptedPool();
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, async (t) => addToCounters(t, [counter('seen', 1)]));
      await inTransaction(scope, async (t) => {
        await addToCounters(t, [counter('seen', 1), counter('applied', 1)]);
        throw new Error('conflict');
      }).catch(() => undefined);
      await inTransaction(scope, async (t) => addToCounters(t, [counter('failed', 1)]));
    });
    const writes = db.sent.filter((s) => s.sql.startsWith('INSERT INTO'));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.params).toEqual(['csfb.v0::run', 'failed', 1, 'csfb.v0::run', 'seen', 1]);
    expect(db.sql().at(-1)).toBe('COMMIT');
  });

  it('no counters added: no counter statement', async () => {
    const db = scriptedPool();
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, async (t) => addToCounters(t, []));
    });
    expect(db.sql()).toEqual(['BEGIN', 'COMMIT']);
  });

  it('a deadlock (40P01) rolls the batch back and runs it again on a fresh client; counters are not doubled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let attempts = 0;
    const db = scriptedPool((sql) =>
      sql === 'INSERT record' && attempts === 1 ? pgError('40P01') : undefined,
    );
    const running = inBatchTransaction(db.pool, async (scope) => {
      attempts++;
      await inTransaction(scope, async (t) => addToCounters(t, [counter('seen', 1)]));
      await scope.query('INSERT record');
      return attempts;
    });
    await vi.runAllTimersAsync();
    await expect(running).resolves.toBe(2);
    expect(db.sql()).toEqual([
      'BEGIN',
      'INSERT record',
      'ROLLBACK',
      'BEGIN',
      'INSERT record',
      UPSERT('csfb_counters', 1),
      'COMMIT',
    ]);
    expect(db.sent.find((s) => s.sql.startsWith('INSERT INTO'))?.params).toEqual(['csfb.v0::run', 'seen', 1]);
    expect(db.sent.filter((s) => s.sql === 'ROLLBACK').map((s) => s.client)).toEqual([1]);
    expect(db.sent.filter((s) => s.sql === 'COMMIT').map((s) => s.client)).toEqual([2]);
    expect(db.released).toEqual([1, 2]);
  });

  it('a serialization failure (40001) at COMMIT is run again too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const db = scriptedPool((sql, sent) =>
      sql === 'COMMIT' && sent.filter((s) => s.sql === 'COMMIT').length === 1 ? pgError('40001') : undefined,
    );
    const work = vi.fn(async () => 'ok');
    const running = inBatchTransaction(db.pool, work);
    await vi.runAllTimersAsync();
    await expect(running).resolves.toBe('ok');
    expect(work).toHaveBeenCalledTimes(2);
    expect(db.sql()).toEqual(['BEGIN', 'COMMIT', 'ROLLBACK', 'BEGIN', 'COMMIT']);
  });

  it('a deadlock every time: given up after six tries, the deadlock rethrown', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const db = scriptedPool();
    const work = vi.fn(async () => {
      throw pgError('40P01', 'deadlock detected');
    });
    const running = inBatchTransaction(db.pool, work);
    const settled = running.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await settled).toMatchObject({ code: '40P01', message: 'deadlock detected' });
    expect(work).toHaveBeenCalledTimes(6);
    expect(db.released).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('any other error rolls back and is rethrown at once, the work run once', async () => {
    const db = scriptedPool();
    const work = vi.fn(async (scope: Pool) => {
      await scope.query('INSERT record');
      throw pgError('42P01', 'relation does not exist');
    });
    await expect(inBatchTransaction(db.pool, work)).rejects.toMatchObject({ code: '42P01' });
    expect(work).toHaveBeenCalledTimes(1);
    expect(db.sql()).toEqual(['BEGIN', 'INSERT record', 'ROLLBACK']);
    expect(db.released).toEqual([1]);
  });

  it('data Postgres refuses (SQLSTATE class 22 or 23) is RecordUnstorable: not retryable, not run again', async () => {
    for (const code of ['22021', '22P05', '23502']) {
      const db = scriptedPool((sql) =>
        sql === 'INSERT record' ? pgError(code, 'invalid byte sequence') : undefined,
      );
      const work = vi.fn((scope: Pool) => scope.query('INSERT record'));
      const error = await inBatchTransaction(db.pool, work).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(RecordUnstorable);
      expect(error).toMatchObject({ code: 'RECORD_UNSTORABLE', retryable: false });
      expect((error as RecordUnstorable).detail).toContain(code);
      expect(work).toHaveBeenCalledTimes(1);
      expect(db.sql()).toEqual(['BEGIN', 'INSERT record', 'ROLLBACK']);
    }
  });

  it('Postgres unreachable (at connect or mid-batch) is DatabaseUnavailable', async () => {
    const down = { connect: async () => Promise.reject(pgError('ECONNREFUSED')) } as unknown as Pool;
    await expect(inBatchTransaction(down, async () => 'never')).rejects.toBeInstanceOf(DatabaseUnavailable);
    const db = scriptedPool((sql) =>
      sql === 'SELECT 1' ? pgError('57P01', 'terminating connection') : undefined,
    );
    await expect(inBatchTransaction(db.pool, (scope) => scope.query('SELECT 1'))).rejects.toBeInstanceOf(
      DatabaseUnavailable,
    );
  });
});
