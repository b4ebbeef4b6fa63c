import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { PlatformError } from '../../../lib/errors/platform-error.ts';
import { applyOnlineFeatureBatch as applyTrafficBatch } from '../../../lib/online-features/intake.ts';
import { totalsBetween } from '../../../lib/online-features/key-features.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { amountMicrosOf, BUCKET_MICROS, tsMicrosOf, tsUtcOf } from '../../../lib/online-features/windows.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { FLOW, featuresRequest, flowKey, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { inMemoryOnlineFeatureStore } from './in-memory-online-feature-store.ts';

const DEFAULT_FEATURE_POLICY = loadFeaturePolicy();
const SCOPE = { platform_run_id: SETTINGS.requiredPlatformRunId as string, scenario_run_id: '2'.repeat(32) };
const KEY = flowKey();

describe('event time arithmetic', () => {
  it('ts_utc and microseconds round-trip; amounts are integer micro-units', () => {
    expect(tsMicrosOf('1970-01-01T00:00:01.000002Z')).toBe(1_000_002n);
    expect(tsUtcOf(tsMicrosOf('2026-03-08T00:01:03.106979Z'))).toBe('2026-03-08T00:01:03.106979Z');
    expect(amountMicrosOf(12.5)).toBe(12_500_000n);
    expect(amountMicrosOf(0.1)).toBe(100_000n);
    expect(amountMicrosOf('12')).toBe(0n);
    expect(amountMicrosOf(undefined)).toBe(0n);
    expect(amountMicrosOf(7n)).toBe(7_000_000n);
  });

  it('bucketed sums over (after, atOrBefore] equal a scan of the events, at any cut', async () => {
    const base = tsMicrosOf('2026-03-08T00:00:00.000000Z');
    const span = 20n * BUCKET_MICROS;
    const offsets = fc.bigInt({ min: 0n, max: span });
    await fc.assert(
      fc.asyncProperty(
        fc.array(offsets, { minLength: 0, maxLength: 30 }),
        offsets,
        offsets,
        fc.boolean(),
        async (eventOffsets, a, b, unbounded) => {
          const store = inMemoryOnlineFeatureStore();
          const records = eventOffsets.map((o, i) =>
            trafficRecord({ eventId: `w-${i}`, tsUtc: tsUtcOf(base + o), amount: i + 1 }),
          );
          await applyTrafficBatch(store, records, SETTINGS);
          const [low, high] = a < b ? [a, b] : [b, a];
          const after = unbounded ? null : base + low;
          const atOrBefore = base + high;
          const inRange = eventOffsets
            .map((o, i) => ({ ts: base + o, amount: BigInt(i + 1) * 1_000_000n }))
            .filter((e) => (after === null || e.ts > after) && e.ts <= atOrBefore);
          expect(await totalsBetween(store, SCOPE, KEY, after, atOrBefore)).toEqual({
            event_count: inRange.length,
            amount_micros: inRange.reduce((sum, e) => sum + e.amount, 0n),
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('windows are applied in event time, as of the request', () => {
  const AS_OF = '2026-03-08T10:00:00.000000Z';
  const at = (tsUtc: string, amount: number, id: string) => trafficRecord({ eventId: id, tsUtc, amount });

  it('an event exactly 1 h old is out of the 1 h window, 1 µs younger is in, a later event is not seen', async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyTrafficBatch(
      store,
      [
        at('2026-03-08T10:00:00.000001Z', 1000, 'future'),
        at('2026-03-08T09:00:00.000000Z', 1, 'exactly-1h'),
        at('2026-03-08T09:00:00.000001Z', 2, 'just-inside-1h'),
        at('2026-03-08T09:50:00.000000Z', 4, 'exactly-10m'),
        at('2026-03-08T10:00:00.000000Z', 8, 'at-as-of'),
        at('2026-03-07T10:00:00.000000Z', 16, 'exactly-24h'),
        at('2026-03-01T10:00:00.000001Z', 32, 'just-inside-7d'),
      ],
      SETTINGS,
    );
    const answer = await getFeatures(store, featuresRequest(AS_OF, [KEY]), DEFAULT_FEATURE_POLICY);
    expect(answer.status).toBe('OK');
    if (answer.status !== 'OK') return;
    const features = answer.snapshot.features[`flow_id:${FLOW}`];
    expect(canonicalJson(features)).toBe(
      canonicalJson({
        event_count: 6,
        amount_sum: 63,
        last_event_ts_utc: AS_OF,
        event_count_10m: 1,
        amount_sum_10m: 8,
        event_count_1h: 3,
        amount_sum_1h: 14,
        event_count_24h: 4,
        amount_sum_24h: 15,
        event_count_7d: 6,
        amount_sum_7d: 63,
        first_seen_age_seconds: 604_799.999999,
      }).replace(/"amount_sum(_[0-9a-z]+)?":([0-9]+)/g, '"amount_sum$1":$2.0'),
    );
    expect(answer.snapshot.freshness).toEqual({
      state: 'GREEN',
      flags: [],
      stale_groups: [],
      missing_groups: [],
      missing_feature_keys: [],
    });
  });

  it('counts rise and fall back as events leave the window', async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyTrafficBatch(
      store,
      [at('2026-03-08T09:00:00.000000Z', 1, 'a'), at('2026-03-08T09:05:00.000000Z', 1, 'b')],
      SETTINGS,
    );
    const count10m = async (asOf: string) => {
      const answer = await getFeatures(store, featuresRequest(asOf, [KEY]), DEFAULT_FEATURE_POLICY);
      if (answer.status !== 'OK') throw new Error('expected OK');
      return answer.snapshot.features[`flow_id:${FLOW}`]?.event_count_10m ?? 'missing';
    };
    expect(await count10m('2026-03-08T08:59:59.999999Z')).toBe('missing');
    expect(await count10m('2026-03-08T09:00:00.000000Z')).toBe(1);
    expect(await count10m('2026-03-08T09:05:00.000000Z')).toBe(2);
    expect(await count10m('2026-03-08T09:10:00.000000Z')).toBe(1);
    expect(await count10m('2026-03-08T09:15:00.000000Z')).toBe(0);
  });
});

describe('get_features answers', () => {
  const loaded = async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyTrafficBatch(store, [trafficRecord({ tsUtc: '2026-03-08T09:00:00.000000Z' })], SETTINGS);
    return store;
  };

  it('snapshot_hash is sha256 of the canonical snapshot without it', async () => {
    const answer = await getFeatures(
      await loaded(),
      featuresRequest('2026-03-08T09:00:00.000000Z', [KEY]),
      DEFAULT_FEATURE_POLICY,
    );
    if (answer.status !== 'OK') throw new Error('expected OK');
    const { snapshot_hash, ...rest } = answer.snapshot;
    expect(snapshot_hash).toBe(sha256Hex(canonicalJson(rest)));
  });

  it('flags a missing key, a missing group, a stale basis and an unavailable graph', async () => {
    const answer = await getFeatures(
      await loaded(),
      featuresRequest('2026-03-08T11:00:00.000000Z', [KEY, flowKey(5n)], {
        feature_groups: [
          { name: 'core_features', version: 'v1' },
          { name: 'entity_graph', version: 'v1' },
        ],
        graph_resolution_mode: 'resolve_if_needed',
      }),
      DEFAULT_FEATURE_POLICY,
    );
    expect(answer).toMatchObject({
      status: 'OK',
      snapshot: {
        freshness: {
          state: 'AMBER',
          flags: [
            'GRAPH_VERSION_UNAVAILABLE',
            'MISSING_FEATURE_GROUP',
            'MISSING_FEATURE_STATE',
            'STALE_INPUT_BASIS',
          ],
          stale_groups: ['core_features'],
          missing_groups: ['entity_graph'],
          missing_feature_keys: ['flow_id:5'],
        },
      },
    });
  });

  it('every key missing is RED', async () => {
    const answer = await getFeatures(
      await loaded(),
      featuresRequest('2026-03-08T08:00:00.000000Z', [KEY]),
      DEFAULT_FEATURE_POLICY,
    );
    expect(answer).toMatchObject({ snapshot: { features: {}, freshness: { state: 'RED' } } });
  });

  it('INVALID_REQUEST, NOT_FOUND and UNAVAILABLE', async () => {
    const store = inMemoryOnlineFeatureStore();
    expect(
      await getFeatures(store, { request_id: 'r', as_of_time_utc: 'yesterday' }, DEFAULT_FEATURE_POLICY),
    ).toMatchObject({ status: 'ERROR', request_id: 'r', error: { code: 'INVALID_REQUEST' } });
    const request = featuresRequest('2026-03-08T09:00:00.000000Z', [KEY]);
    expect(await getFeatures(store, request, DEFAULT_FEATURE_POLICY)).toMatchObject({
      status: 'ERROR',
      error: { code: 'NOT_FOUND' },
    });
    const down = await loaded();
    down.sumBuckets = async () => {
      throw new PlatformError('OPS_DB_UNAVAILABLE', 'down', { retryable: true });
    };
    expect(await getFeatures(down, request, DEFAULT_FEATURE_POLICY)).toMatchObject({
      status: 'ERROR',
      error: { code: 'UNAVAILABLE', detail: 'OPS_DB_UNAVAILABLE' },
    });
  });
});
