import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresOnlineFeatureStore } from '../../../lib/adapters/online-features-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { FeatureKey } from '../../../lib/contracts/online-features.ts';
import {
  applyOnlineFeatureBatch as applyTrafficBatch,
  applyOnlineFeatureRecord as applyTrafficRecord,
} from '../../../lib/online-features/intake.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { FLOW, featuresRequest, flowKey, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { ANCHOR_ENTITIES, anchorRecord, entityKey } from '../../unit/online-features/anchor-records.ts';
import { inMemoryOnlineFeatureStore } from '../../unit/online-features/in-memory-online-feature-store.ts';

/**
 * The Online Feature Plane core on the shared local cloud's Postgres (migrations 0010, 0011), one stream id per
 * test: flows from traffic, entities from flow anchors.
 */

const DEFAULT_FEATURE_POLICY = loadFeaturePolicy();

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

describe('per-entity features from flow anchors on Postgres', () => {
  const BOTH_GROUPS = {
    feature_groups: [
      { name: 'core_features', version: 'v1' },
      { name: 'velocity', version: 'v1' },
    ],
  };
  const ACCOUNT = entityKey('account_id');
  const INSTRUMENT = entityKey('instrument_id');
  const accountDevice = (device: number) => ({
    key_type: 'account_device',
    key_id: `${ANCHOR_ENTITIES.account_id}|${device}`,
  });
  /** Anchors of one account and instrument: event time, device, merchant, amount. */
  const ANCHORS = [
    ['2026-03-08T09:00:00.000000Z', 21, 101, 10],
    ['2026-03-08T09:05:00.000000Z', 22, 102, 5],
    ['2026-03-08T09:20:00.000000Z', 21, 101, 1],
    ['2026-03-08T09:59:59.999999Z', 23, 103, 2.5],
    ['2026-03-08T11:00:00.000000Z', 24, 104, 4],
  ] as const;
  const anchors = () =>
    ANCHORS.map(([tsUtc, device, merchant, amount], i) =>
      anchorRecord({
        eventId: `pg-anchor-${i}`,
        tsUtc,
        amount,
        partition: i % 2,
        entities: { device_id: device, merchant_id: merchant },
      }),
    );

  async function featuresOf(store: ReturnType<typeof freshStore>, asOf: string, key: FeatureKey) {
    const answer = await getFeatures(
      store,
      featuresRequest(asOf, [key], BOTH_GROUPS),
      DEFAULT_FEATURE_POLICY,
    );
    if (answer.status !== 'OK') throw new Error(`expected a snapshot: ${canonicalJson(answer)}`);
    return answer.snapshot.features[`${key.key_type}:${key.key_id}`];
  }

  it('10 min and 1 h counts and distinct merchants rise and fall back; first-seen age; as_of excludes later', async () => {
    const store = freshStore();
    // Arrival order is not event order; the later anchors arrive first.
    await applyTrafficBatch(store, [...anchors()].reverse(), SETTINGS);
    const account = async (asOf: string) => {
      const f = await featuresOf(store, asOf, ACCOUNT);
      return [f?.event_count_10m, f?.event_count_1h, f?.event_count, f?.distinct_device_id_1h];
    };
    expect(await account('2026-03-08T08:59:59.999999Z')).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(await account('2026-03-08T09:00:00.000000Z')).toEqual([1, 1, 1, 1]);
    expect(await account('2026-03-08T09:05:00.000000Z')).toEqual([2, 2, 2, 2]);
    expect(await account('2026-03-08T09:14:59.999999Z')).toEqual([1, 2, 2, 2]);
    expect(await account('2026-03-08T09:20:00.000000Z')).toEqual([1, 3, 3, 2]);
    expect(await account('2026-03-08T09:59:59.999999Z')).toEqual([1, 4, 4, 3]);
    expect(await account('2026-03-08T10:00:00.000000Z')).toEqual([1, 3, 4, 3]);
    expect(await account('2026-03-08T10:30:00.000000Z')).toEqual([0, 1, 4, 1]);
    expect(await account('2026-03-08T10:59:59.999999Z')).toEqual([0, 0, 4, 0]);
    expect(await account('2026-03-08T11:00:00.000000Z')).toEqual([1, 1, 5, 1]);

    const merchants = async (asOf: string) => {
      const f = await featuresOf(store, asOf, INSTRUMENT);
      return [f?.distinct_merchant_id_10m, f?.distinct_merchant_id_1h, f?.distinct_merchant_id_24h];
    };
    expect(await merchants('2026-03-08T09:20:00.000000Z')).toEqual([1, 2, 2]);
    expect(await merchants('2026-03-08T10:00:00.000000Z')).toEqual([1, 3, 3]);
    expect(await merchants('2026-03-08T10:10:00.000000Z')).toEqual([0, 2, 3]);
    expect(await merchants('2026-03-08T11:00:00.000000Z')).toEqual([1, 1, 4]);

    const age = async (asOf: string, key: FeatureKey) =>
      canonicalJson((await featuresOf(store, asOf, key))?.first_seen_age_seconds ?? null);
    expect(await age('2026-03-08T09:04:59.999999Z', accountDevice(22))).toBe('null');
    expect(await age('2026-03-08T09:05:00.000000Z', accountDevice(22))).toBe('0.0');
    expect(await age('2026-03-08T09:20:00.000000Z', accountDevice(21))).toBe('1200.0');
    expect(await age('2026-03-08T11:00:00.000000Z', ACCOUNT)).toBe('7200.0');
    const before = await featuresOf(store, '2026-03-08T09:04:59.999999Z', accountDevice(21));
    expect(before).toMatchObject({ event_count: 1, last_event_ts_utc: '2026-03-08T09:00:00.000000Z' });
  });

  it('answers byte-identical snapshots to the in-memory store, flows and entities together', async () => {
    const store = freshStore();
    const memory = inMemoryOnlineFeatureStore();
    const records = [...handMade(), ...anchors()];
    await applyTrafficBatch(store, records, SETTINGS);
    await applyTrafficBatch(memory, [...records].reverse(), SETTINGS);
    const keys = [
      KEY,
      ACCOUNT,
      INSTRUMENT,
      entityKey('merchant_id', 101),
      entityKey('ip_id'),
      accountDevice(21),
      { key_type: 'account_ip', key_id: `${ANCHOR_ENTITIES.account_id}|${ANCHOR_ENTITIES.ip_id}` },
    ];
    for (const asOf of [
      '2026-03-08T09:07:30.500000Z',
      '2026-03-08T10:00:00.000000Z',
      '2026-03-15T00:00:00.000000Z',
    ]) {
      const request = featuresRequest(asOf, keys, BOTH_GROUPS);
      expect(canonicalJson(await getFeatures(store, request, DEFAULT_FEATURE_POLICY))).toBe(
        canonicalJson(await getFeatures(memory, request, DEFAULT_FEATURE_POLICY)),
      );
    }
  });

  it('anchors sharing entities applied at once on two shards all count, once each on a redelivery', async () => {
    const store = freshStore();
    const records = Array.from({ length: 12 }, (_, i) =>
      anchorRecord({
        eventId: `parallel-anchor-${i}`,
        tsUtc: `2026-03-08T09:00:${String(i).padStart(2, '0')}.000000Z`,
        amount: 1.5,
        partition: i % 2,
        entities: { merchant_id: 200 + (i % 3), device_id: 30 + (i % 4) },
      }),
    );
    await Promise.all(records.map((r) => applyTrafficRecord(store, r, SETTINGS)));
    await Promise.all(records.slice(0, 4).map((r) => applyTrafficRecord(store, r, SETTINGS)));
    const f = await featuresOf(store, '2026-03-08T09:01:00.000000Z', ACCOUNT);
    expect(
      canonicalJson({ n: f?.event_count_10m, sum: f?.amount_sum_10m, devices: f?.distinct_device_id_10m }),
    ).toBe('{"devices":4,"n":12,"sum":18.0}');
    expect(
      (await featuresOf(store, '2026-03-08T09:01:00.000000Z', INSTRUMENT))?.distinct_merchant_id_10m,
    ).toBe(3);
    expect(await count('ofp_entity_sightings', store.streamId)).toBe(12);
    expect(await store.metrics()).toMatchObject({ events_applied: 12, duplicates: 4, events_seen: 16 });
  });
});
