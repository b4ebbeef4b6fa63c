import { describe, expect, it } from 'vitest';
import { graphDedupeKey } from '../../../lib/contracts/identity-graph.ts';
import { REQUIRED_PINS } from '../../../lib/contracts/partitioning.ts';
import { applyIdentityGraphBatch, applyIdentityGraphRecord } from '../../../lib/identity-graph/intake.ts';
import { graphRecord, RUN, SETTINGS } from '../../support/identity-graph.ts';
import { inMemoryIdentityGraphStore } from './in-memory-identity-graph-store.ts';

/** §2.2 intake on the in-memory store: every failure rule, irrelevant events, dedupe and payload mismatch. */

const ANCHOR = 's3_flow_anchor_with_fraud_6B';
const withoutScenarioRun = Object.fromEntries(
  Object.entries(REQUIRED_PINS).map(([c, pins]) => [c, pins.filter((p) => p !== 'scenario_run_id')]),
) as unknown as typeof REQUIRED_PINS;

describe('identity graph intake: failures are written, counted unusable and advance', () => {
  const cases: [string, () => ReturnType<typeof graphRecord>, Partial<typeof SETTINGS>?][] = [
    ['ENVELOPE_INVALID', () => ({ ...graphRecord(ANCHOR), envelope: { hello: 1 } })],
    ['ENVELOPE_INVALID', () => graphRecord(ANCHOR, { envelope: { ts_utc: '2026-03-08' } })],
    ['REQUIRED_PINS_MISSING', () => graphRecord(ANCHOR, { envelope: { parameter_hash: undefined } })],
    ['PLATFORM_RUN_ID_MISSING', () => graphRecord(ANCHOR, { envelope: { platform_run_id: undefined } })],
    [
      'RUN_SCOPE_MISMATCH',
      () => graphRecord(ANCHOR, { envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
    ],
    [
      'REPLAY_PINS_MISMATCH',
      () => graphRecord(ANCHOR),
      { replayPins: { manifest_fingerprint: 'c'.repeat(64) } },
    ],
    ['CLASSIFICATION_UNSUPPORTED', () => graphRecord('case_trigger', { topic: 'fp.bus.case.v1' })],
    ['CLASSIFICATION_UNSUPPORTED', () => graphRecord('some_new_event_type')],
    [
      'SCENARIO_RUN_ID_MISSING',
      () => graphRecord(ANCHOR, { envelope: { scenario_run_id: undefined } }),
      { requiredPins: withoutScenarioRun },
    ],
    [
      'IDENTITY_HINTS_MISSING',
      () => graphRecord('s3_event_stream_with_fraud_6B', { payload: { amount: 1 } }),
    ],
    ['IDENTITY_HINTS_MISSING', () => graphRecord('arrival_events_5B', { payload: { merchant_id: '' } })],
  ];

  it.each(cases)(
    '%s: a failure row, the checkpoint advanced, nothing applied',
    async (reason, make, extra) => {
      const store = inMemoryIdentityGraphStore();
      const record = make();
      const settings = { ...SETTINGS, ...extra };
      expect(await applyIdentityGraphRecord(store, record, settings)).toMatchObject({
        status: 'FAILED',
        reason_code: reason,
      });
      const tables = store.tables();
      expect([...tables.failures.values()].map((f) => f.reason_code)).toEqual([reason]);
      expect(tables.checkpoints.get(`${record.topic}|0`)?.next_offset).toBe(record.offset);
      expect(tables.entities.size + tables.edges.size + tables.dedupe.size).toBe(0);
      expect(await store.metrics({})).toMatchObject({ events_seen: 1, unusable: 1, mutating_applied: 0 });
      // Redelivered: the same failure row (deterministic id), no second one.
      await applyIdentityGraphRecord(store, record, settings);
      expect(store.tables().failures.size).toBe(1);
    },
  );

  it('checks in order: a record of another run that is also irrelevant is RUN_SCOPE_MISMATCH', async () => {
    const store = inMemoryIdentityGraphStore();
    const record = graphRecord('decision_response', {
      envelope: { platform_run_id: 'platform_20260303T000000Z' },
    });
    expect(await applyIdentityGraphRecord(store, record, SETTINGS)).toMatchObject({
      reason_code: 'RUN_SCOPE_MISMATCH',
    });
  });
});

describe('identity graph intake: irrelevant, apply, dedupe', () => {
  it.each(['decision_response', 'action_intent', 'action_outcome', 'ig.audit.verify'])(
    '%s is irrelevant: counted and advanced, not a failure',
    async (eventType) => {
      const store = inMemoryIdentityGraphStore();
      const record = graphRecord(eventType, { topic: 'fp.bus.rtdl.v1' });
      expect(await applyIdentityGraphRecord(store, record, SETTINGS)).toMatchObject({ status: 'IRRELEVANT' });
      expect(store.tables().failures.size).toBe(0);
      expect(store.tables().checkpoints.get('fp.bus.rtdl.v1|0')?.next_offset).toBe(record.offset);
      expect(await store.metrics({})).toMatchObject({ events_seen: 1, irrelevant: 1, unusable: 0 });
    },
  );

  it('a flow anchor upserts its seven entities and identifiers and six flow edges', async () => {
    const store = inMemoryIdentityGraphStore();
    const outcome = await applyIdentityGraphRecord(store, graphRecord(ANCHOR), SETTINGS);
    expect(outcome).toMatchObject({ status: 'APPLIED' });
    const tables = store.tables();
    expect([...tables.entities.values()].map((e) => e.entity_type).sort()).toEqual(
      ['account', 'device', 'flow', 'instrument', 'ip', 'merchant', 'party'].sort(),
    );
    expect(tables.identifiers.size).toBe(7);
    expect([...tables.edges.values()].map((e) => e.edge_type).sort()).toEqual([
      'flow_account',
      'flow_device',
      'flow_instrument',
      'flow_ip',
      'flow_merchant',
      'flow_party',
    ]);
    const [dedupe] = tables.dedupe.keys();
    expect(dedupe).toBe(graphDedupeKey(RUN, 'context_flow_fraud', `${ANCHOR}-7-1`));
    expect(await store.metrics({})).toMatchObject({ events_seen: 1, mutating_applied: 1 });
  });

  it('a redelivery is a duplicate; another payload under the same event id is PAYLOAD_HASH_MISMATCH', async () => {
    const store = inMemoryIdentityGraphStore();
    const record = graphRecord(ANCHOR);
    await applyIdentityGraphRecord(store, record, SETTINGS);
    const before = structuredClone(store.tables().entities);
    expect(await applyIdentityGraphRecord(store, record, SETTINGS)).toMatchObject({ status: 'DUPLICATE' });
    const changed = graphRecord(ANCHOR, { suffix: 'other', eventId: record.envelope.event_id as string });
    expect(await applyIdentityGraphRecord(store, changed, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason_code: 'PAYLOAD_HASH_MISMATCH',
    });
    expect(store.tables().entities).toEqual(before);
    expect(store.tables().checkpoints.get(`${record.topic}|0`)?.next_offset).toBe(changed.offset);
    expect(await store.metrics({})).toMatchObject({
      events_seen: 3,
      mutating_applied: 1,
      duplicate: 1,
      payload_mismatch: 1,
      unusable: 0,
    });
  });

  it('first_seen is the earliest and last_seen the latest event time, whatever the order', async () => {
    const store = inMemoryIdentityGraphStore();
    await applyIdentityGraphBatch(
      store,
      [
        graphRecord('s3_event_stream_with_fraud_6B', {
          tsUtc: '2026-03-08T00:05:00.000000Z',
          eventId: 'late',
        }),
        graphRecord('s3_event_stream_with_fraud_6B', {
          tsUtc: '2026-03-08T00:01:00.000000Z',
          eventId: 'early',
        }),
        graphRecord('s3_event_stream_with_fraud_6B', {
          tsUtc: '2026-03-08T00:03:00.000000Z',
          eventId: 'mid',
        }),
      ],
      SETTINGS,
    );
    const [flow] = store.tables().entities.values();
    expect(flow).toMatchObject({
      entity_type: 'flow',
      first_seen_ts_utc: '2026-03-08T00:01:00.000000Z',
      last_seen_ts_utc: '2026-03-08T00:05:00.000000Z',
    });
    const [checkpoint] = store.tables().checkpoints.values();
    expect(checkpoint?.watermark_ts_utc).toBe('2026-03-08T00:05:00.000000Z');
  });
});
