import type { IdentityGraphBusRecord } from '../../lib/contracts/identity-graph.ts';
import {
  DEFAULT_IDENTITY_GRAPH_SETTINGS,
  type IdentityGraphSettings,
} from '../../lib/identity-graph/intake.ts';

/** Traffic, context and rtdl records for the identity graph tests: envelopes at known offsets. */

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
  s3_event_stream_with_fraud_6B: 'fp.bus.traffic.fraud.v1',
  arrival_events_5B: 'fp.bus.context.arrival_events.v1',
  s1_arrival_entities_6B: 'fp.bus.context.arrival_entities.v1',
  s3_flow_anchor_with_fraud_6B: 'fp.bus.context.flow_anchor.fraud.v1',
  decision_response: 'fp.bus.rtdl.v1',
} as const;

export const SETTINGS: IdentityGraphSettings = {
  ...DEFAULT_IDENTITY_GRAPH_SETTINGS,
  requiredPlatformRunId: RUN,
};

export const FLOW_ID = 9_000_000_000_000_000_001n;
export const MERCHANT_ID = 18_446_744_073_709_551_000n;

/** The payload of each event type for one arrival: every entity of the flow, as the engine writes them. */
function payloadOf(eventType: string, arrivalSeq: number, flowId: bigint | string, suffix: string) {
  const entities = {
    party_id: `party-${suffix}`,
    account_id: `account-${suffix}`,
    instrument_id: `instrument-${suffix}`,
    device_id: `device-${suffix}`,
    ip_id: `ip-${suffix}`,
  };
  switch (eventType) {
    case 's3_event_stream_with_fraud_6B':
      return { flow_id: flowId, amount: 12.5 };
    case 'arrival_events_5B':
      return { merchant_id: MERCHANT_ID, arrival_seq: arrivalSeq };
    case 's1_arrival_entities_6B':
      return {
        merchant_id: MERCHANT_ID,
        arrival_seq: arrivalSeq,
        ...entities,
        session_id: `session-${suffix}`,
      };
    case 's3_flow_anchor_with_fraud_6B':
      return { merchant_id: MERCHANT_ID, arrival_seq: arrivalSeq, flow_id: flowId, ...entities };
    default:
      return { decision_id: 'd'.repeat(32) };
  }
}

let offset = 1000;

export interface RecordOptions {
  arrivalSeq?: number;
  flowId?: bigint | string;
  /** Distinguishes the party/account/… ids of one arrival from another's. */
  suffix?: string;
  tsUtc?: string;
  eventId?: string;
  topic?: string;
  partition?: number;
  envelope?: Record<string, unknown>;
  payload?: Record<string, unknown>;
}

export function graphRecord(
  eventType: keyof typeof TOPIC | string,
  options: RecordOptions = {},
): IdentityGraphBusRecord & { envelope: Record<string, unknown> } {
  offset++;
  const arrivalSeq = options.arrivalSeq ?? 7;
  const suffix = options.suffix ?? '1';
  return {
    topic: options.topic ?? TOPIC[eventType as keyof typeof TOPIC] ?? 'fp.bus.traffic.fraud.v1',
    partition: options.partition ?? 0,
    offset: String(offset).padStart(20, '4'),
    offset_kind: 'kinesis_sequence',
    envelope: {
      event_id: options.eventId ?? `${eventType}-${arrivalSeq}-${suffix}`,
      event_type: eventType,
      ts_utc: options.tsUtc ?? '2026-03-08T00:01:03.106979Z',
      schema_version: 'v1',
      ...PINS,
      payload: options.payload ?? payloadOf(eventType, arrivalSeq, options.flowId ?? FLOW_ID, suffix),
      ...options.envelope,
    },
  };
}
