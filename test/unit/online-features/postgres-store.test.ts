import { describe, expect, it } from 'vitest';
import { postgresOnlineFeatureStore } from '../../../lib/adapters/online-features-stores.ts';
import type { Pool } from '../../../lib/adapters/postgres/pool.ts';
import type { AnchorEntityType } from '../../../lib/online-features/keys.ts';

/**
 * The Postgres adapter's statements and parsing, against a scripted pool (the SQL itself runs in
 * test/integration/online-features/): exact decimal parameters, unnest columns in one statement per table, rows
 * parsed back to bigint, the first event bounded by T, only entity names in the SQL text.
 */

interface Call {
  sql: string;
  params: unknown[];
}

function scriptedPool(
  answer: (sql: string, params: unknown[]) => { rows?: unknown[]; rowCount?: number } = () => ({}),
) {
  const calls: Call[] = [];
  const query = async (sql: string, params: unknown[] = []) => {
    calls.push({ sql, params });
    const { rows = [], rowCount = rows.length } = answer(sql, params);
    return { rows, rowCount };
  };
  const pool = { query, connect: async () => ({ query, release: () => undefined }) } as unknown as Pool;
  return { pool, calls, sqlOf: (fragment: string) => calls.filter((c) => c.sql.includes(fragment)) };
}

const SCOPE = { platform_run_id: 'platform_20260302T000000Z', scenario_run_id: '2'.repeat(32) };
const ACCOUNT = { key_type: 'account_id' as const, key_id: '8000000000000000001' };
const observation = (key: { key_type: string; key_id: string }) => ({
  scope: SCOPE,
  key,
  event_id: 'e-1',
  event_ts_micros: 1_772_931_600_000_001n,
  bucket_start_micros: 1_772_931_600_000_000n,
  amount_micros: 18_446_744_073_709_551_615n,
});

describe('the online features Postgres store: writes', () => {
  it('an event’s observations are one merged bucket upsert and one event statement, in key order, with exact decimals', async () => {
    const { pool, calls, sqlOf } = scriptedPool();
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    await store.inTransaction(async (t) => {
      await t.addObservations([observation(ACCOUNT), observation({ key_type: 'device_id', key_id: '21' })]);
      await t.addObservations([]);
    });
    expect(calls.map((c) => c.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'BEGIN',
      'INSERT INTO ofp_feature_buckets',
      'INSERT INTO ofp_feature_events',
      'COMMIT',
    ]);
    // Outside a batch, one multi-row merged upsert in key order: (key, count 1, exact decimal amount) per row.
    const [buckets] = sqlOf('ofp_feature_buckets');
    expect(buckets?.sql).toMatch(
      /DO UPDATE SET event_count = ofp_feature_buckets.event_count \+ EXCLUDED.event_count/,
    );
    expect(buckets?.params).toEqual([
      ...['ofp.v0::run', SCOPE.platform_run_id, SCOPE.scenario_run_id, 'account_id', '8000000000000000001'],
      ...['1772931600000000', 1, '18446744073709551615'],
      ...['ofp.v0::run', SCOPE.platform_run_id, SCOPE.scenario_run_id, 'device_id', '21'],
      ...['1772931600000000', 1, '18446744073709551615'],
    ]);
    expect(sqlOf('ofp_feature_events')[0]?.params.slice(5)).toEqual([
      ['1772931600000001', '1772931600000001'],
      ['e-1', 'e-1'],
      ['18446744073709551615', '18446744073709551615'],
    ]);
  });

  it('an anchor’s entity row names the six entities, absent ones null; a throwing transaction rolls back', async () => {
    const { pool, calls, sqlOf } = scriptedPool();
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    await expect(
      store.inTransaction(async (t) => {
        await t.addEntitySighting({
          scope: SCOPE,
          event_id: 'anchor-1',
          event_ts_micros: 5n,
          entities: { account_id: '8', merchant_id: '18446744073709551000' },
        });
        throw new Error('after the write');
      }),
    ).rejects.toThrow('after the write');
    const [row] = sqlOf('ofp_entity_sightings');
    expect(row?.sql).toMatch(/party_id, account_id, instrument_id, device_id, ip_id, merchant_id/);
    expect(row?.params).toEqual([
      'ofp.v0::run',
      SCOPE.platform_run_id,
      SCOPE.scenario_run_id,
      'anchor-1',
      '5',
      null,
      '8',
      null,
      null,
      null,
      '18446744073709551000',
    ]);
    expect(calls.at(-1)?.sql).toBe('ROLLBACK');
  });

  it('offsets, events, mismatches, checkpoints and counters', async () => {
    const { pool, sqlOf } = scriptedPool((sql) => {
      if (sql.includes('INSERT INTO ofp_applied_events')) return { rowCount: 0 };
      if (sql.includes('INSERT INTO ofp_semantic_dedupe')) return { rowCount: 1 };
      if (sql.includes('FROM ofp_checkpoints'))
        return {
          rows: [
            {
              topic: 't',
              partition_id: 1,
              next_offset: '9',
              offset_kind: 'kinesis_sequence',
              watermark_ts_utc: null,
              updated_at_utc: new Date(0),
            },
          ],
        };
      return {};
    });
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    const ebRef = { topic: 't', partition: 1, offset: '9', offset_kind: 'kinesis_sequence' as const };
    const outcome = await store.inTransaction(async (t) => ({
      offset: await t.registerOffset(ebRef, 'e-1'),
      event: await t.registerEvent({
        platform_run_id: SCOPE.platform_run_id,
        event_class: 'context_flow_fraud',
        event_id: 'e-1',
        payload_hash: 'a'.repeat(64),
        eb_ref: ebRef,
        event_ts_utc: '2026-03-08T00:00:00.000000Z',
      }),
      mismatch: await t.recordPayloadMismatch({
        platform_run_id: SCOPE.platform_run_id,
        event_class: 'context_flow_fraud',
        event_id: 'e-1',
        incoming_payload_hash: 'b'.repeat(64),
        eb_ref: ebRef,
      }),
      checkpoint: await t.readCheckpoint('t', 1),
      written: await t.writeCheckpoint({ ...ebRef, next_offset: '9', watermark_ts_utc: null }),
      metrics: await t.incrementMetrics(['events_seen', 'duplicates', 'events_seen']),
    }));
    expect(outcome).toMatchObject({
      offset: 'duplicate',
      event: 'inserted',
      checkpoint: { topic: 't', partition: 1, next_offset: '9', watermark_ts_utc: null },
    });
    expect(outcome.checkpoint).not.toHaveProperty('updated_at_utc');
    expect(sqlOf('INSERT INTO ofp_payload_mismatches')[0]?.params.at(-1)).toBe('b'.repeat(64));
    // Outside a batch transaction, one multi-row upsert: each name once, in key order, by 1.
    expect(sqlOf('INSERT INTO ofp_metrics')[0]?.params).toEqual([
      'ofp.v0::run',
      'duplicates',
      1,
      'ofp.v0::run',
      'events_seen',
      1,
    ]);
  });
});

describe('the online features Postgres store: reads', () => {
  it('sums, last and first event times, distinct counterparts, state, checkpoints and metrics parse exactly', async () => {
    const { pool, sqlOf } = scriptedPool((sql) => {
      if (sql.includes('sum(event_count)'))
        return { rows: [{ event_count: '3', amount_micros: '18446744073709551615' }] };
      if (sql.includes('count(*)::text')) return { rows: [{ event_count: '0', amount_micros: null }] };
      if (sql.includes('ORDER BY event_ts_micros DESC'))
        return { rows: [{ event_ts_micros: '1772931600000001' }] };
      if (sql.includes('ORDER BY event_ts_micros LIMIT 1')) return { rows: [{ event_ts_micros: '1000' }] };
      if (sql.includes('count(DISTINCT')) return { rows: [{ n: '4' }] };
      if (sql.includes('SELECT 1 FROM ofp_feature_buckets')) return { rows: [{ '?column?': 1 }] };
      if (sql.includes('FROM ofp_metrics')) return { rows: [{ metric_name: 'events_seen', value: '12' }] };
      return {};
    });
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    expect(await store.sumBuckets(SCOPE, ACCOUNT, null, 60n)).toEqual({
      event_count: 3,
      amount_micros: 18_446_744_073_709_551_615n,
    });
    expect(await store.sumEvents(SCOPE, ACCOUNT, 1n, 2n)).toEqual({ event_count: 0, amount_micros: 0n });
    expect(await store.lastEventAtOrBefore(SCOPE, ACCOUNT, 2n ** 62n)).toBe(1_772_931_600_000_001n);
    expect(await store.firstEventAtOrBefore(SCOPE, ACCOUNT, 1000n)).toBe(1000n);
    expect(await store.firstEventAtOrBefore(SCOPE, ACCOUNT, 999n)).toBeUndefined();
    expect(await store.distinctCounterparts(SCOPE, ACCOUNT, 'device_id', 10n, 20n)).toBe(4);
    const [distinct] = sqlOf('count(DISTINCT');
    expect(distinct?.sql).toMatch(/count\(DISTINCT device_id\)[\s\S]*AND account_id = \$4/);
    expect(distinct?.params).toEqual([
      'ofp.v0::run',
      SCOPE.platform_run_id,
      SCOPE.scenario_run_id,
      ACCOUNT.key_id,
      '10',
      '20',
    ]);
    expect(await store.hasState(SCOPE)).toBe(true);
    expect(await store.checkpoints()).toEqual([]);
    expect(await store.metrics()).toEqual({ events_seen: 12 });
  });

  it('no first event, and never a column name that is not an entity', async () => {
    const { pool } = scriptedPool();
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    expect(await store.firstEventAtOrBefore(SCOPE, ACCOUNT, 1n)).toBeUndefined();
    expect(await store.lastEventAtOrBefore(SCOPE, ACCOUNT, 1n)).toBeUndefined();
    expect(await store.hasState(SCOPE)).toBe(false);
    await expect(
      store.distinctCounterparts(SCOPE, ACCOUNT, 'device_id; DROP TABLE x' as AnchorEntityType, 0n, 1n),
    ).rejects.toThrow(/not an entity/);
  });
});
