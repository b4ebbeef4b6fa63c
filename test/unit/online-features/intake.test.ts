import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { applyTrafficBatch, applyTrafficRecord, TRAFFIC_TOPIC } from '../../../lib/online-features/intake.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { DEFAULT_FEATURE_POLICY } from '../../../lib/online-features/windows.ts';
import { FLOW, featuresRequest, flowKey, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { inMemoryOnlineFeatureStore } from './in-memory-online-feature-store.ts';

const AS_OF = '2026-03-08T02:00:00.000000Z';

async function snapshotOf(store: ReturnType<typeof inMemoryOnlineFeatureStore>, keys = [flowKey()]) {
  const answer = await getFeatures(store, featuresRequest(AS_OF, keys), DEFAULT_FEATURE_POLICY);
  if (answer.status !== 'OK') throw new Error(`expected a snapshot: ${canonicalJson(answer)}`);
  return answer.snapshot;
}

describe('online features intake: skips are counted and advance', () => {
  const cases: [string, () => ReturnType<typeof trafficRecord>][] = [
    ['invalid_envelope', () => ({ ...trafficRecord(), envelope: { hello: 1 } })],
    ['invalid_envelope', () => trafficRecord({ envelope: { ts_utc: '2026-03-08' } })],
    ['invalid_pins', () => trafficRecord({ envelope: { parameter_hash: undefined } })],
    ['invalid_pins', () => trafficRecord({ envelope: { platform_run_id: undefined } })],
    [
      'run_scope_mismatch',
      () => trafficRecord({ envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
    ],
    ['ignored_event_type', () => trafficRecord({ envelope: { event_type: 'decision_response' } })],
    ['ignored_event_type', () => trafficRecord({ envelope: { event_type: 'action_outcome' } })],
  ];

  it.each(cases)('%s: counted (also per topic), the checkpoint advanced, no state', async (reason, make) => {
    const store = inMemoryOnlineFeatureStore();
    const record = make();
    expect(await applyTrafficRecord(store, record, SETTINGS)).toMatchObject({ status: 'SKIPPED', reason });
    expect(await store.metrics()).toMatchObject({
      [reason]: 1,
      [`${reason}|topic=${TRAFFIC_TOPIC}`]: 1,
      events_seen: 1,
    });
    expect((await store.checkpoints())[0]?.next_offset).toBe(record.offset);
    expect(store.tables().buckets.size).toBe(0);
  });
});

describe('online features intake: dedupe', () => {
  it('a redelivered offset is a duplicate and changes no state', async () => {
    const store = inMemoryOnlineFeatureStore();
    const record = trafficRecord();
    expect(await applyTrafficRecord(store, record, SETTINGS)).toMatchObject({ status: 'APPLIED' });
    const before = await snapshotOf(store);
    expect(await applyTrafficRecord(store, record, SETTINGS)).toEqual({
      status: 'DUPLICATE',
      event_id: record.envelope.event_id,
      basis: 'offset',
    });
    expect(await snapshotOf(store)).toEqual(before);
    expect(await store.metrics()).toMatchObject({ events_applied: 1, duplicates: 1, events_seen: 2 });
  });

  it('the same event at another offset: same hash a duplicate, another hash a mismatch row, state unchanged', async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyTrafficRecord(store, trafficRecord({ eventId: 'e1' }), SETTINGS);
    const before = await snapshotOf(store);
    expect(await applyTrafficRecord(store, trafficRecord({ eventId: 'e1' }), SETTINGS)).toMatchObject({
      status: 'DUPLICATE',
      basis: 'semantic',
    });
    const changed = trafficRecord({ eventId: 'e1', amount: 99 });
    expect(await applyTrafficRecord(store, changed, SETTINGS)).toEqual({
      status: 'PAYLOAD_HASH_MISMATCH',
      event_id: 'e1',
    });
    // The features are unchanged; only the offset basis moved on (the records were accounted for).
    expect((await snapshotOf(store)).features).toEqual(before.features);
    expect(await store.metrics()).toMatchObject({
      duplicates: 1,
      payload_hash_mismatch: 1,
      events_applied: 1,
    });
    const [mismatch] = store.tables().mismatches.values();
    expect(mismatch?.stored).toMatch(/^[0-9a-f]{64}$/);
    expect(mismatch?.incoming).not.toBe(mismatch?.stored);
    expect((await store.checkpoints())[0]?.next_offset).toBe(changed.offset);
  });
});

describe('online features intake: keys', () => {
  it('keys by flow_id (exact 64-bit), else event_id, plus the entity ids a payload carries', async () => {
    const store = inMemoryOnlineFeatureStore();
    const withEntities = trafficRecord({
      payload: { flow_id: FLOW, amount: 3, account_id: 18_446_744_073_709_551_000n, device_id: 'd-1' },
    });
    expect(await applyTrafficRecord(store, withEntities, SETTINGS)).toMatchObject({
      keys: [
        { key_type: 'flow_id', key_id: '9000000000000000001' },
        { key_type: 'account_id', key_id: '18446744073709551000' },
        { key_type: 'device_id', key_id: 'd-1' },
      ],
    });
    const noFlow = trafficRecord({ eventId: 'no-flow', payload: { amount: 1 } });
    expect(await applyTrafficRecord(store, noFlow, SETTINGS)).toMatchObject({
      keys: [{ key_type: 'event_id', key_id: 'no-flow' }],
    });
    const snapshot = await snapshotOf(store, [
      { key_type: 'account_id', key_id: '18446744073709551000' },
      { key_type: 'event_id', key_id: 'no-flow' },
    ]);
    expect(snapshot.features['account_id:18446744073709551000']).toMatchObject({ event_count: 1 });
    expect(snapshot.features['event_id:no-flow']).toMatchObject({ event_count: 1 });
  });
});

describe('online features never read the truth columns', () => {
  it('events with fraud_flag and campaign_id scrambled give byte-identical snapshots', async () => {
    const times = ['00:10:00.000001', '01:00:00.000000', '01:30:59.999999', '01:59:59.000000'];
    const build = async (scramble: boolean) => {
      const store = inMemoryOnlineFeatureStore();
      const records = times.map((t, i) =>
        trafficRecord({
          eventId: `truth-${i}`,
          offset: String(5000 + i),
          amount: 10 + i,
          tsUtc: `2026-03-08T${t}Z`,
          fraudFlag: scramble ? i % 2 === 0 : false,
          campaignId: scramble ? `campaign-${(i * 7) % 3}` : null,
        }),
      );
      await applyTrafficBatch(store, records, SETTINGS);
      return canonicalJson(await snapshotOf(store));
    };
    const [plain, scrambled] = [await build(false), await build(true)];
    expect(scrambled).toBe(plain);
    expect(JSON.parse(plain).features[`flow_id:${FLOW}`].event_count).toBe(4);
  });
});

describe('online features are independent of arrival order', () => {
  it('any shuffle of the same records (duplicates included) gives the same snapshot', async () => {
    const base = Date.UTC(2026, 2, 8, 0, 0, 0);
    const events = fc.array(
      fc.record({
        offsetMinutes: fc.integer({ min: 0, max: 8 * 24 * 60 }),
        micros: fc.integer({ min: 0, max: 59_999_999 }),
        amount: fc.integer({ min: 0, max: 100_000 }).map((cents) => cents / 100),
        flow: fc.constantFrom(1n, 2n),
        partition: fc.integer({ min: 0, max: 2 }),
      }),
      { minLength: 1, maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(events, fc.integer(), async (drawn, seed) => {
        const records = drawn.map((e, i) => {
          const seconds = new Date(base + e.offsetMinutes * 60_000).toISOString().slice(0, 19);
          const tsUtc = `${seconds}.${String(e.micros % 1_000_000).padStart(6, '0')}Z`;
          return trafficRecord({
            eventId: `ev-${i}`,
            offset: String(10_000 + i),
            partition: e.partition,
            tsUtc,
            amount: e.amount,
            flowId: e.flow,
          });
        });
        const withRedelivery = [...records, ...records.slice(0, 3)];
        const shuffled = fc.sample(
          fc.shuffledSubarray(withRedelivery, { minLength: withRedelivery.length }),
          {
            seed,
            numRuns: 1,
          },
        )[0] as typeof records;
        const keys = [flowKey(1n), flowKey(2n)];
        const [inOrder, reordered] = [inMemoryOnlineFeatureStore(), inMemoryOnlineFeatureStore()];
        await applyTrafficBatch(inOrder, withRedelivery, SETTINGS);
        await applyTrafficBatch(reordered, shuffled, SETTINGS);
        for (const asOf of ['2026-03-08T12:00:00.000000Z', '2026-03-16T00:00:00.000000Z']) {
          const request = featuresRequest(asOf, keys);
          const [a, b] = [
            await getFeatures(inOrder, request, DEFAULT_FEATURE_POLICY),
            await getFeatures(reordered, request, DEFAULT_FEATURE_POLICY),
          ];
          expect(canonicalJson(b)).toBe(canonicalJson(a));
        }
      }),
      { numRuns: 60 },
    );
  });
});
