import {
  ActionOutcomeEnvelope,
  type ActionOutcomePayload,
  deniedOutcomeId,
  executionOutcomeId,
} from '../contracts/action-layer.ts';
import {
  ACTION_LAYER_PRODUCER,
  ACTION_OUTCOME,
  type ActionIntentPayload,
  RTDL_SCHEMA_VERSION,
} from '../contracts/decision-lane.ts';
import { envelopeTsUtc } from '../contracts/envelope.ts';
import { type AuthzDecision, denialReason, executionProfileRef } from './authz.ts';
import type { ExecutionTerminal } from './executor.ts';

/**
 * The action_outcome an intent ends in (downstream.md §3.3) and its envelope: an executed or failed one carries the
 * retry engine's terminal and attempts; a denied one the authz reasons. Both carry the intent's lineage (decision,
 * action, idempotency key), actor, origin, pins and the governance block. The envelope is checked before it leaves.
 */

/** `…ffffffZ`: UTC with six fractional digits, as the envelopes carry time. */
export function microsUtc(at: Date): string {
  const text = envelopeTsUtc(at);
  if (text === undefined) throw new RangeError('completed_at is not a valid time');
  return text;
}

const lineageOf = (intent: ActionIntentPayload) => ({
  decision_id: intent.decision_id,
  action_id: intent.action_id,
  action_kind: intent.action_kind,
  idempotency_key: intent.idempotency_key,
  actor_principal: intent.actor_principal,
  origin: intent.origin,
});

const governanceOf = (intent: ActionIntentPayload, authz: AuthzDecision) => ({
  policy_rev: authz.policy_rev,
  execution_profile_ref: executionProfileRef(authz.policy_rev, authz.posture_mode),
  actor_principal: intent.actor_principal,
  origin: intent.origin,
});

/** The outcome of an allowed intent: EXECUTED, or FAILED (a failed or uncertain terminal). */
export function executionOutcome(
  intent: ActionIntentPayload,
  terminal: ExecutionTerminal,
  authz: AuthzDecision,
  completedAt: Date,
): ActionOutcomePayload {
  return {
    outcome_id: executionOutcomeId(intent, terminal),
    ...lineageOf(intent),
    status: terminal.terminal_state === 'EXECUTED' ? 'EXECUTED' : 'FAILED',
    authz_policy_rev: authz.policy_rev,
    run_config_digest: intent.run_config_digest,
    pins: intent.pins,
    completed_at_utc: microsUtc(completedAt),
    attempt_seq: terminal.final_attempt_seq,
    reason: terminal.reason_code,
    outcome_payload: {
      terminal_state: terminal.terminal_state,
      reason_code: terminal.reason_code,
      final_provider_code: terminal.final_provider_code,
      final_provider_ref: terminal.final_provider_ref,
      attempts: terminal.attempts,
      governance: governanceOf(intent, authz),
    },
  };
}

/** The outcome of a denied intent (attempt_seq 1, nothing executed). */
export function deniedOutcome(
  intent: ActionIntentPayload,
  authz: AuthzDecision,
  completedAt: Date,
): ActionOutcomePayload {
  const reason = denialReason(authz);
  return {
    outcome_id: deniedOutcomeId(intent, authz.policy_rev, reason),
    ...lineageOf(intent),
    status: 'DENIED',
    authz_policy_rev: authz.policy_rev,
    run_config_digest: intent.run_config_digest,
    pins: intent.pins,
    completed_at_utc: microsUtc(completedAt),
    attempt_seq: 1,
    reason,
    outcome_payload: { terminal_state: 'DENIED', governance: governanceOf(intent, authz) },
  };
}

/**
 * The envelope IG admits: event_id = outcome_id, schema v1, ts_utc = completed_at_utc, parent_event_id =
 * decision_id, producer action_layer, the pins at the top. Parsed, so a malformed one never leaves.
 */
export function outcomeEnvelope(outcome: ActionOutcomePayload): ActionOutcomeEnvelope {
  const { pins } = outcome;
  return ActionOutcomeEnvelope.parse({
    event_id: outcome.outcome_id,
    event_type: ACTION_OUTCOME,
    schema_version: RTDL_SCHEMA_VERSION,
    ts_utc: outcome.completed_at_utc,
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    seed: pins.seed,
    scenario_id: String(pins.scenario_id),
    platform_run_id: pins.platform_run_id,
    scenario_run_id: pins.scenario_run_id,
    parent_event_id: outcome.decision_id,
    producer: ACTION_LAYER_PRODUCER,
    payload: outcome,
  });
}
