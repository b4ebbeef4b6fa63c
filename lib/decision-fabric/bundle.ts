import { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { sha256Hex } from '../contracts/identity.ts';

/**
 * The Decision Fabric's rules bundle (downstream.md §3.2 "Registry"; deliberate difference: explainable rules over
 * the online features, no model): its scope, the feature groups it needs from OFP, and scored rules — each a few
 * features of the flow's keys against thresholds, all of which must hold, with the reason code it adds when it fires —
 * and the scores at which
 * the action becomes STEP_UP, QUEUE_REVIEW or DECLINE. Versioned by `bundle_version`; its `bundle_ref` is the sha256 of
 * its canonical JSON (the registry snapshot the Degrade Ladder's `registry_health` reads).
 */

export const RULE_KEY_TYPES = [
  'flow_id',
  'party_id',
  'account_id',
  'instrument_id',
  'device_id',
  'ip_id',
  'merchant_id',
  'account_device',
  'account_ip',
] as const;

const ReasonCode = z.string().regex(/^[A-Z][A-Z0-9_]*(:[A-Za-z0-9_.-]+)?$/);

/** One test of a rule: the feature of the snapshot's key of `key_type` against a threshold. */
export const Condition = z.strictObject({
  key_type: z.enum(RULE_KEY_TYPES),
  /** A feature name of the OFP snapshot (`event_count_10m`, `distinct_merchant_id_1h`, `first_seen_age_seconds`…). */
  feature: z.string().regex(/^[a-z][a-z0-9_]*$/),
  op: z.enum(['gte', 'lte']),
  threshold: z.number().finite(),
});
export type Condition = z.infer<typeof Condition>;

export const Rule = z.strictObject({
  rule_id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  /** What the rule looks for, in words (shown beside its reason code in the docs and the quality report). */
  description: z.string().min(1).max(512),
  /** Fires when every condition holds (a condition whose feature is absent or not a number does not hold). */
  conditions: z.array(Condition).min(1).max(8),
  /** Added to the score when it fires. */
  weight: z.number().finite().positive(),
  reason_code: ReasonCode,
});
export type Rule = z.infer<typeof Rule>;

export const RulesBundle = z
  .strictObject({
    bundle_id: z.string().min(1),
    bundle_version: z.string().min(1),
    scope: z.strictObject({
      environment: z.string().min(1),
      mode: z.enum(['fraud', 'baseline']),
      bundle_slot: z.literal('primary'),
      tenant: z.string().min(1),
    }),
    /** The OFP groups the rules read, each at its version (a snapshot without them is FEATURE_GROUP_MISSING). */
    requires_feature_groups: z
      .array(z.strictObject({ name: z.string().min(1), version: z.string().min(1) }))
      .min(1),
    rules: z.array(Rule).min(1),
    /** Scores at or above which the action is STEP_UP, QUEUE_REVIEW, DECLINE (below the first: ALLOW). */
    actions: z.strictObject({
      step_up_at: z.number().finite().positive(),
      queue_review_at: z.number().finite().positive(),
      decline_at: z.number().finite().positive(),
    }),
  })
  .refine(
    (b) =>
      b.actions.step_up_at <= b.actions.queue_review_at && b.actions.queue_review_at <= b.actions.decline_at,
    {
      message: 'step_up_at ≤ queue_review_at ≤ decline_at',
      path: ['actions'],
    },
  )
  .refine((b) => new Set(b.rules.map((r) => r.rule_id)).size === b.rules.length, {
    message: 'rule ids are unique',
    path: ['rules'],
  });
export type RulesBundle = z.infer<typeof RulesBundle>;

/** The bundle's ref: sha256 of its canonical JSON (64 hex). */
export const bundleRefOf = (bundle: RulesBundle) => sha256Hex(canonicalJson(bundle));
