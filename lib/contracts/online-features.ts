import { z } from 'zod';
import type { PyFloat } from './canonical-json.ts';
import { ContextPins } from './context-store.ts';
import type { EbRef } from './receipts.ts';
import { Rfc3339Micros, SafeText } from './wire-primitives.ts';

/**
 * Online Feature Plane wire shapes (downstream.md §2.3): the bus records it consumes (traffic and flow anchors), the
 * `get_features` request and its answer (a snapshot or an error code).
 */

/** The checkpoint / metric scope base: stream ids are `ofp.v0::<platform_run_id>` (§1). */
export const ONLINE_FEATURES_STREAM_BASE = 'ofp.v0';

/** One record read from a feature topic: where it sits on the bus and its data (an envelope, still unchecked). */
export interface FeatureBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: EbRef['offset_kind'];
  published_at_utc?: string;
  /** The record's data as parsed (lossless JSON); the core checks it against the canonical envelope. */
  envelope: unknown;
}

/** The name the traffic-only intake had. */
export type TrafficBusRecord = FeatureBusRecord;

export const FeatureKey = z.strictObject({ key_type: SafeText(64), key_id: SafeText(256) });
export type FeatureKey = z.output<typeof FeatureKey>;

export const FeatureGroupRef = z.strictObject({ name: SafeText(128), version: SafeText(64) });
export type FeatureGroupRef = z.output<typeof FeatureGroupRef>;

export const GetFeaturesRequest = z.strictObject({
  request_id: SafeText(256),
  pins: ContextPins,
  as_of_time_utc: Rfc3339Micros,
  feature_keys: z.array(FeatureKey).min(1).max(64),
  feature_groups: z.array(FeatureGroupRef).min(1).max(16),
  graph_resolution_mode: z.enum(['none', 'resolve_if_needed', 'require_ieg']).default('none'),
});
export type GetFeaturesRequest = z.output<typeof GetFeaturesRequest>;

export const FRESHNESS_FLAGS = [
  'MISSING_FEATURE_STATE',
  'MISSING_FEATURE_GROUP',
  'STALE_INPUT_BASIS',
  'STALE_GRAPH_VERSION',
  'GRAPH_VERSION_UNAVAILABLE',
] as const;
export type FreshnessFlag = (typeof FRESHNESS_FLAGS)[number];

/** Features of one key (`<key_type>:<key_id>`), named by the policy's families (lib/online-features/policy.ts). */
export type KeyFeatures = Record<string, number | string | PyFloat | null>;

export interface OffsetBasis {
  /** The topics read, comma-separated in order. */
  stream: string;
  offset_kind: EbRef['offset_kind'] | null;
  /** One per (topic, partition): two topics share partition numbers, so each names its topic. */
  offsets: { topic: string; partition: number; offset: string }[];
  /** sha256 of the canonical `{stream, offset_kind, offsets}`. */
  basis_digest: string;
  /** How far every topic has come: the lowest of the topics' highest event times (watermarks), null before any. */
  window_end_utc: string | null;
}

export interface FeatureSnapshot {
  pins: ContextPins;
  as_of_time_utc: string;
  feature_groups: FeatureGroupRef[];
  feature_def_policy_rev: { policy_id: string; revision: string };
  eb_offset_basis: OffsetBasis;
  features: Record<string, KeyFeatures>;
  freshness: {
    state: 'GREEN' | 'AMBER' | 'RED';
    flags: FreshnessFlag[];
    stale_groups: string[];
    missing_groups: string[];
    missing_feature_keys: string[];
  };
  /** sha256 of the canonical snapshot without `snapshot_hash` (and without `snapshot_ref`). */
  snapshot_hash: string;
  snapshot_ref?: string;
}

export type GetFeaturesErrorCode = 'NOT_FOUND' | 'UNAVAILABLE' | 'INVALID_REQUEST';

export type GetFeaturesResponse =
  | { status: 'OK'; request_id: string; snapshot: FeatureSnapshot }
  | { status: 'ERROR'; request_id: string | null; error: { code: GetFeaturesErrorCode; detail: string } };
