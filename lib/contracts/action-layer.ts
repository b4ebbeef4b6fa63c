import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';
import {
  ACTION_LAYER_PRODUCER,
  ACTION_OUTCOME,
  type ActionIntentPayload,
  RTDL_SCHEMA_VERSION,
  RtdlPins,
} from './decision-lane.ts';
import { CanonicalEnvelope } from './envelope.ts';
import { sha256Hex } from './identity.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText, Uint64 } from './wire-primitives.ts';

/**
 * Wire shapes and recipes of the Action Layer (downstream.md §3.3): the bus record it reads, the `action_outcome`
 * payload and envelope it publishes through IG, IG's answer per envelope, and the hashes that make it idempotent
 * (semantic key, intent hash, outcome ids, outcome hash). Hashes are sha256 of canonical JSON, as the reference
 * writes them (no recipe name: `outcome_id` is byte-compatible with the reference's).
 */

/** The checkpoint / metric scope base: stream ids are `al.v0::<platform_run_id>` (§1). */
export const ACTION_LAYER_STREAM_BASE = 'al.v0';
export const actionLayerStreamId = (platformRunId: string) => `${ACTION_LAYER_STREAM_BASE}::${platformRunId}`;

/** One record read from fp.bus.rtdl.v1: where it sits on the bus and its (unchecked) envelope. */
export interface ActionLayerBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: string;
  envelope: unknown;
}

export const OUTCOME_STATUSES = ['EXECUTED', 'DENIED', 'FAILED'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** What one execution attempt answered (the executor port's states). */
export const EXECUTION_STATES = [
  'COMMITTED',
  'RETRYABLE_ERROR',
  'PERMANENT_ERROR',
  'UNKNOWN_COMMIT',
] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

/** How an intent ended: the retry engine's terminals, or DENIED by authz. UNCERTAIN_COMMIT is published as FAILED. */
export const TERMINAL_STATES = ['EXECUTED', 'FAILED', 'UNCERTAIN_COMMIT', 'DENIED'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];

/** IG's decisions on a pushed envelope; AMBIGUOUS is ours: IG could not be reached (after its retries). */
export const PUBLISH_DECISIONS = ['ADMIT', 'DUPLICATE', 'QUARANTINE', 'AMBIGUOUS'] as const;
export type PublishDecision = (typeof PUBLISH_DECISIONS)[number];
/** The decisions that settle an outcome's publish (the checkpoint may commit); AMBIGUOUS does not. */
export const SETTLED_PUBLISH_DECISIONS: ReadonlySet<PublishDecision> = new Set([
  'ADMIT',
  'DUPLICATE',
  'QUARANTINE',
]);

/** `{policy_id, revision, content_digest}` of the authz policy an outcome was judged under. */
export const AuthzPolicyRev = z.strictObject({
  policy_id: SafeText(128),
  revision: SafeText(128),
  content_digest: Hex64,
});
export type AuthzPolicyRev = z.infer<typeof AuthzPolicyRev>;

export const ExecutionAttempt = z.strictObject({
  attempt_seq: z.number().int().min(1),
  state: z.enum(EXECUTION_STATES),
  provider_code: SafeText(256),
  provider_ref: SafeText(1024).optional(),
  message: z.string().max(2048),
});
export type ExecutionAttempt = z.infer<typeof ExecutionAttempt>;

const Governance = z.strictObject({
  policy_rev: AuthzPolicyRev,
  /** `policy://<policy_id>@<revision>#mode=<posture mode>`. */
  execution_profile_ref: SafeText(512),
  actor_principal: SafeText(256),
  origin: SafeText(32),
});

const TERMINALS_OF_STATUS: Readonly<Record<OutcomeStatus, readonly TerminalState[]>> = {
  EXECUTED: ['EXECUTED'],
  DENIED: ['DENIED'],
  FAILED: ['FAILED', 'UNCERTAIN_COMMIT'],
};

/** §3.3 the action_outcome payload; a DENIED one carries no execution fields in its outcome_payload. */
export const ActionOutcomePayload = z
  .strictObject({
    outcome_id: Hex32,
    decision_id: Hex32,
    action_id: Hex32,
    action_kind: SafeText(64),
    status: z.enum(OUTCOME_STATUSES),
    idempotency_key: Hex32,
    actor_principal: SafeText(256),
    origin: SafeText(32),
    authz_policy_rev: AuthzPolicyRev,
    run_config_digest: Hex64,
    pins: RtdlPins,
    completed_at_utc: Rfc3339Micros,
    attempt_seq: z.number().int().min(1),
    reason: SafeText(2048),
    outcome_payload: z.strictObject({
      terminal_state: z.enum(TERMINAL_STATES),
      reason_code: SafeText(512).optional(),
      final_provider_code: SafeText(256).optional(),
      final_provider_ref: SafeText(1024).nullable().optional(),
      attempts: z.array(ExecutionAttempt).optional(),
      governance: Governance,
    }),
  })
  .refine((o) => TERMINALS_OF_STATUS[o.status].includes(o.outcome_payload.terminal_state), {
    message: 'status and outcome_payload.terminal_state disagree',
    path: ['outcome_payload', 'terminal_state'],
  });
export type ActionOutcomePayload = z.infer<typeof ActionOutcomePayload>;

/** The action_outcome envelope: event_id = outcome_id, v1, parent = decision_id, producer action_layer, the pins. */
export const ActionOutcomeEnvelope = CanonicalEnvelope.extend({
  event_id: Hex32,
  event_type: z.literal(ACTION_OUTCOME),
  schema_version: z.literal(RTDL_SCHEMA_VERSION),
  producer: z.literal(ACTION_LAYER_PRODUCER),
  parent_event_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  parameter_hash: Hex64,
  seed: Uint64,
  scenario_id: SafeText(256),
  payload: ActionOutcomePayload,
}).refine(
  (e) =>
    e.event_id === e.payload.outcome_id &&
    e.parent_event_id === e.payload.decision_id &&
    e.ts_utc === e.payload.completed_at_utc,
  {
    message: 'event_id, parent_event_id and ts_utc must be the outcome_id, decision_id and completed_at_utc',
  },
);
export type ActionOutcomeEnvelope = z.infer<typeof ActionOutcomeEnvelope>;

/** IG's answer to one pushed envelope, as the publisher port gives it; anything else fails closed (AMBIGUOUS). */
export const OutcomePublishAnswer = z.object({
  decision: z.enum(['ADMIT', 'DUPLICATE', 'QUARANTINE']),
  receipt_ref: SafeText(1024).nullable().optional(),
});
export type OutcomePublishAnswer = z.infer<typeof OutcomePublishAnswer>;

// ---- hashes and ids ----

const sha256Canonical = (value: unknown) => sha256Hex(canonicalJson(value));

/** §3.3 semantic_key = sha256(canonical {platform_run_id, scenario_run_id, idempotency_key}) (64 hex). */
export const semanticKey = (
  pins: Pick<RtdlPins, 'platform_run_id' | 'scenario_run_id'>,
  idempotencyKey: string,
) =>
  sha256Canonical({
    platform_run_id: pins.platform_run_id,
    scenario_run_id: pins.scenario_run_id,
    idempotency_key: idempotencyKey,
  });

/**
 * §3.3 the intent hash the semantic ledger guards: sha256 over {action_id, decision_id, action_kind,
 * idempotency_key, actor_principal, origin, policy_rev, run_config_digest, pins (the six), action_payload}.
 * `requested_at_utc` and `reason_ref` are not in it: a re-emitted intent that differs only there is a duplicate.
 */
export const intentHash = (intent: ActionIntentPayload) =>
  sha256Canonical({
    action_id: intent.action_id,
    decision_id: intent.decision_id,
    action_kind: intent.action_kind,
    idempotency_key: intent.idempotency_key,
    actor_principal: intent.actor_principal,
    origin: intent.origin,
    policy_rev: intent.policy_rev,
    run_config_digest: intent.run_config_digest,
    pins: {
      platform_run_id: intent.pins.platform_run_id,
      scenario_run_id: intent.pins.scenario_run_id,
      manifest_fingerprint: intent.pins.manifest_fingerprint,
      parameter_hash: intent.pins.parameter_hash,
      scenario_id: intent.pins.scenario_id,
      seed: intent.pins.seed,
    },
    action_payload: intent.action_payload,
  });

interface OutcomeLineage {
  decision_id: string;
  action_id: string;
  idempotency_key: string;
}

/** §3.3 outcome_id of an executed or failed intent: sha256{ids, terminal_state, reason_code, final_attempt_seq}[:32]. */
export const executionOutcomeId = (
  lineage: OutcomeLineage,
  terminal: { terminal_state: TerminalState; reason_code: string; final_attempt_seq: number },
) =>
  sha256Canonical({
    decision_id: lineage.decision_id,
    action_id: lineage.action_id,
    idempotency_key: lineage.idempotency_key,
    terminal_state: terminal.terminal_state,
    reason_code: terminal.reason_code,
    final_attempt_seq: terminal.final_attempt_seq,
  }).slice(0, 32);

/** §3.3 outcome_id of a denied intent: sha256{ids, status DENIED, authz_policy_rev, reason}[:32]. */
export const deniedOutcomeId = (lineage: OutcomeLineage, authzPolicyRev: AuthzPolicyRev, reason: string) =>
  sha256Canonical({
    decision_id: lineage.decision_id,
    action_id: lineage.action_id,
    idempotency_key: lineage.idempotency_key,
    status: 'DENIED',
    authz_policy_rev: authzPolicyRev,
    reason,
  }).slice(0, 32);

/** The hash `al_outcomes_append` guards: sha256 of the canonical outcome payload (`OUTCOME_HASH_MISMATCH`). */
export const outcomeHash = (outcome: ActionOutcomePayload) => sha256Canonical(outcome);
