import { describe, expect, it } from 'vitest';
import { applyContextBatch, applyContextRecord } from '../../../lib/context-store/intake.ts';
import { compareOffsets } from '../../../lib/context-store/join-frame.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { flowBindingHash } from '../../../lib/contracts/context-store.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { contextRecord, PINS, RUN, SCENARIO_RUN, SETTINGS } from '../../support/context-store.ts';
import { inMemoryContextStore } from './in-memory-context-store.ts';

const KEY = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  merchant_id: '18446744073709551000',
  arrival_seq: 7n,
};

describe('context store intake: failures are written and advance', () => {
  const cases: [string, () => ReturnType<typeof contextRecord>, Partial<typeof SETTINGS>?][] = [
    ['ENVELOPE_MISSING', () => ({ ...contextRecord('arrival_events_5B'), envelope: { hello: 1 } })],
    ['ENVELOPE_INVALID', () => contextRecord('arrival_events_5B', { envelope: { ts_utc: '2026-03-08' } })],
    [
      'REPLAY_PINS_MISMATCH',
      () => contextRecord('arrival_events_5B'),
      { replayPins: { manifest_fingerprint: 'c'.repeat(64) } },
    ],
    ['TOPIC_NOT_ALLOWED', () => contextRecord('arrival_events_5B', { topic: 'fp.bus.traffic.fraud.v1' })],
    [
      'EVENT_CLASS_UNSUPPORTED',
      () => contextRecord('arrival_events_5B', { envelope: { event_type: 's3_event_stream_with_fraud_6B' } }),
    ],
    [
      'REQUIRED_PINS_MISSING',
      () => contextRecord('arrival_events_5B', { envelope: { parameter_hash: undefined } }),
    ],
    [
      'PLATFORM_RUN_ID_MISSING',
      () => contextRecord('arrival_events_5B', { envelope: { platform_run_id: undefined } }),
    ],
    [
      'RUN_SCOPE_MISMATCH',
      () =>
        contextRecord('arrival_events_5B', { envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
    ],
    ['PAYLOAD_INVALID', () => contextRecord('arrival_events_5B', { envelope: { payload: undefined } })],
    ['JOIN_KEY_MISSING', () => contextRecord('arrival_events_5B', { payload: { merchant_id: 5 } })],
    [
      'JOIN_KEY_MISSING',
      () => contextRecord('arrival_events_5B', { payload: { merchant_id: 5, arrival_seq: 'x' } }),
    ],
    [
      'FLOW_ID_MISSING',
      () => contextRecord('s3_flow_anchor_with_fraud_6B', { payload: { merchant_id: 5, arrival_seq: 1 } }),
    ],
  ];

  it.each(cases)(
    '%s: a failure row, the checkpoint advanced, nothing applied',
    async (reason, make, extra) => {
      const store = inMemoryContextStore();
      const record = make();
      const outcome = await applyContextRecord(store, record, { ...SETTINGS, ...extra });
      expect(outcome).toMatchObject({ status: 'FAILED', reason_code: reason });
      const tables = store.tables();
      expect([...tables.failures.values()].map((f) => f.reason_code)).toEqual([reason]);
      expect(tables.checkpoints.get(`${record.topic}|0`)?.next_offset).toBe(record.offset);
      expect(tables.frames.size + tables.bindings.size + tables.intake.size).toBe(0);
      // Redelivered: the same failure row (deterministic id), no second one.
      await applyContextRecord(store, record, { ...SETTINGS, ...extra });
      expect(store.tables().failures.size).toBe(1);
    },
  );
});

describe('context store intake: apply', () => {
  it('merges the three roles into one join frame; complete once arrival_event and flow_anchor are in', async () => {
    const store = inMemoryContextStore();
    const anchor = contextRecord('s3_flow_anchor_with_fraud_6B');
    const outcomes = await applyContextBatch(
      store,
      [contextRecord('s1_arrival_entities_6B'), anchor, contextRecord('arrival_events_5B')],
      SETTINGS,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    const frame = await store.readJoinFrame(KEY);
    expect(frame?.state).toMatchObject({
      context_complete: true,
      flow_id: '9000000000000000001',
      arrival_event_ref: { topic: 'fp.bus.context.arrival_events.v1' },
      arrival_entities_ref: { topic: 'fp.bus.context.arrival_entities.v1' },
      flow_anchor_ref: { topic: anchor.topic, offset: anchor.offset },
    });
    const binding = await store.readFlowBinding(RUN, SCENARIO_RUN, '9000000000000000001');
    expect(binding?.payload_hash).toBe(
      sha256Hex(
        canonicalJson({
          flow_id: '9000000000000000001',
          join_frame_key: KEY,
          source_event_id: anchor.envelope.event_id,
        }),
      ),
    );
    expect(binding?.payload_hash).toBe(
      flowBindingHash('9000000000000000001', KEY, String(anchor.envelope.event_id)),
    );
    expect(binding?.pins).toMatchObject({ ...PINS });
  });

  it('a frame is the same whatever order its events arrived in', async () => {
    const records = [
      contextRecord('arrival_events_5B'),
      contextRecord('s1_arrival_entities_6B'),
      contextRecord('s3_flow_anchor_with_fraud_6B'),
    ];
    const forward = inMemoryContextStore();
    const backward = inMemoryContextStore();
    await applyContextBatch(forward, records, SETTINGS);
    await applyContextBatch(backward, [...records].reverse(), SETTINGS);
    expect((await forward.readJoinFrame(KEY))?.payload_hash).toBe(
      (await backward.readJoinFrame(KEY))?.payload_hash,
    );
  });

  it('a redelivered record is DUPLICATE and changes nothing but the checkpoint', async () => {
    const store = inMemoryContextStore();
    const record = contextRecord('arrival_events_5B');
    await applyContextRecord(store, record, SETTINGS);
    const before = structuredClone(store.tables().frames);
    expect(await applyContextRecord(store, record, SETTINGS)).toEqual({
      status: 'DUPLICATE',
      event_id: record.envelope.event_id,
    });
    expect(store.tables().frames).toEqual(before);
    expect(store.tables().failures.size).toBe(0);
  });

  it('the same event id with another payload is INTAKE_PAYLOAD_HASH_MISMATCH, state unchanged', async () => {
    const store = inMemoryContextStore();
    await applyContextRecord(store, contextRecord('arrival_events_5B'), SETTINGS);
    const before = structuredClone(store.tables().frames);
    const changed = contextRecord('arrival_events_5B', {
      payload: { merchant_id: 18_446_744_073_709_551_000n, arrival_seq: 7, extra: true },
    });
    expect(await applyContextRecord(store, changed, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason_code: 'INTAKE_PAYLOAD_HASH_MISMATCH',
    });
    expect(store.tables().frames).toEqual(before);
    expect(store.tables().checkpoints.get(`${changed.topic}|0`)?.next_offset).toBe(changed.offset);
  });

  it('a second anchor binding the same flow to another event is FLOW_BINDING_PAYLOAD_HASH_MISMATCH, rolled back', async () => {
    const store = inMemoryContextStore();
    await applyContextRecord(store, contextRecord('s3_flow_anchor_with_fraud_6B'), SETTINGS);
    const intakeBefore = store.tables().intake.size;
    const other = contextRecord('s3_flow_anchor_with_fraud_6B', { eventId: 'another-anchor', arrivalSeq: 8 });
    expect(await applyContextRecord(store, other, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason_code: 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH',
    });
    // Rolled back: no intake row, no frame for arrival_seq 8.
    expect(store.tables().intake.size).toBe(intakeBefore);
    expect(await store.readJoinFrame({ ...KEY, arrival_seq: 8n })).toBeUndefined();
    expect((await store.metrics({})).binding_conflicts).toBe(1);
  });

  it('a second flow on the same join key is FLOW_BINDING_JOIN_KEY_CONFLICT, rolled back', async () => {
    const store = inMemoryContextStore();
    await applyContextRecord(store, contextRecord('s3_flow_anchor_with_fraud_6B'), SETTINGS);
    const frameBefore = await store.readJoinFrame(KEY);
    const other = contextRecord('s2_flow_anchor_baseline_6B', { flowId: 'flow-2' });
    expect(await applyContextRecord(store, other, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason_code: 'FLOW_BINDING_JOIN_KEY_CONFLICT',
    });
    expect(await store.readJoinFrame(KEY)).toEqual(frameBefore);
    expect(await store.readFlowBinding(RUN, SCENARIO_RUN, 'flow-2')).toBeUndefined();
  });

  it('an event older than the watermark is applied and counted LATE_CONTEXT_EVENT (not a hard failure)', async () => {
    const store = inMemoryContextStore();
    await applyContextRecord(
      store,
      contextRecord('arrival_events_5B', { tsUtc: '2026-03-08T01:00:00.000000Z' }),
      SETTINGS,
    );
    const late = contextRecord('arrival_events_5B', { arrivalSeq: 3, tsUtc: '2026-03-08T00:00:00.000000Z' });
    expect(await applyContextRecord(store, late, SETTINGS)).toMatchObject({ status: 'APPLIED', late: true });
    expect(await store.readJoinFrame({ ...KEY, arrival_seq: 3n })).toBeDefined();
    const [failure] = store.tables().failures.values();
    expect(failure).toMatchObject({
      reason_code: 'LATE_CONTEXT_EVENT',
      details: { applied: true, watermark_ts_utc: '2026-03-08T01:00:00.000000Z' },
    });
    expect(await store.metrics({})).toMatchObject({
      apply_failures: 1,
      apply_failures_hard: 0,
      late_context_applied: 1,
    });
    // The watermark never moves back.
    expect(store.tables().checkpoints.get(`${late.topic}|0`)?.watermark_ts_utc).toBe(
      '2026-03-08T01:00:00.000000Z',
    );
  });

  it('a store error escapes (the record is retried), nothing is written', async () => {
    const store = inMemoryContextStore();
    store.inTransaction = async () => {
      throw new Error('connection reset');
    };
    await expect(applyContextRecord(store, contextRecord('arrival_events_5B'), SETTINGS)).rejects.toThrow(
      'reset',
    );
  });

  it('orders Kinesis sequence numbers as integers', () => {
    expect(compareOffsets('99', '100')).toBeLessThan(0);
    expect(compareOffsets('49590338271490256608559692538361571095921575989136588898', '9')).toBeGreaterThan(
      0,
    );
    expect(compareOffsets('7', '7')).toBe(0);
  });
});
