import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import {
  applyOnlineFeatureBatch,
  applyOnlineFeatureRecord,
  FLOW_ANCHOR_TOPIC,
  ONLINE_FEATURE_TOPICS,
  TRAFFIC_TOPIC,
} from '../../../lib/online-features/intake.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { FLOW, featuresRequest, flowKey, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { ANCHOR_ENTITIES, anchorRecord, entityKey } from './anchor-records.ts';
import { inMemoryOnlineFeatureStore } from './in-memory-online-feature-store.ts';

const AS_OF = '2026-03-08T02:00:00.000000Z';
const POLICY = loadFeaturePolicy();
const BOTH_GROUPS = {
  feature_groups: [
    { name: 'core_features', version: 'v1' },
    { name: 'velocity', version: 'v1' },
  ],
};

async function snapshotOf(store: ReturnType<typeof inMemoryOnlineFeatureStore>, keys = [flowKey()]) {
  const answer = await getFeatures(store, featuresRequest(AS_OF, keys, BOTH_GROUPS), POLICY);
  if (answer.status !== 'OK') throw new Error(`expected a snapshot: ${canonicalJson(answer)}`);
  return answer.snapshot;
}

describe('online features consume two topics', () => {
  it('the traffic topic and the flow-anchor topic', () => {
    expect(ONLINE_FEATURE_TOPICS).toEqual(['fp.bus.traffic.fraud.v1', 'fp.bus.context.flow_anchor.fraud.v1']);
  });
});

describe('online features intake: skips are counted and advance', () => {
  type Make = () => ReturnType<typeof trafficRecord>;
  const cases: [string, string, Make][] = [
    ['invalid_envelope', TRAFFIC_TOPIC, () => ({ ...trafficRecord(), envelope: { hello: 1 } })],
    ['invalid_envelope', TRAFFIC_TOPIC, () => trafficRecord({ envelope: { ts_utc: '2026-03-08' } })],
    ['invalid_pins', TRAFFIC_TOPIC, () => trafficRecord({ envelope: { parameter_hash: undefined } })],
    ['invalid_pins', TRAFFIC_TOPIC, () => trafficRecord({ envelope: { platform_run_id: undefined } })],
    [
      'run_scope_mismatch',
      TRAFFIC_TOPIC,
      () => trafficRecord({ envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
    ],
    [
      'ignored_event_type',
      TRAFFIC_TOPIC,
      () => trafficRecord({ envelope: { event_type: 'decision_response' } }),
    ],
    [
      'ignored_event_type',
      TRAFFIC_TOPIC,
      () => trafficRecord({ envelope: { event_type: 'action_outcome' } }),
    ],
    ['invalid_envelope', FLOW_ANCHOR_TOPIC, () => anchorRecord({ envelope: { event_id: '' } })],
    ['invalid_pins', FLOW_ANCHOR_TOPIC, () => anchorRecord({ envelope: { run_id: undefined } })],
    [
      'run_scope_mismatch',
      FLOW_ANCHOR_TOPIC,
      () => anchorRecord({ envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
    ],
    [
      'ignored_event_type',
      FLOW_ANCHOR_TOPIC,
      () => anchorRecord({ envelope: { event_type: 's1_arrival_entities_6B' } }),
    ],
  ];

  it.each(cases)(
    '%s on %s: counted (also per topic), the checkpoint advanced, no state',
    async (reason, topic, make) => {
      const store = inMemoryOnlineFeatureStore();
      const record = make();
      expect(await applyOnlineFeatureRecord(store, record, SETTINGS)).toMatchObject({
        status: 'SKIPPED',
        reason,
      });
      expect(await store.metrics()).toMatchObject({
        [reason]: 1,
        [`${reason}|topic=${topic}`]: 1,
        events_seen: 1,
        [`events_seen|topic=${topic}`]: 1,
      });
      expect(await store.checkpoints()).toMatchObject([{ topic, next_offset: record.offset }]);
      expect(store.tables().buckets.size).toBe(0);
      expect(store.tables().sightings.size).toBe(0);
    },
  );

  it('without applied event types in the settings, traffic and anchors apply and others are ignored', async () => {
    const store = inMemoryOnlineFeatureStore();
    const settings = { requiredPlatformRunId: SETTINGS.requiredPlatformRunId };
    expect(await applyOnlineFeatureRecord(store, trafficRecord(), settings)).toMatchObject({
      status: 'APPLIED',
    });
    expect(await applyOnlineFeatureRecord(store, anchorRecord(), settings)).toMatchObject({
      status: 'APPLIED',
    });
    const arrival = anchorRecord({ envelope: { event_type: 'arrival_events_5B' } });
    expect(await applyOnlineFeatureRecord(store, arrival, settings)).toMatchObject({
      status: 'SKIPPED',
      reason: 'ignored_event_type',
    });
  });
});

describe('online features intake: dedupe', () => {
  it('a redelivered offset is a duplicate and changes no state', async () => {
    const store = inMemoryOnlineFeatureStore();
    const record = trafficRecord();
    expect(await applyOnlineFeatureRecord(store, record, SETTINGS)).toMatchObject({ status: 'APPLIED' });
    const before = await snapshotOf(store);
    expect(await applyOnlineFeatureRecord(store, record, SETTINGS)).toEqual({
      status: 'DUPLICATE',
      event_id: record.envelope.event_id,
      basis: 'offset',
    });
    expect(await snapshotOf(store)).toEqual(before);
    expect(await store.metrics()).toMatchObject({ events_applied: 1, duplicates: 1, events_seen: 2 });
  });

  it('the same event at another offset: same hash a duplicate, another hash a mismatch row, state unchanged', async () => {
    const store = inMemoryOnlineFeatureStore();
    await applyOnlineFeatureRecord(store, trafficRecord({ eventId: 'e1' }), SETTINGS);
    const before = await snapshotOf(store);
    expect(await applyOnlineFeatureRecord(store, trafficRecord({ eventId: 'e1' }), SETTINGS)).toMatchObject({
      status: 'DUPLICATE',
      basis: 'semantic',
    });
    const changed = trafficRecord({ eventId: 'e1', amount: 99 });
    expect(await applyOnlineFeatureRecord(store, changed, SETTINGS)).toEqual({
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

  it('an anchor redelivered or re-sent with another payload adds nothing to its entities', async () => {
    const store = inMemoryOnlineFeatureStore();
    const keys = [entityKey('account_id'), entityKey('instrument_id')];
    const at = { eventId: 'a1', tsUtc: '2026-03-08T01:00:00.000000Z', flowId: 77 };
    const anchor = anchorRecord(at);
    await applyOnlineFeatureRecord(store, anchor, SETTINGS);
    const before = (await snapshotOf(store, keys)).features;
    expect(await applyOnlineFeatureRecord(store, anchor, SETTINGS)).toMatchObject({ basis: 'offset' });
    expect(await applyOnlineFeatureRecord(store, anchorRecord(at), SETTINGS)).toMatchObject({
      basis: 'semantic',
    });
    expect(
      await applyOnlineFeatureRecord(store, anchorRecord({ ...at, amount: 99 }), SETTINGS),
    ).toMatchObject({
      status: 'PAYLOAD_HASH_MISMATCH',
    });
    expect((await snapshotOf(store, keys)).features).toEqual(before);
    expect(await store.metrics()).toMatchObject({
      [`duplicates|topic=${FLOW_ANCHOR_TOPIC}`]: 2,
      [`payload_hash_mismatch|topic=${FLOW_ANCHOR_TOPIC}`]: 1,
      [`events_applied|topic=${FLOW_ANCHOR_TOPIC}`]: 1,
    });
  });
});

describe('online features intake: keys', () => {
  it('traffic keys by flow_id (exact 64-bit), else event_id, and feeds no entity', async () => {
    const store = inMemoryOnlineFeatureStore();
    const withIds = trafficRecord({ payload: { flow_id: FLOW, amount: 3, account_id: 5, device_id: 'd-1' } });
    expect(await applyOnlineFeatureRecord(store, withIds, SETTINGS)).toMatchObject({
      keys: [{ key_type: 'flow_id', key_id: '9000000000000000001' }],
    });
    const noFlow = trafficRecord({ eventId: 'no-flow', payload: { amount: 1 } });
    expect(await applyOnlineFeatureRecord(store, noFlow, SETTINGS)).toMatchObject({
      keys: [{ key_type: 'event_id', key_id: 'no-flow' }],
    });
    const snapshot = await snapshotOf(store, [
      { key_type: 'account_id', key_id: '5' },
      { key_type: 'event_id', key_id: 'no-flow' },
    ]);
    expect(snapshot.features['event_id:no-flow']).toMatchObject({ event_count: 1 });
    expect(snapshot.freshness.missing_feature_keys).toEqual(['account_id:5']);
  });

  it('an anchor feeds its six entities (exact 64-bit) and the account-device and account-ip pairs, not its flow', async () => {
    const store = inMemoryOnlineFeatureStore();
    const outcome = await applyOnlineFeatureRecord(store, anchorRecord({ flowId: FLOW }), SETTINGS);
    expect(outcome).toMatchObject({
      status: 'APPLIED',
      keys: [
        { key_type: 'party_id', key_id: '7000000000000000001' },
        { key_type: 'account_id', key_id: '8000000000000000001' },
        { key_type: 'instrument_id', key_id: '11' },
        { key_type: 'device_id', key_id: '21' },
        { key_type: 'ip_id', key_id: '31' },
        { key_type: 'merchant_id', key_id: '18446744073709551000' },
        { key_type: 'account_device', key_id: '8000000000000000001|21' },
        { key_type: 'account_ip', key_id: '8000000000000000001|31' },
      ],
    });
    expect(store.tables().sightings.size).toBe(1);
    expect((await snapshotOf(store)).freshness.missing_feature_keys).toEqual([`flow_id:${FLOW}`]);
  });

  it('an anchor without an entity feeds neither it nor the pairs it is part of', async () => {
    const store = inMemoryOnlineFeatureStore();
    const outcome = await applyOnlineFeatureRecord(
      store,
      anchorRecord({ entities: { device_id: undefined, ip_id: null } }),
      SETTINGS,
    );
    expect(outcome.status === 'APPLIED' && outcome.keys.map((k) => k.key_type)).toEqual([
      'party_id',
      'account_id',
      'instrument_id',
      'merchant_id',
    ]);
  });

  it('with a policy in the settings, only the key types it answers are written (entity rows only for pairs)', async () => {
    const store = inMemoryOnlineFeatureStore();
    const policy = loadFeaturePolicy({
      policy_id: 'p',
      revision: 'r',
      feature_groups: [
        {
          name: 'core_features',
          version: 'v1',
          key_types: ['flow_id', 'account_id'],
          windows: [{ window: '1h', duration_seconds: 3600 }],
          totals: true,
          first_seen: false,
        },
      ],
    });
    const outcome = await applyOnlineFeatureRecord(store, anchorRecord(), { ...SETTINGS, policy });
    expect(outcome).toMatchObject({ keys: [{ key_type: 'account_id' }] });
    expect(store.tables().sightings.size).toBe(0);
    expect(store.tables().events.size).toBe(1);
  });
});

describe('online features never read the truth columns', () => {
  it('traffic and anchors with the truth columns scrambled give byte-identical snapshots', async () => {
    const times = ['00:10:00.000001', '01:00:00.000000', '01:30:59.999999', '01:59:59.000000'];
    const build = async (scramble: boolean) => {
      const store = inMemoryOnlineFeatureStore();
      const truth = (i: number) => ({
        fraudFlag: scramble ? i % 2 === 0 : false,
        campaignId: scramble ? `campaign-${(i * 7) % 3}` : null,
      });
      const records = times.flatMap((t, i) => [
        trafficRecord({
          eventId: `truth-${i}`,
          offset: String(5000 + i),
          amount: 10 + i,
          tsUtc: `2026-03-08T${t}Z`,
          ...truth(i),
        }),
        anchorRecord({
          eventId: `truth-anchor-${i}`,
          offset: String(6000 + i),
          amount: 3 + i,
          tsUtc: `2026-03-08T${t}Z`,
          entities: { merchant_id: 100 + (i % 2), device_id: 20 + (i % 3) },
          ...truth(i + 1),
        }),
      ]);
      await applyOnlineFeatureBatch(store, records, SETTINGS);
      const keys = [
        flowKey(),
        entityKey('account_id'),
        entityKey('instrument_id'),
        entityKey('merchant_id', 101),
        { key_type: 'account_device', key_id: `${ANCHOR_ENTITIES.account_id}|21` },
        { key_type: 'account_ip', key_id: `${ANCHOR_ENTITIES.account_id}|${ANCHOR_ENTITIES.ip_id}` },
      ];
      return canonicalJson(await snapshotOf(store, keys));
    };
    const [plain, scrambled] = [await build(false), await build(true)];
    expect(scrambled).toBe(plain);
    const features = JSON.parse(plain).features;
    expect(features[`flow_id:${FLOW}`].event_count).toBe(4);
    expect(features[`account_id:${ANCHOR_ENTITIES.account_id}`]).toMatchObject({
      event_count: 4,
      distinct_device_id_24h: 3,
    });
    expect(features[`instrument_id:${ANCHOR_ENTITIES.instrument_id}`].distinct_merchant_id_1h).toBe(2);
  });
});

describe('online features are independent of arrival order', () => {
  it('any shuffle of the same records (both topics, duplicates included) gives the same snapshot', async () => {
    const base = Date.UTC(2026, 2, 8, 0, 0, 0);
    const events = fc.array(
      fc.record({
        offsetMinutes: fc.integer({ min: 0, max: 8 * 24 * 60 }),
        micros: fc.integer({ min: 0, max: 59_999_999 }),
        amount: fc.integer({ min: 0, max: 100_000 }).map((cents) => cents / 100),
        flow: fc.constantFrom(1n, 2n),
        partition: fc.integer({ min: 0, max: 2 }),
        anchor: fc.boolean(),
        device: fc.integer({ min: 1, max: 3 }),
        merchant: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: 1, maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(events, fc.integer(), async (drawn, seed) => {
        const records = drawn.map((e, i) => {
          const seconds = new Date(base + e.offsetMinutes * 60_000).toISOString().slice(0, 19);
          const tsUtc = `${seconds}.${String(e.micros % 1_000_000).padStart(6, '0')}Z`;
          const common = { eventId: `ev-${i}`, offset: String(10_000 + i), partition: e.partition, tsUtc };
          return e.anchor
            ? anchorRecord({
                ...common,
                amount: e.amount,
                entities: { device_id: e.device, merchant_id: e.merchant },
              })
            : trafficRecord({ ...common, amount: e.amount, flowId: e.flow });
        });
        const withRedelivery = [...records, ...records.slice(0, 3)];
        const shuffled = fc.sample(
          fc.shuffledSubarray(withRedelivery, { minLength: withRedelivery.length }),
          {
            seed,
            numRuns: 1,
          },
        )[0] as typeof records;
        const keys = [
          flowKey(1n),
          flowKey(2n),
          entityKey('account_id'),
          entityKey('instrument_id'),
          entityKey('device_id', 2),
          { key_type: 'account_device', key_id: `${ANCHOR_ENTITIES.account_id}|3` },
        ];
        const [inOrder, reordered] = [inMemoryOnlineFeatureStore(), inMemoryOnlineFeatureStore()];
        await applyOnlineFeatureBatch(inOrder, withRedelivery, SETTINGS);
        await applyOnlineFeatureBatch(reordered, shuffled, SETTINGS);
        for (const asOf of ['2026-03-08T12:00:00.000000Z', '2026-03-16T00:00:00.000000Z']) {
          const request = featuresRequest(asOf, keys, BOTH_GROUPS);
          const [a, b] = [
            await getFeatures(inOrder, request, POLICY),
            await getFeatures(reordered, request, POLICY),
          ];
          expect(canonicalJson(b)).toBe(canonicalJson(a));
        }
      }),
      { numRuns: 60 },
    );
  });
});
