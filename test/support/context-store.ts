import {
  CONTEXT_EVENT_CLASSES,
  CONTEXT_TOPICS,
  type ContextIntakeSettings,
} from '../../lib/context-store/intake.ts';
import type { ContextBusRecord } from '../../lib/contracts/context-store.ts';

/** Context records for the Context Store tests: envelopes of the three context topics at known offsets. */

export const RUN = 'platform_20260302T000000Z';
export const SCENARIO_RUN = '2'.repeat(32);
export const PINS = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
  run_id: '1'.repeat(32),
};

export const TOPIC = {
  arrival_events_5B: 'fp.bus.context.arrival_events.v1',
  s1_arrival_entities_6B: 'fp.bus.context.arrival_entities.v1',
  s3_flow_anchor_with_fraud_6B: 'fp.bus.context.flow_anchor.fraud.v1',
  s2_flow_anchor_baseline_6B: 'fp.bus.context.flow_anchor.baseline.v1',
} as const;

export const SETTINGS: ContextIntakeSettings = {
  requiredPlatformRunId: RUN,
  contextTopics: CONTEXT_TOPICS,
  contextEventClasses: CONTEXT_EVENT_CLASSES,
};

let offset = 1000;

export interface RecordOptions {
  merchantId?: unknown;
  arrivalSeq?: unknown;
  flowId?: unknown;
  tsUtc?: string;
  eventId?: string;
  topic?: string;
  partition?: number;
  offset?: string;
  envelope?: Record<string, unknown>;
  payload?: Record<string, unknown>;
}

/** A context record of `eventType` for (merchant, arrival_seq), with the next offset of its partition. */
export function contextRecord(
  eventType: keyof typeof TOPIC,
  options: RecordOptions = {},
): ContextBusRecord & { envelope: Record<string, unknown> } {
  offset++;
  const merchantId = options.merchantId ?? 18_446_744_073_709_551_000n;
  const arrivalSeq = options.arrivalSeq ?? 7;
  const flowAnchor = eventType.includes('flow_anchor');
  const payload = options.payload ?? {
    merchant_id: merchantId,
    arrival_seq: arrivalSeq,
    ...(flowAnchor ? { flow_id: options.flowId ?? 9_000_000_000_000_000_001n, amount: 12.5 } : {}),
  };
  return {
    topic: options.topic ?? TOPIC[eventType],
    partition: options.partition ?? 0,
    offset: options.offset ?? String(offset).padStart(20, '4'),
    offset_kind: 'kinesis_sequence',
    envelope: {
      event_id: options.eventId ?? `${eventType}-${String(merchantId)}-${String(arrivalSeq)}`,
      event_type: eventType,
      ts_utc: options.tsUtc ?? '2026-03-08T00:01:03.106979Z',
      schema_version: 'v1',
      ...PINS,
      payload,
      ...options.envelope,
    },
  };
}
