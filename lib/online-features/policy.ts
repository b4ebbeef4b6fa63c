import { z } from 'zod';
import { ANCHOR_ENTITY_TYPES, type AnchorEntityType, FEATURE_KEY_TYPES } from './keys.ts';

/**
 * The feature policy (`config/online-features/feature-policy.json`, parsed by lib/runtime/online-features-config.ts):
 * which groups exist, which key types each answers for, over which windows, and which features. The intake writes
 * the same state whatever the policy (every key of every event, one entity row per anchor), so a new revision —
 * another window, another counterpart pair — is answered from the state already written, without a replay.
 *
 * Features of a key, per family a group turns on:
 * - `totals`: `event_count`, `amount_sum`, `last_event_ts_utc` (as of T), `event_count_<w>`, `amount_sum_<w>`;
 * - `first_seen`: `first_seen_age_seconds` = T − the key's first event time at or before T;
 * - `distinct_counterparts`: `distinct_<counterpart_type>_<w>` = distinct counterparts on the key's anchors in
 *   (T − w, T] (e.g. merchants per instrument).
 */

const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

export const FeatureWindow = z
  .strictObject({
    window: z.string().regex(/^[1-9][0-9]*[smhd]$/),
    duration_seconds: z.number().int().positive(),
  })
  .refine(
    (w) =>
      Number(w.window.slice(0, -1)) * UNIT_SECONDS[w.window.slice(-1) as keyof typeof UNIT_SECONDS] ===
      w.duration_seconds,
    { message: 'duration_seconds must be what the window label says (10m = 600)' },
  );
export type FeatureWindow = z.output<typeof FeatureWindow>;

export const DistinctCounterpartPair = z
  .strictObject({
    key_type: z.enum(ANCHOR_ENTITY_TYPES),
    counterpart_type: z.enum(ANCHOR_ENTITY_TYPES),
  })
  .refine((p) => p.key_type !== p.counterpart_type, { message: 'a key is not its own counterpart' });
export type DistinctCounterpartPair = z.output<typeof DistinctCounterpartPair>;

const unique = (values: readonly string[]) => new Set(values).size === values.length;

export const FeatureGroupPolicy = z
  .strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    key_types: z.array(z.enum(FEATURE_KEY_TYPES)).min(1),
    windows: z.array(FeatureWindow).min(1),
    totals: z.boolean(),
    first_seen: z.boolean(),
    distinct_counterparts: z.array(DistinctCounterpartPair).default([]),
  })
  .superRefine((group, ctx) => {
    if (!unique(group.key_types)) ctx.addIssue({ code: 'custom', path: ['key_types'], message: 'repeated' });
    if (!unique(group.windows.map((w) => w.window)))
      ctx.addIssue({ code: 'custom', path: ['windows'], message: 'a window label is repeated' });
    const pairs = group.distinct_counterparts.map((p) => `${p.key_type}>${p.counterpart_type}`);
    if (!unique(pairs))
      ctx.addIssue({ code: 'custom', path: ['distinct_counterparts'], message: 'a pair is repeated' });
    group.distinct_counterparts.forEach((pair, i) => {
      if (!group.key_types.includes(pair.key_type))
        ctx.addIssue({
          code: 'custom',
          path: ['distinct_counterparts', i, 'key_type'],
          message: `${pair.key_type} is not one of the group's key_types`,
        });
    });
    // Without totals or first_seen, a key type feeds only its pairs: one with none would answer nothing.
    if (!group.totals && !group.first_seen)
      group.key_types.forEach((keyType, i) => {
        if (!group.distinct_counterparts.some((p) => p.key_type === keyType))
          ctx.addIssue({
            code: 'custom',
            path: ['key_types', i],
            message: `${keyType} would have no feature (no totals, no first_seen, no pair)`,
          });
      });
  });
export type FeatureGroupPolicy = z.output<typeof FeatureGroupPolicy>;

export const FeaturePolicy = z
  .strictObject({
    policy_id: z.string().min(1),
    revision: z.string().min(1),
    feature_groups: z.array(FeatureGroupPolicy).min(1),
  })
  .refine((p) => unique(p.feature_groups.map((g) => `${g.name}@${g.version}`)), {
    message: 'a (name, version) group is declared twice',
    path: ['feature_groups'],
  });
export type FeaturePolicy = z.output<typeof FeaturePolicy>;

/** What to compute for one key type under the groups that cover it (windows and pairs merged, in policy order). */
export interface KeyFeaturePlan {
  totals: boolean;
  totalsWindows: FeatureWindow[];
  firstSeen: boolean;
  distinct: { counterpart_type: AnchorEntityType; window: FeatureWindow }[];
}

export function keyFeaturePlan(keyType: string, groups: readonly FeatureGroupPolicy[]): KeyFeaturePlan {
  const totals = new Map<string, FeatureWindow>();
  const distinct = new Map<string, KeyFeaturePlan['distinct'][number]>();
  let [withTotals, firstSeen] = [false, false];
  for (const group of groups) {
    if (!(group.key_types as readonly string[]).includes(keyType)) continue;
    firstSeen ||= group.first_seen;
    withTotals ||= group.totals;
    if (group.totals) for (const w of group.windows) totals.set(w.window, w);
    for (const pair of group.distinct_counterparts)
      if (pair.key_type === keyType)
        for (const w of group.windows)
          distinct.set(`${pair.counterpart_type}_${w.window}`, {
            counterpart_type: pair.counterpart_type,
            window: w,
          });
  }
  return {
    totals: withTotals,
    totalsWindows: [...totals.values()],
    firstSeen,
    distinct: [...distinct.values()],
  };
}
