import { describe, expect, it, vi } from 'vitest';
import { postgresOnlineFeatureStore } from '../../../lib/adapters/online-features-stores.ts';
import type { AnchorEntityType } from '../../../lib/online-features/keys.ts';
import { scriptedPool } from '../../support/scripted-pool.ts';

/**
 * The Postgres adapter's statements and parsing, against a scripted pool (the SQL itself runs in
 * test/integration/online-features/): exact decimal parameters, unnest columns in one statement per table, rows
 * parsed back to bigint, the first event bounded by T, only entity names in the SQL text.
 */

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
    // Written once, before COMMIT, table by table.
    expect(calls.map((c) => c.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'BEGIN',
      'INSERT INTO ofp_feature_buckets',
      'INSERT INTO ofp_feature_events',
      'COMMIT',
    ]);
    // One merged upsert in key order from one array per column (unnest): count 1 and the exact decimal amount.
    const [buckets] = sqlOf('ofp_feature_buckets');
    expect(buckets?.sql).toMatch(
      /SELECT \* FROM unnest\(\$1::text\[\], .*\$6::bigint\[\], \$7::bigint\[\], \$8::numeric\[\]\)/,
    );
    expect(buckets?.sql).toMatch(
      /DO UPDATE SET event_count = ofp_feature_buckets.event_count \+ EXCLUDED.event_count/,
    );
    expect(buckets?.params).toEqual([
      ['ofp.v0::run', 'ofp.v0::run'],
      [SCOPE.platform_run_id, SCOPE.platform_run_id],
      [SCOPE.scenario_run_id, SCOPE.scenario_run_id],
      ['account_id', 'device_id'],
      ['8000000000000000001', '21'],
      ['1772931600000000', '1772931600000000'],
      [1, 1],
      ['18446744073709551615', '18446744073709551615'],
    ]);
    // Event rows are insert-once: exact decimals, nothing updated on conflict.
    const [events] = sqlOf('ofp_feature_events');
    expect(events?.sql).toMatch(/ON CONFLICT \(.*event_id\) DO NOTHING/);
    expect(events?.params).toEqual([
      ['ofp.v0::run', 'ofp.v0::run'],
      [SCOPE.platform_run_id, SCOPE.platform_run_id],
      [SCOPE.scenario_run_id, SCOPE.scenario_run_id],
      ['account_id', 'device_id'],
      ['8000000000000000001', '21'],
      ['1772931600000001', '1772931600000001'],
      ['e-1', 'e-1'],
      ['18446744073709551615', '18446744073709551615'],
    ]);
  });

  it('an anchor’s entity row names its flow and the six entities, absent ones null; a throwing transaction writes nothing', async () => {
    const sighting = {
      scope: SCOPE,
      event_id: 'anchor-1',
      event_ts_micros: 5n,
      flow_id: '9001',
      entities: { account_id: '8', merchant_id: '18446744073709551000' },
    };
    const { pool, calls, sqlOf } = scriptedPool();
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    await expect(
      store.inTransaction(async (t) => {
        await t.addEntitySighting(sighting);
        throw new Error('after the write');
      }),
    ).rejects.toThrow('after the write');
    expect(calls.map((c) => c.sql)).toEqual(['BEGIN', 'ROLLBACK']);
    await store.inTransaction((t) => t.addEntitySighting(sighting));
    const [row] = sqlOf('ofp_entity_sightings');
    expect(row?.sql).toMatch(
      /event_ts_micros, flow_id, party_id, account_id, instrument_id, device_id, ip_id, merchant_id/,
    );
    expect(row?.params).toEqual([
      ['ofp.v0::run'],
      [SCOPE.platform_run_id],
      [SCOPE.scenario_run_id],
      ['anchor-1'],
      ['5'],
      ['9001'],
      [null],
      ['8'],
      [null],
      [null],
      [null],
      ['18446744073709551000'],
    ]);
    expect(calls.at(-1)?.sql).toBe('COMMIT');
  });

  it('offsets, events, mismatches, checkpoints and counters', async () => {
    const ebRef = { topic: 't', partition: 1, offset: '9', offset_kind: 'kinesis_sequence' as const };
    const { pool, sqlOf } = scriptedPool((sql) => {
      // The offset is stored already; the event is not.
      if (sql.includes('FROM ofp_applied_events'))
        return {
          rows: [
            {
              stream_id: 'ofp.v0::run',
              topic: 't',
              partition_id: 1,
              offset_kind: 'kinesis_sequence',
              offset: '9',
              event_id: 'e-1',
            },
          ],
        };
      if (sql.includes('INSERT INTO ofp_semantic_dedupe')) return { rowCount: 1 };
      if (sql.includes('FROM ofp_checkpoints'))
        return {
          rows: [
            {
              stream_id: 'ofp.v0::run',
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
    // The new event's row, inserted expecting no conflict; no offset row (it was stored).
    expect(sqlOf('INSERT INTO ofp_semantic_dedupe')[0]?.sql).toMatch(/ON CONFLICT DO NOTHING RETURNING 1/);
    expect(sqlOf('INSERT INTO ofp_applied_events')).toEqual([]);
    // The mismatch row names the hash the transaction holds for the event (stored, or about to be) and the incoming.
    expect(sqlOf('INSERT INTO ofp_payload_mismatches')[0]?.params.slice(-2)).toEqual([
      'a'.repeat(64),
      'b'.repeat(64),
    ]);
    expect(sqlOf('INSERT INTO ofp_checkpoints')[0]?.params).toEqual([
      ['ofp.v0::run'],
      ['t'],
      [1],
      ['9'],
      ['kinesis_sequence'],
      [null],
    ]);
    // One multi-row upsert: each name once, in key order, by 1.
    expect(sqlOf('INSERT INTO ofp_metrics')[0]?.params).toEqual([
      'ofp.v0::run',
      'duplicates',
      1,
      'ofp.v0::run',
      'events_seen',
      1,
    ]);
  });

  it('a new offset is inserted expecting no conflict; another transaction’s row meanwhile is ConcurrentInsert (40001)', async () => {
    const ebRef = { topic: 't', partition: 2, offset: '10', offset_kind: 'kinesis_sequence' as const };
    const { pool, sqlOf } = scriptedPool((sql) =>
      sql.includes('INSERT INTO ofp_applied_events') ? { rowCount: 0 } : {},
    );
    const store = postgresOnlineFeatureStore(pool, 'ofp.v0::run');
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const running = store
        .inTransaction((t) => t.registerOffset(ebRef, 'e-2'))
        .catch((error: unknown) => error);
      await vi.runAllTimersAsync();
      // Run again a few times (the other row would then be loaded); still conflicting, the error reaches the caller.
      expect(await running).toMatchObject({ code: '40001' });
    } finally {
      vi.useRealTimers();
    }
    expect(sqlOf('INSERT INTO ofp_applied_events')[0]?.params).toEqual([
      ['ofp.v0::run'],
      ['t'],
      [2],
      ['kinesis_sequence'],
      ['10'],
      ['e-2'],
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
