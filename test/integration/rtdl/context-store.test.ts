import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import {
  contextQuery,
  envelope,
  invoke,
  onTheBus,
  PINS,
  putEnvelope,
  TOPIC,
  unique,
} from './projector-bus.ts';

/**
 * The context store projector through the bus (downstream.md §9 #15): an arrival event and its flow anchor put on
 * their streams make the flow's binding READY; a binding without its join frame, an unknown flow, other pins and a
 * malformed query each get their own status from the query task (Lambda invoke).
 */

onTheBus();

describe('RTDL projectors through the bus', () => {
  it('#15 context store: arrival event + flow anchor is READY; a binding alone is MISSING_JOIN_FRAME; an unknown flow MISSING_BINDING; other pins CONFLICT', async () => {
    const merchant = Number(unique().slice(-9));
    const flow = `7${unique()}`;
    await putEnvelope(
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:01:00.000000Z', { merchant_id: merchant, arrival_seq: 1 }),
    );
    await putEnvelope(
      TOPIC.anchor,
      envelope('s3_flow_anchor_with_fraud_6B', '2026-03-08T00:01:01.000000Z', {
        merchant_id: merchant,
        arrival_seq: 1,
        flow_id: flow,
        amount: 3,
      }),
    );
    const lonely = `6${unique()}`;
    await putEnvelope(
      TOPIC.anchor,
      envelope('s3_flow_anchor_with_fraud_6B', '2026-03-08T00:01:02.000000Z', {
        merchant_id: merchant,
        arrival_seq: 2,
        flow_id: lonely,
        amount: 3,
      }),
    );
    const ready = await eventually(async () => {
      const answer = await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: flow });
      return answer.status === 'READY' ? answer : undefined;
    }, 'the flow binding READY');
    expect(ready.status).toBe('READY');
    const alone = await eventually(async () => {
      const answer = await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: lonely });
      return answer.status === 'MISSING_BINDING' ? undefined : answer;
    }, 'the lonely binding applied');
    expect(alone.status).toBe('MISSING_JOIN_FRAME');
    expect((await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: `5${unique()}` })).status).toBe(
      'MISSING_BINDING',
    );
    const conflict = await invoke<{ status: string }>('context-store', {
      action: 'query',
      request: {
        request_id: 'q-conflict',
        pins: { ...PINS, manifest_fingerprint: 'c'.repeat(64) },
        query_kind: 'resolve_flow_binding',
        flow_id: flow,
      },
    });
    expect(conflict.status).toBe('CONFLICT');
    expect(
      (await invoke<{ status: string }>('context-store', { action: 'query', request: { nonsense: 1 } }))
        .status,
    ).toBe('INVALID_REQUEST');
  });
});
