import { describe, expect, it } from 'vitest';
import {
  addToCounters,
  inBatchTransaction,
  inTransaction,
  type MergedRow,
  upsertMerged,
} from '../../../lib/adapters/postgres/projector-store.ts';
import { counter, scriptedPool, UPSERT } from './scripted-pool.ts';

/**
 * Rows written merged (lib/adapters/postgres/projector-store.ts `upsertMerged`, `addToCounters`): counter additions
 * outside a batch written at once, and merged rows of one key combined across a batch's records (least, greatest,
 * sum, first) into one statement per table before COMMIT, in statements of bounded size. Against a scripted pool
 * (scripted-pool.ts).
 */

describe('addToCounters outside a batch', () => {
  it('writes the additions at once, one statement per table, without summing across calls', async () => {
    const db = scriptedPool();
    const client = await db.pool.connect();
    await addToCounters(client, [counter('seen', 1), counter('m', 2, 'ofp_metrics'), counter('applied', 3)]);
    await addToCounters(client, [counter('seen', 1)]);
    expect(db.sql()).toEqual([
      UPSERT('csfb_counters', 2),
      UPSERT('ofp_metrics', 1),
      UPSERT('csfb_counters', 1),
    ]);
    expect(db.sent[0]?.params).toEqual(['csfb.v0::run', 'applied', 3, 'csfb.v0::run', 'seen', 1]);
  });

  it('in a plain transaction (not a batch) too; no additions, no statement', async () => {
    const db = scriptedPool();
    await inTransaction(db.pool, async (t) => {
      await addToCounters(t, [counter('seen', 1)]);
      await addToCounters(t, []);
    });
    expect(db.sql()).toEqual(['BEGIN', UPSERT('csfb_counters', 1), 'COMMIT']);
  });
});

describe('upsertMerged', () => {
  const entity = (id: string, seen: string, count: number, source: string): MergedRow => ({
    table: 'ieg_entities',
    keyColumns: ['stream_id', 'entity_id'],
    key: ['ieg.v0::run', id],
    values: {
      first_seen_ts_utc: ['least', seen],
      last_seen_ts_utc: ['greatest', seen],
      sightings: ['sum', count],
      first_source: ['first', source],
    },
  });
  const UPSERT_ENTITIES = (rows: number) => {
    const values = Array.from(
      { length: rows },
      (_, r) => `(${Array.from({ length: 6 }, (_v, c) => `$${r * 6 + c + 1}`).join(', ')})`,
    );
    return (
      'INSERT INTO ieg_entities (stream_id, entity_id, first_seen_ts_utc, last_seen_ts_utc, sightings, first_source) ' +
      `VALUES ${values.join(', ')} ON CONFLICT (stream_id, entity_id) DO UPDATE SET ` +
      'first_seen_ts_utc = LEAST(ieg_entities.first_seen_ts_utc, EXCLUDED.first_seen_ts_utc), ' +
      'last_seen_ts_utc = GREATEST(ieg_entities.last_seen_ts_utc, EXCLUDED.last_seen_ts_utc), ' +
      'sightings = ieg_entities.sightings + EXCLUDED.sightings'
    );
  };

  it('rows of one key merged across records: least, greatest, sum, first; one statement before COMMIT', async () => {
    const db = scriptedPool();
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, (t) => upsertMerged(t, [entity('b', '2026-03-08T00:00:02Z', 1, 'e-1')]));
      await inTransaction(scope, (t) =>
        upsertMerged(t, [
          entity('b', '2026-03-08T00:00:01Z', 1, 'e-2'),
          entity('a', '2026-03-08T00:00:09Z', 1, 'e-2'),
        ]),
      );
      await inTransaction(scope, (t) => upsertMerged(t, [entity('b', '2026-03-08T00:00:05Z', 2, 'e-3')]));
    });
    const write = db.sent.find((s) => s.sql.startsWith('INSERT INTO ieg_entities'));
    expect(write?.sql.replace(/\s+/g, ' ')).toBe(UPSERT_ENTITIES(2));
    // Key order: a, then b (its earliest and latest sightings, 4 sightings, the first source it was written with).
    expect(write?.params).toEqual([
      'ieg.v0::run',
      'a',
      '2026-03-08T00:00:09Z',
      '2026-03-08T00:00:09Z',
      1,
      'e-2',
      'ieg.v0::run',
      'b',
      '2026-03-08T00:00:01Z',
      '2026-03-08T00:00:05Z',
      4,
      'e-1',
    ]);
    expect(db.sql().at(-1)).toBe('COMMIT');
  });

  it('sums past 2^53 stay exact as decimal text; a row of insert-once columns only does nothing on conflict', async () => {
    const db = scriptedPool();
    const big = (by: string): MergedRow => ({
      table: 'ofp_totals',
      keyColumns: ['k'],
      key: ['x'],
      values: { amount_micros: ['sum', by] },
    });
    const once: MergedRow = {
      table: 'ofp_first',
      keyColumns: ['k'],
      key: ['x'],
      values: { v: ['first', 1] },
    };
    await inBatchTransaction(db.pool, async (scope) => {
      await inTransaction(scope, (t) => upsertMerged(t, [big('9007199254740993'), once]));
      await inTransaction(scope, (t) =>
        upsertMerged(t, [big('9007199254740993'), { ...once, values: { v: ['first', 2] } }]),
      );
    });
    const [first, totals] = db.sent.filter((s) => s.sql.startsWith('INSERT INTO'));
    expect(first?.sql).toMatch(/ON CONFLICT \(k\) DO NOTHING$/);
    expect(first?.params).toEqual(['x', 1]);
    expect(totals?.params).toEqual(['x', '18014398509481986']);
  });

  it('a table of many rows is written in statements of at most 60,000 parameters', async () => {
    const db = scriptedPool();
    // 30 parameters a row (2 key columns, 28 values): 2,000 rows a statement.
    const values = Object.fromEntries(Array.from({ length: 28 }, (_, c) => [`v${c}`, ['sum', 1] as const]));
    const rows = Array.from(
      { length: 2_001 },
      (_, i): MergedRow => ({ table: 'wide', keyColumns: ['a', 'b'], key: ['x', `k${i}`], values }),
    );
    await upsertMerged(await db.pool.connect(), rows);
    expect(db.sent.map((s) => (s.params?.length ?? 0) / 30)).toEqual([2_000, 1]);
  });
});
