import type { FeatureKey, KeyFeatures } from '../contracts/online-features.ts';
import { isAnchorEntityType } from './keys.ts';
import { type FeatureGroupPolicy, keyFeaturePlan } from './policy.ts';
import type { FeatureReader, FeatureScope } from './ports.ts';
import { addTotals, amountOf, secondsOf, type Totals, tsUtcOf, windowPlan } from './windows.ts';

/**
 * The features of one key as of T, as the policy's groups ask (lib/online-features/policy.ts): every read is
 * bounded by T, so an event never sees its own future, and the answer depends only on the state.
 */

const ZERO: Totals = { event_count: 0, amount_micros: 0n };
const MICROS_PER_SECOND = 1_000_000n;

/** The events of (after, atOrBefore] for one key: whole buckets plus the events at the cut ends. */
export async function totalsBetween(
  store: FeatureReader,
  scope: FeatureScope,
  key: FeatureKey,
  after: bigint | null,
  atOrBefore: bigint,
): Promise<Totals> {
  const plan = windowPlan(after, atOrBefore);
  let totals = plan.buckets
    ? await store.sumBuckets(scope, key, plan.buckets.first, plan.buckets.last)
    : ZERO;
  for (const range of plan.events)
    totals = addTotals(totals, await store.sumEvents(scope, key, range.after, range.atOrBefore));
  return totals;
}

/** The features of one key as of `asOf` under `groups`; undefined when the key has no event at or before it. */
export async function keyFeaturesAsOf(
  store: FeatureReader,
  scope: FeatureScope,
  key: FeatureKey,
  asOf: bigint,
  groups: readonly FeatureGroupPolicy[],
): Promise<KeyFeatures | undefined> {
  const last = await store.lastEventAtOrBefore(scope, key, asOf);
  if (last === undefined) return undefined;
  const plan = keyFeaturePlan(key.key_type, groups);
  const features: KeyFeatures = {};
  if (plan.totals) {
    const cumulative = await totalsBetween(store, scope, key, null, asOf);
    features.event_count = cumulative.event_count;
    features.amount_sum = amountOf(cumulative.amount_micros);
    features.last_event_ts_utc = tsUtcOf(last);
    for (const w of plan.totalsWindows) {
      const after = asOf - BigInt(w.duration_seconds) * MICROS_PER_SECOND;
      const totals = await totalsBetween(store, scope, key, after, asOf);
      features[`event_count_${w.window}`] = totals.event_count;
      features[`amount_sum_${w.window}`] = amountOf(totals.amount_micros);
    }
  }
  if (plan.firstSeen) {
    const first = (await store.firstEventAtOrBefore(scope, key, asOf)) ?? last;
    features.first_seen_age_seconds = secondsOf(asOf - first);
  }
  if (isAnchorEntityType(key.key_type)) {
    const entityKey = { key_type: key.key_type, key_id: key.key_id };
    for (const { counterpart_type, window } of plan.distinct) {
      const after = asOf - BigInt(window.duration_seconds) * MICROS_PER_SECOND;
      features[`distinct_${counterpart_type}_${window.window}`] = await store.distinctCounterparts(
        scope,
        entityKey,
        counterpart_type,
        after,
        asOf,
      );
    }
  }
  return features;
}
