import { z } from 'zod';
import type { AuthzPolicyRev } from '../contracts/action-layer.ts';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { type ActionIntentPayload, DECISION_FABRIC_ACTOR } from '../contracts/decision-lane.ts';
import { sha256Hex } from '../contracts/identity.ts';
import { SafeText } from '../contracts/wire-primitives.ts';

/**
 * The Action Layer's authz (downstream.md §3.3, the reference's `al/policy_v0.yaml`): an intent runs only under a
 * NORMAL posture that allows execution, from an allowed origin, of an allowed action kind, by an actor whose
 * principal starts with a prefix allowed for its origin. Anything else is DENIED — an outcome that is still
 * published. The posture is an input, read by the caller as the Decision Fabric reads the ladder's (missing ⇒ fail
 * safe), so the judgement itself is pure.
 */

export const ACTION_ORIGINS = ['DF', 'CASE', 'HUMAN', 'OPS'] as const;

const Names = z.array(SafeText(128)).min(1);

export const RetryPolicy = z
  .strictObject({
    max_attempts: z.number().int().min(1).max(10),
    base_backoff_ms: z.number().int().min(1),
    max_backoff_ms: z.number().int().min(1),
  })
  .refine((r) => r.max_backoff_ms >= r.base_backoff_ms, {
    message: 'max_backoff_ms must be at least base_backoff_ms',
    path: ['max_backoff_ms'],
  });
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const ActionLayerPolicy = z
  .strictObject({
    version: SafeText(32),
    policy_id: SafeText(128),
    revision: SafeText(128),
    retry: RetryPolicy,
    authz: z.strictObject({
      allowed_origins: Names,
      allowed_action_kinds: Names,
      /** Per allowed origin, the prefixes its actor principals must start with. */
      actor_principal_prefix_allowlist: z.record(z.string(), Names),
    }),
  })
  .refine((p) => p.authz.allowed_origins.every((o) => p.authz.actor_principal_prefix_allowlist[o]), {
    message: 'every allowed origin names its actor principal prefixes',
    path: ['authz', 'actor_principal_prefix_allowlist'],
  });
export type ActionLayerPolicy = z.infer<typeof ActionLayerPolicy>;

/** The reference's `al.authz.v0` r1 (plus DECLINE among the action kinds). */
export const ACTION_LAYER_POLICY_V0: ActionLayerPolicy = ActionLayerPolicy.parse({
  version: 'v0',
  policy_id: 'al.authz.v0',
  revision: 'r1',
  retry: { max_attempts: 3, base_backoff_ms: 100, max_backoff_ms: 1000 },
  authz: {
    allowed_origins: [...ACTION_ORIGINS],
    allowed_action_kinds: [
      'ALLOW',
      'STEP_UP',
      'QUEUE_REVIEW',
      'DECLINE',
      'txn_disposition_publish',
      'txn_step_up',
      'txn_block',
      'case_queue',
    ],
    actor_principal_prefix_allowlist: {
      DF: [DECISION_FABRIC_ACTOR],
      CASE: ['SYSTEM::case_management', 'HUMAN::analyst'],
      HUMAN: ['HUMAN::'],
      OPS: ['SYSTEM::ops', 'HUMAN::ops'],
    },
  },
});

const sortedUnique = (names: readonly string[]) => [...new Set(names)].sort();

/** `{policy_id, revision, content_digest}`: the digest is sha256 of the canonical policy, its lists sorted. */
export function authzPolicyRev(policy: ActionLayerPolicy): AuthzPolicyRev {
  const allowlist = policy.authz.actor_principal_prefix_allowlist;
  const content = {
    ...policy,
    authz: {
      allowed_origins: sortedUnique(policy.authz.allowed_origins),
      allowed_action_kinds: sortedUnique(policy.authz.allowed_action_kinds),
      actor_principal_prefix_allowlist: Object.fromEntries(
        Object.entries(allowlist).map(([origin, prefixes]) => [origin, sortedUnique(prefixes)]),
      ),
    },
  };
  return {
    policy_id: policy.policy_id,
    revision: policy.revision,
    content_digest: sha256Hex(canonicalJson(content)),
  };
}

/** The posture execution runs under: only NORMAL with allow_execution executes. */
export interface ExecutionPosture {
  mode: string;
  allow_execution: boolean;
  /** Why the posture is what it is ('' when there is nothing to say). */
  reason: string;
}

/**
 * The execution posture from the Degrade Ladder's effective posture (`effectivePosture`: the stored one, or the
 * FAIL_CLOSED failsafe with its reason): execution is allowed only on a stored NORMAL posture.
 */
export function executionPostureOf(effective: {
  mode: string;
  source: 'STORE' | 'FAILSAFE';
  reason: string | null;
}): ExecutionPosture {
  return {
    mode: effective.mode,
    allow_execution: effective.mode === 'NORMAL' && effective.source === 'STORE',
    reason: effective.reason ?? '',
  };
}

export const AUTHZ_REASONS = [
  'POSTURE_MISSING_FAIL_SAFE',
  'AUTHZ_ORIGIN_DENY',
  'AUTHZ_ACTION_KIND_DENY',
  'AUTHZ_ACTOR_PRINCIPAL_DENY',
] as const;

export interface AuthzDecision {
  allowed: boolean;
  /** Empty when allowed; `POSTURE_BLOCK:<mode>` + the posture's reason, or the sorted AUTHZ_* reasons. */
  reason_codes: string[];
  posture_mode: string;
  policy_rev: AuthzPolicyRev;
}

/** §3.3 authz of one intent under a posture (undefined: none could be read ⇒ denied, fail safe). */
export function authorizeIntent(
  intent: Pick<ActionIntentPayload, 'origin' | 'action_kind' | 'actor_principal'>,
  policy: ActionLayerPolicy,
  posture: ExecutionPosture | undefined,
): AuthzDecision {
  const policyRev = authzPolicyRev(policy);
  if (posture === undefined)
    return {
      allowed: false,
      reason_codes: ['POSTURE_MISSING_FAIL_SAFE'],
      posture_mode: 'FAIL_CLOSED',
      policy_rev: policyRev,
    };
  const mode = posture.mode.trim().toUpperCase();
  if (mode !== 'NORMAL' || !posture.allow_execution)
    return {
      allowed: false,
      reason_codes: [`POSTURE_BLOCK:${mode}`, posture.reason.trim() || 'POSTURE_BLOCKED'],
      posture_mode: mode,
      policy_rev: policyRev,
    };
  const { authz } = policy;
  const reasons = new Set<string>();
  if (!authz.allowed_action_kinds.includes(intent.action_kind)) reasons.add('AUTHZ_ACTION_KIND_DENY');
  // The actor is judged against its origin's prefixes; an origin that is not allowed is denied as such alone.
  if (!authz.allowed_origins.includes(intent.origin)) reasons.add('AUTHZ_ORIGIN_DENY');
  else {
    const prefixes = authz.actor_principal_prefix_allowlist[intent.origin] ?? [];
    if (!prefixes.some((prefix) => intent.actor_principal.startsWith(prefix)))
      reasons.add('AUTHZ_ACTOR_PRINCIPAL_DENY');
  }
  return {
    allowed: reasons.size === 0,
    reason_codes: [...reasons].sort(),
    posture_mode: mode,
    policy_rev: policyRev,
  };
}

/** The outcome's `reason` for a denial: its reason codes joined by `;`. */
export const denialReason = (decision: AuthzDecision) =>
  decision.reason_codes.length > 0 ? decision.reason_codes.join(';') : 'AUTHZ_DENIED';

/** `policy://<policy_id>@<revision>#mode=<MODE>` (the outcome's governance.execution_profile_ref). */
export const executionProfileRef = (policyRev: AuthzPolicyRev, postureMode: string) =>
  `policy://${policyRev.policy_id}@${policyRev.revision}#mode=${postureMode.trim().toUpperCase() || 'UNKNOWN'}`;
