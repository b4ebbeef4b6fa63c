import type { ActionOutcomePayload } from '../contracts/action-layer.ts';
import {
  CASE_TRIGGER_EVENT_TYPE,
  CASE_TRIGGER_PRODUCER,
  CASE_TRIGGER_SCHEMA_VERSION,
  type CaseSubjectKey,
  type CaseTriggerEnvelope,
  CaseTriggerEnvelope as CaseTriggerEnvelopeSchema,
  type CaseTriggerPayload,
  caseId,
  caseTriggerId,
  caseTriggerPayloadHash,
  type EvidenceRef,
  sortedEvidence,
  type TriggerType,
} from '../contracts/case-trigger.ts';
import type { DecisionResponsePayload, RtdlPins } from '../contracts/decision-lane.ts';
import type { DecisionSource } from './ports.ts';

/**
 * The case trigger's recipes (downstream.md §4.1): which decisions escalate, the DECISION_ESCALATION of a decision and
 * the ACTION_FAILURE of a failed or denied outcome (its subject is the decision's source event, so it lands on the same
 * case), and the envelope IG admits. Ids and the payload hash come from the contract's recipes, so every reader
 * re-derives them; the envelope is parsed before it leaves.
 */

/** The case subject's event class: the source events the decisions are about (traffic with fraud). */
export const CASE_EVENT_CLASS = 'traffic_fraud';
/** The decision fabric's action kind that needs no person (decide.ts ACTION_KINDS). */
export const ALLOW_ACTION_KIND = 'ALLOW';

/**
 * Which decisions become a DECISION_ESCALATION: `non_allow` (ours, the default) only those whose action is not ALLOW;
 * `every_decision` every one, as the reference does.
 */
export const ESCALATION_MODES = ['non_allow', 'every_decision'] as const;
export type EscalationMode = (typeof ESCALATION_MODES)[number];

/** The outcome statuses that raise an ACTION_FAILURE (EXECUTED does not). */
export const FAILURE_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'DENIED']);

export const escalates = (decision: DecisionResponsePayload, mode: EscalationMode): boolean =>
  mode === 'every_decision' || decision.decision.action_kind !== ALLOW_ACTION_KIND;

/** The evidence id of the decision log's audit record of a decision or an outcome (§4.1: `audit_<id>`). */
const auditRef = (id: string): EvidenceRef => ({ ref_type: 'DLA_AUDIT_RECORD', ref_id: `audit_${id}` });

interface TriggerBasis {
  trigger_type: TriggerType;
  source_ref_id: string;
  case_subject_key: CaseSubjectKey;
  pins: RtdlPins;
  observed_time: string;
  evidence_refs: EvidenceRef[];
  trigger_payload: Record<string, unknown>;
}

function trigger(basis: TriggerBasis): CaseTriggerPayload {
  const caseIdValue = caseId(basis.case_subject_key);
  const evidence = sortedEvidence(basis.evidence_refs);
  return {
    case_trigger_id: caseTriggerId(caseIdValue, basis.trigger_type, basis.source_ref_id),
    case_id: caseIdValue,
    trigger_type: basis.trigger_type,
    source_ref_id: basis.source_ref_id,
    case_subject_key: basis.case_subject_key,
    pins: basis.pins,
    observed_time: basis.observed_time,
    evidence_refs: evidence,
    trigger_payload: basis.trigger_payload,
    payload_hash: caseTriggerPayloadHash({ ...basis, evidence_refs: evidence }),
  };
}

/** The decision's DECISION_ESCALATION: its source event's case, observed when it was decided. */
export function decisionEscalation(decision: DecisionResponsePayload): CaseTriggerPayload {
  return trigger({
    trigger_type: 'DECISION_ESCALATION',
    source_ref_id: `decision:${decision.decision_id}`,
    case_subject_key: {
      platform_run_id: decision.pins.platform_run_id,
      event_class: CASE_EVENT_CLASS,
      event_id: decision.source_event.event_id,
    },
    pins: decision.pins,
    observed_time: decision.decided_at_utc,
    evidence_refs: [{ ref_type: 'DECISION', ref_id: decision.decision_id }, auditRef(decision.decision_id)],
    trigger_payload: {
      source_contract: 'decision_response',
      decision_kind: decision.decision_kind,
      decision_action_kind: decision.decision.action_kind,
    },
  });
}

/** A failed or denied outcome's ACTION_FAILURE, on the case of its decision's source event. */
export function actionFailure(outcome: ActionOutcomePayload, source: DecisionSource): CaseTriggerPayload {
  return trigger({
    trigger_type: 'ACTION_FAILURE',
    source_ref_id: `action_outcome:${outcome.outcome_id}`,
    case_subject_key: {
      platform_run_id: outcome.pins.platform_run_id,
      event_class: CASE_EVENT_CLASS,
      event_id: source.source_event_id,
    },
    pins: outcome.pins,
    observed_time: outcome.completed_at_utc,
    evidence_refs: [{ ref_type: 'ACTION_OUTCOME', ref_id: outcome.outcome_id }, auditRef(outcome.outcome_id)],
    trigger_payload: {
      source_contract: 'action_outcome',
      status: outcome.status,
      action_id: outcome.action_id,
      action_kind: outcome.action_kind,
    },
  });
}

/**
 * The envelope IG admits: event_id = case_trigger_id, case_trigger v1, ts_utc = observed_time, parent_event_id =
 * source_ref_id, producer case_trigger, the six pins at the top (as the other rtdl producers write them).
 */
export function caseTriggerEnvelope(payload: CaseTriggerPayload): CaseTriggerEnvelope {
  const { pins } = payload;
  return CaseTriggerEnvelopeSchema.parse({
    event_id: payload.case_trigger_id,
    event_type: CASE_TRIGGER_EVENT_TYPE,
    schema_version: CASE_TRIGGER_SCHEMA_VERSION,
    ts_utc: payload.observed_time,
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    seed: pins.seed,
    scenario_id: String(pins.scenario_id),
    platform_run_id: pins.platform_run_id,
    scenario_run_id: pins.scenario_run_id,
    parent_event_id: payload.source_ref_id,
    producer: CASE_TRIGGER_PRODUCER,
    payload,
  });
}
