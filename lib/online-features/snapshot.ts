import { canonicalJson } from '../contracts/canonical-json.ts';
import { sha256Hex } from '../contracts/identity.ts';
import {
  type FeatureKey,
  type FeatureSnapshot,
  type FreshnessFlag,
  GetFeaturesRequest,
  type GetFeaturesResponse,
  type KeyFeatures,
  type OffsetBasis,
} from '../contracts/online-features.ts';
import { describeIssues, PlatformError } from '../errors/platform-error.ts';
import { keyFeaturesAsOf } from './key-features.ts';
import type { FeaturePolicy } from './policy.ts';
import type { FeatureCheckpoint, FeatureReader } from './ports.ts';
import { tsMicrosOf } from './windows.ts';

/**
 * §2.3 `get_features`: the features of each requested key as of `as_of_time_utc` (events with event time ≤ it;
 * windows (as_of − w, as_of]; lib/online-features/key-features.ts), the offset basis over both topics, freshness
 * flags and `snapshot_hash` = sha256 of the snapshot's canonical JSON. The answer depends only on the state, never
 * on when or in which order events arrived. Errors: INVALID_REQUEST (the request), NOT_FOUND (no state for the
 * run), UNAVAILABLE (the store cannot answer).
 */

const latest = (times: readonly string[]) => times.reduce((a, b) => (a > b ? a : b));

/**
 * The offsets applied, per (topic, partition). `window_end_utc` is how far every topic has come: the lowest, over
 * the topics with an event time, of each one's highest (anchors running ahead do not hide a lagging traffic topic).
 */
export function offsetBasisOf(checkpoints: readonly FeatureCheckpoint[]): OffsetBasis {
  const sorted = [...checkpoints].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  const topics = [...new Set(sorted.map((c) => c.topic))];
  const stream = topics.join(',');
  const offsetKind = sorted[0]?.offset_kind ?? null;
  const offsets = sorted.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.next_offset }));
  const perTopic = topics
    .map((topic) =>
      sorted.flatMap((c) => (c.topic === topic && c.watermark_ts_utc !== null ? [c.watermark_ts_utc] : [])),
    )
    .filter((times) => times.length > 0);
  return {
    stream,
    offset_kind: offsetKind,
    offsets,
    basis_digest: sha256Hex(canonicalJson({ stream, offset_kind: offsetKind, offsets })),
    window_end_utc: perTopic.length === 0 ? null : perTopic.map(latest).reduce((a, b) => (a < b ? a : b)),
  };
}

export const snapshotHashOf = (snapshot: Omit<FeatureSnapshot, 'snapshot_hash' | 'snapshot_ref'>) =>
  sha256Hex(canonicalJson(snapshot));

const keyName = (key: FeatureKey) => `${key.key_type}:${key.key_id}`;

async function buildSnapshot(
  store: FeatureReader,
  request: GetFeaturesRequest,
  policy: FeaturePolicy,
): Promise<FeatureSnapshot> {
  const scope = {
    platform_run_id: request.pins.platform_run_id,
    scenario_run_id: request.pins.scenario_run_id,
  };
  const asOf = tsMicrosOf(request.as_of_time_utc);
  const groups = request.feature_groups.map((ref) => ({
    ref,
    policy: policy.feature_groups.find((g) => g.name === ref.name && g.version === ref.version),
  }));
  const found = groups.flatMap((g) => (g.policy ? [g.policy] : []));
  const missingGroups = groups.filter((g) => !g.policy).map((g) => g.ref.name);
  const features: Record<string, KeyFeatures> = {};
  const missingKeys: string[] = [];
  for (const key of request.feature_keys) {
    const name = keyName(key);
    if (name in features || missingKeys.includes(name)) continue;
    const covering = found.filter((g) => (g.key_types as readonly string[]).includes(key.key_type));
    const keyFeatures =
      covering.length === 0 ? undefined : await keyFeaturesAsOf(store, scope, key, asOf, covering);
    if (keyFeatures) features[name] = keyFeatures;
    else missingKeys.push(name);
  }
  const basis = offsetBasisOf(await store.checkpoints());
  const flags = new Set<FreshnessFlag>();
  if (missingKeys.length > 0) flags.add('MISSING_FEATURE_STATE');
  if (missingGroups.length > 0) flags.add('MISSING_FEATURE_GROUP');
  const stale = basis.window_end_utc === null || basis.window_end_utc < request.as_of_time_utc;
  if (stale) flags.add('STALE_INPUT_BASIS');
  if (request.graph_resolution_mode !== 'none') flags.add('GRAPH_VERSION_UNAVAILABLE');
  const red =
    found.length === 0 ||
    Object.keys(features).length === 0 ||
    request.graph_resolution_mode === 'require_ieg';
  const unsigned: Omit<FeatureSnapshot, 'snapshot_hash'> = {
    pins: request.pins,
    as_of_time_utc: request.as_of_time_utc,
    feature_groups: request.feature_groups,
    feature_def_policy_rev: { policy_id: policy.policy_id, revision: policy.revision },
    eb_offset_basis: basis,
    features,
    freshness: {
      state: red ? 'RED' : flags.size > 0 ? 'AMBER' : 'GREEN',
      flags: [...flags].sort(),
      stale_groups: stale ? found.map((g) => g.name).sort() : [],
      missing_groups: missingGroups.sort(),
      missing_feature_keys: missingKeys.sort(),
    },
  };
  return { ...unsigned, snapshot_hash: snapshotHashOf(unsigned) };
}

/** `get_features` for the decision lane; never throws for a request or a store outage (answers an error code). */
export async function getFeatures(
  store: FeatureReader,
  input: unknown,
  policy: FeaturePolicy,
): Promise<GetFeaturesResponse> {
  const parsed = GetFeaturesRequest.safeParse(input);
  if (!parsed.success) {
    const requestId =
      typeof input === 'object' &&
      input !== null &&
      typeof (input as { request_id?: unknown }).request_id === 'string'
        ? (input as { request_id: string }).request_id
        : null;
    const detail = describeIssues(parsed.error.issues).slice(0, 512);
    return { status: 'ERROR', request_id: requestId, error: { code: 'INVALID_REQUEST', detail } };
  }
  const request = parsed.data;
  const error = (code: 'NOT_FOUND' | 'UNAVAILABLE', detail: string): GetFeaturesResponse => ({
    status: 'ERROR',
    request_id: request.request_id,
    error: { code, detail },
  });
  try {
    const scope = {
      platform_run_id: request.pins.platform_run_id,
      scenario_run_id: request.pins.scenario_run_id,
    };
    if (!(await store.hasState(scope)))
      return error('NOT_FOUND', `no feature state for ${scope.platform_run_id}/${scope.scenario_run_id}`);
    return {
      status: 'OK',
      request_id: request.request_id,
      snapshot: await buildSnapshot(store, request, policy),
    };
  } catch (caught) {
    if (caught instanceof PlatformError && caught.retryable) return error('UNAVAILABLE', caught.code);
    throw caught;
  }
}
