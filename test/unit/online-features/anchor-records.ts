import type { FeatureBusRecord } from '../../../lib/contracts/online-features.ts';
import { FLOW_ANCHOR_TOPIC } from '../../../lib/online-features/intake.ts';
import { PINS } from '../../support/online-features.ts';

/** Flow-anchor records for the Online Feature Plane tests: the 6B anchor payload, truth columns included. */

export const ANCHOR_ENTITIES = {
  party_id: 7_000_000_000_000_000_001n,
  account_id: 8_000_000_000_000_000_001n,
  instrument_id: 11,
  device_id: 21,
  ip_id: 31,
  merchant_id: 18_446_744_073_709_551_000n,
};

let offset = 9000;

export interface AnchorOptions {
  eventId?: string;
  tsUtc?: string;
  amount?: unknown;
  flowId?: unknown;
  partition?: number;
  offset?: string;
  /** Entity ids replacing the defaults (undefined leaves the field out of the payload). */
  entities?: Partial<Record<keyof typeof ANCHOR_ENTITIES, unknown>>;
  fraudFlag?: boolean;
  campaignId?: string | null;
  envelope?: Record<string, unknown>;
}

/** An `s3_flow_anchor_with_fraud_6B` record on the flow-anchor topic, with the next offset of its partition. */
export function anchorRecord(
  options: AnchorOptions = {},
): FeatureBusRecord & { envelope: Record<string, unknown> } {
  offset++;
  const tsUtc = options.tsUtc ?? '2026-03-08T00:01:00.000000Z';
  const flowId = options.flowId ?? BigInt(offset);
  const entities: Record<string, unknown> = { ...ANCHOR_ENTITIES, ...options.entities };
  for (const [name, value] of Object.entries(entities)) if (value === undefined) delete entities[name];
  return {
    topic: FLOW_ANCHOR_TOPIC,
    partition: options.partition ?? 0,
    offset: options.offset ?? String(offset).padStart(20, '5'),
    offset_kind: 'kinesis_sequence',
    envelope: {
      event_id: options.eventId ?? `anchor-${String(flowId)}`,
      event_type: 's3_flow_anchor_with_fraud_6B',
      ts_utc: tsUtc,
      schema_version: 'v1',
      ...PINS,
      payload: {
        flow_id: flowId,
        arrival_seq: 1,
        ...entities,
        ts_utc: tsUtc,
        amount: options.amount ?? 20,
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

/** The key of one of the default anchor entities (or `id`). */
export const entityKey = (type: keyof typeof ANCHOR_ENTITIES, id: unknown = ANCHOR_ENTITIES[type]) => ({
  key_type: type,
  key_id: String(id),
});
