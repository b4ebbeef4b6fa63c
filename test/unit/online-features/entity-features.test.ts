import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { FeatureKey } from '../../../lib/contracts/online-features.ts';
import {
  applyOnlineFeatureBatch,
  FLOW_ANCHOR_TOPIC,
  TRAFFIC_TOPIC,
} from '../../../lib/online-features/intake.ts';
import { getFeatures, offsetBasisOf } from '../../../lib/online-features/snapshot.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { featuresRequest, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { ANCHOR_ENTITIES, anchorRecord, entityKey } from './anchor-records.ts';
import { inMemoryOnlineFeatureStore } from './in-memory-online-feature-store.ts';

const POLICY = loadFeaturePolicy();
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

/** Anchors of one account and instrument at known event times, each with its device and merchant. */
const ANCHORS = [
  ['2026-03-08T09:00:00.000000Z', 21, 101, 10],
  ['2026-03-08T09:05:00.000000Z', 22, 102, 5],
  ['2026-03-08T09:20:00.000000Z', 21, 101, 1],
  ['2026-03-08T09:59:59.999999Z', 23, 103, 2.5],
] as const;

async function loaded() {
  const store = inMemoryOnlineFeatureStore();
  const records = ANCHORS.map(([tsUtc, device, merchant, amount], i) =>
    anchorRecord({
      eventId: `anchor-${i}`,
      tsUtc,
      amount,
      entities: { device_id: device, merchant_id: merchant },
    }),
  );
  // Arrival order is not event order.
  await applyOnlineFeatureBatch(store, [...records].reverse(), SETTINGS);
  return store;
}

async function featuresAt(
  store: ReturnType<typeof inMemoryOnlineFeatureStore>,
  asOf: string,
  key: FeatureKey,
) {
  const answer = await getFeatures(store, featuresRequest(asOf, [key], BOTH_GROUPS), POLICY);
  if (answer.status !== 'OK') throw new Error(`expected a snapshot: ${canonicalJson(answer)}`);
  return answer.snapshot.features[`${key.key_type}:${key.key_id}`];
}

describe('per-entity features from flow anchors', () => {
  it('an account: counts and sums per window, distinct devices and ips, first-seen age, as of T', async () => {
    const store = await loaded();
    expect(canonicalJson(await featuresAt(store, '2026-03-08T09:20:00.000000Z', ACCOUNT))).toBe(
      canonicalJson({
        event_count: 3,
        amount_sum: 16,
        last_event_ts_utc: '2026-03-08T09:20:00.000000Z',
        event_count_10m: 1,
        amount_sum_10m: 1,
        event_count_1h: 3,
        amount_sum_1h: 16,
        event_count_24h: 3,
        amount_sum_24h: 16,
        event_count_7d: 3,
        amount_sum_7d: 16,
        first_seen_age_seconds: 1200,
        distinct_device_id_10m: 1,
        distinct_device_id_1h: 2,
        distinct_device_id_24h: 2,
        distinct_device_id_7d: 2,
        distinct_ip_id_10m: 1,
        distinct_ip_id_1h: 1,
        distinct_ip_id_24h: 1,
        distinct_ip_id_7d: 1,
        distinct_instrument_id_10m: 1,
        distinct_instrument_id_1h: 1,
        distinct_instrument_id_24h: 1,
        distinct_instrument_id_7d: 1,
      }).replace(/"(amount_sum\w*|first_seen_age_seconds)":([0-9]+)/g, '"$1":$2.0'),
    );
  });

  it('distinct merchants per instrument rise and fall back as anchors leave the window', async () => {
    const store = await loaded();
    const distinct = async (asOf: string) => {
      const f = await featuresAt(store, asOf, INSTRUMENT);
      return [f?.distinct_merchant_id_10m, f?.distinct_merchant_id_1h];
    };
    expect(await distinct('2026-03-08T09:00:00.000000Z')).toEqual([1, 1]);
    expect(await distinct('2026-03-08T09:05:00.000000Z')).toEqual([2, 2]);
    // 101 again: still two merchants in the hour, one in the last ten minutes.
    expect(await distinct('2026-03-08T09:20:00.000000Z')).toEqual([1, 2]);
    expect(await distinct('2026-03-08T09:59:59.999999Z')).toEqual([1, 3]);
    // The 09:00 anchor is exactly 1 h old: out, yet 101 is still there (09:20).
    expect(await distinct('2026-03-08T10:00:00.000000Z')).toEqual([1, 3]);
    expect(await distinct('2026-03-08T10:10:00.000000Z')).toEqual([0, 2]);
    expect(await distinct('2026-03-08T11:00:00.000000Z')).toEqual([0, 0]);
  });

  it('first-seen age of a device for an account: new at its first anchor, older after, unknown before', async () => {
    const store = await loaded();
    expect(await featuresAt(store, '2026-03-08T09:04:59.999999Z', accountDevice(22))).toBeUndefined();
    expect(await featuresAt(store, '2026-03-08T09:05:00.000000Z', accountDevice(22))).toMatchObject({
      event_count: 1,
    });
    const ageOf = async (asOf: string, device: number) =>
      canonicalJson((await featuresAt(store, asOf, accountDevice(device)))?.first_seen_age_seconds);
    expect(await ageOf('2026-03-08T09:05:00.000000Z', 22)).toBe('0.0');
    expect(await ageOf('2026-03-08T09:20:00.000000Z', 21)).toBe('1200.0');
    expect(await ageOf('2026-03-08T10:00:00.000000Z', 23)).toBe('1e-06');
    const ip = { key_type: 'account_ip', key_id: `${ANCHOR_ENTITIES.account_id}|${ANCHOR_ENTITIES.ip_id}` };
    expect((await featuresAt(store, '2026-03-08T09:30:00.000000Z', ip))?.event_count).toBe(3);
  });

  it('as_of excludes later anchors from every family', async () => {
    const store = await loaded();
    const f = await featuresAt(store, '2026-03-08T09:04:59.999999Z', ACCOUNT);
    expect(f).toMatchObject({
      event_count: 1,
      distinct_device_id_7d: 1,
      last_event_ts_utc: '2026-03-08T09:00:00.000000Z',
    });
    expect(canonicalJson(f?.first_seen_age_seconds)).toBe('299.999999');
  });

  it('a group answers only the key types it lists: a merchant has totals but no velocity', async () => {
    const store = await loaded();
    const merchant = await featuresAt(store, '2026-03-08T10:00:00.000000Z', entityKey('merchant_id', 101));
    expect(merchant).toMatchObject({ event_count: 2 });
    expect(Object.keys(merchant ?? {}).some((name) => name.startsWith('distinct_'))).toBe(false);
    const velocityOnly = await getFeatures(
      store,
      featuresRequest('2026-03-08T10:00:00.000000Z', [ACCOUNT], {
        feature_groups: [{ name: 'velocity', version: 'v1' }],
      }),
      POLICY,
    );
    expect(
      velocityOnly.status === 'OK' &&
        Object.keys(velocityOnly.snapshot.features[`account_id:${ANCHOR_ENTITIES.account_id}`] ?? {}),
    ).toEqual([
      'distinct_device_id_10m',
      'distinct_device_id_1h',
      'distinct_device_id_24h',
      'distinct_device_id_7d',
      'distinct_ip_id_10m',
      'distinct_ip_id_1h',
      'distinct_ip_id_24h',
      'distinct_ip_id_7d',
      'distinct_instrument_id_10m',
      'distinct_instrument_id_1h',
      'distinct_instrument_id_24h',
      'distinct_instrument_id_7d',
    ]);
  });
});

describe('the offset basis over both topics', () => {
  it('names each offset topic and ends the window where the slower topic is', async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyOnlineFeatureBatch(
      store,
      [
        trafficRecord({ tsUtc: '2026-03-08T09:00:00.000000Z', partition: 1, offset: '7' }),
        anchorRecord({ tsUtc: '2026-03-08T09:30:00.000000Z', offset: '8' }),
      ],
      SETTINGS,
    );
    const basis = offsetBasisOf(await store.checkpoints());
    expect(basis).toMatchObject({
      stream: `${FLOW_ANCHOR_TOPIC},${TRAFFIC_TOPIC}`,
      offsets: [
        { topic: FLOW_ANCHOR_TOPIC, partition: 0, offset: '8' },
        { topic: TRAFFIC_TOPIC, partition: 1, offset: '7' },
      ],
      window_end_utc: '2026-03-08T09:00:00.000000Z',
    });
    expect(offsetBasisOf([])).toMatchObject({
      stream: '',
      offsets: [],
      window_end_utc: null,
      offset_kind: null,
    });
  });
});
