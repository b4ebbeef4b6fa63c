import type { TrafficBusRecord } from '../../lib/contracts/online-features.ts';
import {
  DEFAULT_APPLIED_EVENT_TYPES,
  type OnlineFeatureIntakeSettings,
  TRAFFIC_TOPIC,
} from '../../lib/online-features/intake.ts';

/** Traffic records for the Online Feature Plane tests: fraud-stream envelopes at known event times and offsets. */

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

export const SETTINGS: OnlineFeatureIntakeSettings = {
  requiredPlatformRunId: RUN,
  appliedEventTypes: DEFAULT_APPLIED_EVENT_TYPES,
};

export const FLOW = 9_000_000_000_000_000_001n;

let offset = 1000;

export interface TrafficOptions {
  flowId?: unknown;
  amount?: unknown;
  tsUtc?: string;
  eventId?: string;
  partition?: number;
  offset?: string;
  fraudFlag?: boolean;
  campaignId?: string | null;
  envelope?: Record<string, unknown>;
  payload?: Record<string, unknown>;
}

/** A fraud-stream traffic record (the 6B payload, truth columns included) with the next offset of its partition. */
export function trafficRecord(
  options: TrafficOptions = {},
): TrafficBusRecord & { envelope: Record<string, unknown> } {
  offset++;
  const tsUtc = options.tsUtc ?? '2026-03-08T00:01:03.106979Z';
  const flowId = options.flowId ?? FLOW;
  return {
    topic: TRAFFIC_TOPIC,
    partition: options.partition ?? 0,
    offset: options.offset ?? String(offset).padStart(20, '4'),
    offset_kind: 'kinesis_sequence',
    envelope: {
      event_id: options.eventId ?? `traffic-${String(flowId)}-${tsUtc}`,
      event_type: 's3_event_stream_with_fraud_6B',
      ts_utc: tsUtc,
      schema_version: 'v1',
      ...PINS,
      payload: options.payload ?? {
        flow_id: flowId,
        event_seq: 1,
        event_type: 'AUTH_REQUEST',
        ts_utc: tsUtc,
        amount: options.amount ?? 12.5,
        seed: 42,
        manifest_fingerprint: 'a'.repeat(64),
        parameter_hash: 'b'.repeat(64),
        scenario_id: 'baseline_v1',
        fraud_flag: options.fraudFlag ?? false,
        campaign_id: options.campaignId ?? null,
      },
      ...options.envelope,
    },
  };
}

/** A get_features request for `keys` as of `asOf`. */
export function featuresRequest(asOf: string, keys: { key_type: string; key_id: string }[], extra = {}) {
  return {
    request_id: 'req-1',
    pins: PINS,
    as_of_time_utc: asOf,
    feature_keys: keys,
    feature_groups: [{ name: 'core_features', version: 'v1' }],
    ...extra,
  };
}

export const flowKey = (flowId: unknown = FLOW) => ({ key_type: 'flow_id', key_id: String(flowId) });
