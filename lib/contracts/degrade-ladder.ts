import { z } from 'zod';

/**
 * The Degrade Ladder's posture as the Decision Fabric reads it (downstream.md §3.1): the modes from best to worst and
 * the capabilities each allows.
 */

export const MODES = ['NORMAL', 'DEGRADED_1', 'DEGRADED_2', 'FAIL_CLOSED'] as const;
export const Mode = z.enum(MODES);
export type Mode = z.infer<typeof Mode>;

export const FEATURE_GROUPS = ['core_features', 'velocity', 'entity_graph'] as const;

export const CapabilitiesMask = z.strictObject({
  allow_ieg: z.boolean(),
  allowed_feature_groups: z.array(z.enum(FEATURE_GROUPS)),
  allow_model_primary: z.boolean(),
  allow_model_stage2: z.boolean(),
  allow_fallback_heuristics: z.boolean(),
  action_posture: z.enum(['NORMAL', 'STEP_UP_ONLY']),
});
export type CapabilitiesMask = z.infer<typeof CapabilitiesMask>;

/**
 * The posture as the Decision Fabric uses it (downstream.md §3.1; `effectivePosture` in
 * lib/degrade-ladder/posture-reader.ts): the stored one while it is young enough, else the FAIL_CLOSED mask with the
 * reason (FAILSAFE_MISSING, FAILSAFE_STORE_ERROR, FAILSAFE_STALE).
 */
export interface EffectivePosture {
  mode: Mode;
  capabilities_mask: CapabilitiesMask;
  source: 'STORE' | 'FAILSAFE';
  reason: string | null;
  posture_seq: number | null;
  policy_rev: string | null;
  /** When the stored posture was decided (null for a failsafe without one). */
  decided_at_utc: string | null;
}
