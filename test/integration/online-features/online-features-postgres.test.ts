import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresOnlineFeatureStore } from '../../../lib/adapters/online-features-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { applyTrafficBatch, applyTrafficRecord } from '../../../lib/online-features/intake.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { DEFAULT_FEATURE_POLICY } from '../../../lib/online-features/windows.ts';
import { FLOW, featuresRequest, flowKey, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { inMemoryOnlineFeatureStore } from '../../unit/online-features/in-memory-online-feature-store.ts';

/** The Online Feature Plane core on the shared local cloud's Postgres (migration 0010), one stream id per test. */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 6 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const freshStore = () =>
  postgresOnlineFeatureStore(pool, `ofp.v0::${SETTINGS.requiredPlatformRunId}::test-${randomUUID()}`);
const KEY = flowKey();

async function count(table: string, streamId: string): Promise<number> {
  const res = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE stream_id = $1`, [
    streamId,
  ]);
  return Number(res.rows[0]?.n);
}

async function features(store: ReturnType<typeof freshStore>, asOf: string) {
  const answer = await getFeatures(store, featuresRequest(asOf, [KEY]), DEFAULT_FEATURE_POLICY);
  if (answer.status !== 'OK') throw new Error(`expected a snapshot: ${canonicalJson(answer)}`);
  return answer.snapshot;
}

/** Hand-made events at known event times, in a shuffled arrival order and over two partitions. */
const HAND_MADE = [
  ['2026-03-08T09:05:00.000000Z', 2.25],
  ['2026-03-08T09:00:00.000000Z', 10.5],
  ['2026-03-08T09:59:59.999999Z', 1],
  ['2026-03-07T09:00:00.000000Z', 100],
  ['2026-03-08T08:00:00.000000Z', 7],
] as const;
const handMade = () =>
  HAND_MADE.map(([tsUtc, amount], i) =>
    trafficRecord({ eventId: `hand-${i}`, tsUtc, amount, partition: i % 2, offset: String(7000 + i) }),
  );

describe('online features on Postgres', () => {
  it('10 min and 1 h counts rise and fall back in event time; as_of excludes later events', async () => {
    const store = freshStore();
    await applyTrafficBatch(store, handMade(), SETTINGS);
    const at = async (asOf: string) => {
      const f = (await features(store, asOf)).features[`flow_id:${FLOW}`];
      return [f?.event_count_10m, f?.event_count_1h, f?.event_count];
    };
    expect(await at('2026-03-08T08:59:59.999999Z')).toEqual([0, 1, 2]);
    expect(await at('2026-03-08T09:00:00.000000Z')).toEqual([1, 1, 3]);
    expect(await at('2026-03-08T09:05:00.000000Z')).toEqual([2, 2, 4]);
    expect(await at('2026-03-08T09:10:00.000000Z')).toEqual([1, 2, 4]);
    expect(await at('2026-03-08T09:59:59.999999Z')).toEqual([1, 3, 5]);
    expect(await at('2026-03-08T10:00:00.000000Z')).toEqual([1, 2, 5]);
    expect(await at('2026-03-08T10:10:00.000000Z')).toEqual([0, 1, 5]);
    const last = (await features(store, '2026-03-08T09:30:00.000000Z')).features[`flow_id:${FLOW}`];
    expect(last?.last_event_ts_utc).toBe('2026-03-08T09:05:00.000000Z');
  });

  it('answers byte-identical snapshots to the in-memory store', async () => {
    const store = freshStore();
    const memory = inMemoryOnlineFeatureStore();
    const records = handMade();
    await applyTrafficBatch(store, records, SETTINGS);
    await applyTrafficBatch(memory, [...records].reverse(), SETTINGS);
    for (const asOf of ['2026-03-08T09:07:30.500000Z', '2026-03-15T00:00:00.000000Z']) {
      const request = featuresRequest(asOf, [KEY, flowKey(404n)], {
        graph_resolution_mode: 'resolve_if_needed',
      });
      expect(canonicalJson(await getFeatures(store, request, DEFAULT_FEATURE_POLICY))).toBe(
        canonicalJson(await getFeatures(memory, request, DEFAULT_FEATURE_POLICY)),
      );
    }
  });

  it('records applied at the same time on two shards all count (bucket increments serialise)', async () => {
    const store = freshStore();
    const records = Array.from({ length: 12 }, (_, i) =>
      trafficRecord({
        eventId: `parallel-${i}`,
        tsUtc: `2026-03-08T09:00:${String(i).padStart(2, '0')}.000000Z`,
        amount: 1.5,
        partition: i % 2,
      }),
    );
    await Promise.all(records.map((r) => applyTrafficRecord(store, r, SETTINGS)));
    const f = (await features(store, '2026-03-08T09:01:00.000000Z')).features[`flow_id:${FLOW}`];
    expect(canonicalJson({ n: f?.event_count_1h, sum: f?.amount_sum_1h })).toBe('{"n":12,"sum":18.0}');
    expect(await store.metrics()).toMatchObject({ events_applied: 12, events_seen: 12 });
  });

  it('a redelivery changes nothing; a payload mismatch is an anomaly row and state is unchanged', async () => {
    const store = freshStore();
    const record = trafficRecord({ eventId: 'again', tsUtc: '2026-03-08T09:00:00.000000Z' });
    await applyTrafficRecord(store, record, SETTINGS);
    const before = await features(store, '2026-03-08T09:30:00.000000Z');
    expect(await applyTrafficRecord(store, record, SETTINGS)).toMatchObject({
      status: 'DUPLICATE',
      basis: 'offset',
    });
    const changed = trafficRecord({ eventId: 'again', tsUtc: '2026-03-08T09:00:00.000000Z', amount: 99 });
    expect(await applyTrafficRecord(store, changed, SETTINGS)).toMatchObject({
      status: 'PAYLOAD_HASH_MISMATCH',
    });
    expect((await features(store, '2026-03-08T09:30:00.000000Z')).features).toEqual(before.features);
    const mismatch = await pool.query<{ stored_payload_hash: string; incoming_payload_hash: string }>(
      'SELECT stored_payload_hash, incoming_payload_hash FROM ofp_payload_mismatches WHERE stream_id = $1',
      [store.streamId],
    );
    expect(mismatch.rows).toHaveLength(1);
    expect(mismatch.rows[0]?.stored_payload_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(mismatch.rows[0]?.stored_payload_hash).not.toBe(mismatch.rows[0]?.incoming_payload_hash);
    expect(await count('ofp_feature_events', store.streamId)).toBe(1);
    expect(await store.metrics()).toMatchObject({
      duplicates: 1,
      payload_hash_mismatch: 1,
      events_applied: 1,
    });
    expect((await store.checkpoints())[0]?.next_offset).toBe(changed.offset);
  });

  it('another run is skipped and counted; NOT_FOUND before any state', async () => {
    const store = freshStore();
    const other = trafficRecord({ envelope: { platform_run_id: 'platform_20260303T000000Z' } });
    expect(await applyTrafficRecord(store, other, SETTINGS)).toMatchObject({
      status: 'SKIPPED',
      reason: 'run_scope_mismatch',
    });
    expect(await store.metrics()).toMatchObject({ run_scope_mismatch: 1 });
    expect(await count('ofp_feature_buckets', store.streamId)).toBe(0);
    expect(
      await getFeatures(store, featuresRequest('2026-03-08T09:00:00.000000Z', [KEY]), DEFAULT_FEATURE_POLICY),
    ).toMatchObject({ status: 'ERROR', error: { code: 'NOT_FOUND' } });
  });
});
