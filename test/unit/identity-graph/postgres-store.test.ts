import { afterEach, describe, expect, it, vi } from 'vitest';
import { postgresIdentityGraphStore } from '../../../lib/adapters/identity-graph-stores.ts';
import { ConcurrentInsert } from '../../../lib/adapters/postgres/projector-store.ts';
import type { ArrivalKey, ArrivalMember, DedupeRow } from '../../../lib/identity-graph/ports.ts';
import { MERCHANT_ID, RUN, SCENARIO_RUN, TOPIC } from '../../support/identity-graph.ts';
import {
  type ScriptedAnswer,
  type ScriptedCall,
  scriptedPool,
  storedAmong,
} from '../../support/scripted-pool.ts';

/**
 * The identity graph's Postgres transaction (lib/adapters/identity-graph-stores.ts) over its held rows
 * (identity-graph-held-rows.ts: dedupe rows, arrival keys with members), against a scripted pool (the SQL itself
 * runs in test/integration/identity-graph/): one unnest load per table, later reads answered without a SELECT,
 * outcomes of a dedupe row, arrival members merged, and the rows written once before COMMIT.
 */

const STREAM = `ieg.v0::${RUN}`;
const HASH = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);
const TS = '2026-03-08T00:01:03.106979Z';
const EB = {
  topic: TOPIC.s3_event_stream_with_fraud_6B,
  partition: 3,
  offset: '49650000000000000001',
  offset_kind: 'kinesis_sequence' as const,
};
const dedupe = (dedupe_key: string, payload_hash = HASH): DedupeRow => ({
  dedupe_key,
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  event_class: 'traffic_fraud',
  event_id: `event-${dedupe_key}`,
  payload_hash,
  eb_ref: EB,
  event_ts_utc: TS,
});
const MERCHANT = String(MERCHANT_ID);
const arrival = (arrival_seq: string): ArrivalKey => ({
  scenario_run_id: SCENARIO_RUN,
  merchant_id: MERCHANT,
  arrival_seq,
});
const ARRIVAL_COLUMNS = ['stream_id', 'scenario_run_id', 'merchant_id', 'arrival_seq'];
/** The unnest parameters of one row: an array of one value per column. */
const oneRow = (...values: unknown[]) => values.map((value) => [value]);
const member = (entity_type: string, suffix = '1'): ArrivalMember => ({
  entity_id: `${entity_type.replace('_id', '')}-${suffix}`,
  entity_type,
});
/** A stored `ieg_arrival_members` row of arrival_seq `seq`. */
const memberRow = (seq: string, m: ArrivalMember) => ({ stream_id: STREAM, ...arrival(seq), ...m });
const selects = (calls: ScriptedCall[]) => calls.filter((c) => c.sql.startsWith('SELECT'));
const DEDUPE_KEY = ['stream_id', 'dedupe_key'];
/** A stored `ieg_dedupe` row. */
const stored = (dedupe_key: string, payload_hash = HASH) => ({ stream_id: STREAM, dedupe_key, payload_hash });
/** Answers the loads of arrival key 7 as stored, with its party and account members (in no order). */
const arrival7 = (sql: string, params: unknown[]): ScriptedAnswer => {
  if (sql.includes('FROM ieg_arrival_keys'))
    return { rows: storedAmong(params, ARRIVAL_COLUMNS, [{ stream_id: STREAM, ...arrival('7') }]) };
  if (sql.includes('FROM ieg_arrival_members'))
    return { rows: [memberRow('7', member('party_id')), memberRow('7', member('account_id'))] };
  return undefined;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('the identity graph Postgres transaction: prefetch and dedupe rows', () => {
  it('prefetch loads each table once from unnest columns; later reads of those keys send no SELECT', async () => {
    const db = scriptedPool((sql, params) =>
      sql.includes('FROM ieg_dedupe')
        ? { rows: storedAmong(params, DEDUPE_KEY, [stored('k1')]) }
        : arrival7(sql, params),
    );
    const store = postgresIdentityGraphStore(db.pool, STREAM);
    const seen = await store.inTransaction(async (t) => {
      await t.prefetch({ dedupeKeys: ['k2', 'k1', 'k2'], arrivals: [arrival('8'), arrival('7')] });
      const loaded = selects(db.calls).length;
      const outcome = {
        k1: await t.registerEvent(dedupe('k1')),
        k2: await t.registerEvent(dedupe('k2')),
        a7: await t.joinArrival(arrival('7'), []),
        a8: await t.joinArrival(arrival('8'), [member('device_id')]),
      };
      return { loaded, after: selects(db.calls).length, outcome };
    });
    expect([seen.loaded, seen.after]).toEqual([3, 3]);
    expect(seen.outcome).toEqual({
      k1: 'duplicate',
      k2: 'inserted',
      a7: [member('account_id'), member('party_id')],
      a8: [member('device_id')],
    });
    // One array per key column, the keys once each and in key order.
    expect(db.sqlOf('FROM ieg_dedupe')[0]?.params).toEqual([
      [STREAM, STREAM],
      ['k1', 'k2'],
    ]);
    const [keys] = db.sqlOf('FROM ieg_arrival_keys');
    expect(keys?.sql).toMatch(
      /IN \(SELECT \* FROM unnest\(\$1::text\[\], .*\$4::text\[\]\)\)[\s\S]*FOR UPDATE/,
    );
    const columns = [
      [STREAM, STREAM],
      [SCENARIO_RUN, SCENARIO_RUN],
      [MERCHANT, MERCHANT],
      ['7', '8'],
    ];
    expect(keys?.params).toEqual(columns);
    expect(db.sqlOf('FROM ieg_arrival_members')[0]?.params).toEqual(columns);
    // Written before COMMIT: only the absent key, its members, and the new dedupe row.
    expect(db.log().slice(4)).toEqual([
      'INSERT ieg_arrival_keys',
      'INSERT ieg_arrival_members',
      'INSERT ieg_dedupe',
      'COMMIT',
    ]);
    expect(db.sqlOf('INSERT INTO ieg_arrival_keys')[0]?.params).toEqual([
      [STREAM],
      [SCENARIO_RUN],
      [MERCHANT],
      ['8'],
    ]);
    expect(db.sqlOf('INSERT INTO ieg_dedupe')[0]?.params[1]).toEqual(['k2']);
  });

  it('a stored hash is duplicate, another mismatch, an absent key inserted once, read back without a SELECT', async () => {
    const rows = [stored('same'), stored('changed')];
    const db = scriptedPool((sql, params) =>
      sql.includes('FROM ieg_dedupe') ? { rows: storedAmong(params, DEDUPE_KEY, rows) } : undefined,
    );
    const store = postgresIdentityGraphStore(db.pool, STREAM);
    const outcomes = await store.inTransaction(async (t) => [
      await t.registerEvent(dedupe('same')),
      await t.registerEvent(dedupe('changed', OTHER)),
      await t.registerEvent(dedupe('new')),
      await t.registerEvent(dedupe('new')),
      await t.registerEvent(dedupe('new', OTHER)),
    ]);
    expect(outcomes).toEqual(['duplicate', 'mismatch', 'inserted', 'duplicate', 'mismatch']);
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT ieg_dedupe',
      'SELECT ieg_dedupe',
      'SELECT ieg_dedupe',
      'INSERT ieg_dedupe',
      'COMMIT',
    ]);
    expect(selects(db.calls).map((c) => c.params[1])).toEqual([['same'], ['changed'], ['new']]);
    const [insert] = db.sqlOf('INSERT INTO ieg_dedupe');
    expect(insert?.sql).toMatch(/ON CONFLICT DO NOTHING RETURNING 1$/);
    expect(insert?.params).toEqual(
      oneRow(
        STREAM,
        'new',
        RUN,
        SCENARIO_RUN,
        'traffic_fraud',
        'event-new',
        HASH,
        EB.topic,
        3,
        EB.offset,
        'kinesis_sequence',
        TS,
      ),
    );
  });

  it('a dedupe row another transaction inserted meanwhile runs the transaction again, which then finds it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const rows: Record<string, unknown>[] = [];
    const db = scriptedPool((sql, params) => {
      if (sql.includes('FROM ieg_dedupe')) return { rows: storedAmong(params, DEDUPE_KEY, rows) };
      if (sql.startsWith('INSERT INTO ieg_dedupe')) {
        // Another shard's batch committed the row just before this one's insert.
        rows.push(stored('k'));
        return { rowCount: 0 };
      }
      return undefined;
    });
    const running = postgresIdentityGraphStore(db.pool, STREAM).inTransaction((t) =>
      t.registerEvent(dedupe('k')),
    );
    await vi.runAllTimersAsync();
    await expect(running).resolves.toBe('duplicate');
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT ieg_dedupe',
      'INSERT ieg_dedupe',
      'ROLLBACK',
      'BEGIN',
      'SELECT ieg_dedupe',
      'COMMIT',
    ]);
  });
});

describe('the identity graph Postgres transaction: arrival keys', () => {
  it('a stored key’s members merge with the new ones, sorted by entity id; only the added members are inserted', async () => {
    const db = scriptedPool(arrival7);
    const seen = await postgresIdentityGraphStore(db.pool, STREAM).inTransaction(async (t) => [
      await t.joinArrival(arrival('7'), [member('device_id'), member('party_id')]),
      await t.joinArrival(arrival('7'), [member('ip_id')]),
    ]);
    expect(seen).toEqual([
      [member('account_id'), member('device_id'), member('party_id')],
      [member('account_id'), member('device_id'), member('ip_id'), member('party_id')],
    ]);
    // Loaded once; the stored key is not inserted again.
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT ieg_arrival_keys',
      'SELECT ieg_arrival_members',
      'INSERT ieg_arrival_members',
      'COMMIT',
    ]);
    const [members] = db.sqlOf('INSERT INTO ieg_arrival_members');
    expect(members?.sql).toMatch(/ON CONFLICT DO NOTHING$/);
    expect(members?.params).toEqual([
      [STREAM, STREAM],
      [SCENARIO_RUN, SCENARIO_RUN],
      [MERCHANT, MERCHANT],
      ['7', '7'],
      ['device-1', 'ip-1'],
      ['device_id', 'ip_id'],
    ]);
  });

  it('a key found absent sends no members SELECT and is inserted expecting new, with its members once each', async () => {
    const db = scriptedPool();
    const seen = await postgresIdentityGraphStore(db.pool, STREAM).inTransaction((t) =>
      t.joinArrival(arrival('8'), [member('party_id'), member('account_id'), member('party_id')]),
    );
    expect(seen).toEqual([member('account_id'), member('party_id')]);
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT ieg_arrival_keys',
      'INSERT ieg_arrival_keys',
      'INSERT ieg_arrival_members',
      'COMMIT',
    ]);
    const [key] = db.sqlOf('INSERT INTO ieg_arrival_keys');
    expect(key?.sql).toMatch(/ON CONFLICT DO NOTHING RETURNING 1$/);
    expect(key?.params).toEqual([[STREAM], [SCENARIO_RUN], [MERCHANT], ['8']]);
    expect(db.sqlOf('INSERT INTO ieg_arrival_members')[0]?.params.slice(3)).toEqual([
      ['8', '8'],
      ['party-1', 'account-1'],
      ['party_id', 'account_id'],
    ]);
  });

  it('a new key another transaction keeps inserting meanwhile: run again, then ConcurrentInsert (40001)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const db = scriptedPool((sql) =>
      sql.startsWith('INSERT INTO ieg_arrival_keys') ? { rowCount: 0 } : undefined,
    );
    const running = postgresIdentityGraphStore(db.pool, STREAM)
      .inTransaction((t) => t.joinArrival(arrival('9'), [member('device_id')]))
      .catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await running;
    expect(error).toBeInstanceOf(ConcurrentInsert);
    expect(error).toMatchObject({ code: '40001' });
    expect(db.log().filter((s) => s === 'BEGIN')).toHaveLength(6);
    expect(db.log().filter((s) => s === 'ROLLBACK')).toHaveLength(6);
    // The members are never written: the key's insert failed first.
    expect(db.log().filter((s) => s.startsWith('INSERT'))).toEqual(Array(6).fill('INSERT ieg_arrival_keys'));
  });
});
