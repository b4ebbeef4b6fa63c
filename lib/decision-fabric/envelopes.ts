import { canonicalJson } from '../contracts/canonical-json.ts';
import {
  ACTION_INTENT,
  type ActionIntentPayload,
  actionId,
  type BundleRef,
  DECISION_FABRIC_ACTOR,
  DECISION_FABRIC_PRODUCER,
  DECISION_RESPONSE,
  type DecisionResponsePayload,
  decisionEventId,
  decisionId,
  intentEventId,
  intentIdempotencyKey,
  RTDL_SCHEMA_VERSION,
  type RtdlPins,
} from '../contracts/decision-lane.ts';
import type { EffectivePosture } from '../contracts/degrade-ladder.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { sha256Hex } from '../contracts/identity.ts';
import type { FeatureSnapshot } from '../contracts/online-features.ts';
import type { TrafficEvent } from './context.ts';
import type { ContextStatus, Decision } from './decide.ts';

/**
 * The decision_response and action_intent of one decision (downstream.md §3.2): payloads, ids by the recipes in
 * lib/contracts/decision-lane.ts, envelopes (schema v1, producer decision_fabric, parent = the source event). The
 * payload hash the replay ledger compares covers what the decision is — ids, action, reasons, statuses, the source
 * event, bundle and pins — and not when it was made, nor the offsets the snapshot happened to see.
 */

export const FAIL_CLOSED_BUNDLE: BundleRef = {
  bundle_id: '0'.repeat(64),
  bundle_version: 'fail_closed',
  registry_ref: 'registry://fail_closed',
};

export interface DecisionBasis {
  event: TrafficEvent;
  bundleRef: BundleRef;
  policyRev: { policy_id: string; revision: string };
  runConfigDigest: string;
  posture: EffectivePosture;
  snapshot: FeatureSnapshot | null;
  contextStatus: ContextStatus;
  registryOutcome: 'RESOLVED' | 'FAIL_CLOSED';
  contextEvidenceDigest: string;
  decision: Decision;
  score: number;
  decidedAt: string;
}

export interface BuiltDecision {
  decisionId: string;
  envelopes: CanonicalEnvelope[];
  payloadHash: string;
}

const rtdlPinsOf = (event: TrafficEvent): RtdlPins => ({
  platform_run_id: event.pins.platform_run_id,
  scenario_run_id: event.pins.scenario_run_id,
  manifest_fingerprint: event.pins.manifest_fingerprint,
  parameter_hash: event.pins.parameter_hash,
  scenario_id: event.pins.scenario_id,
  seed: event.pins.seed,
});

const envelopeOf = (
  eventId: string,
  eventType: string,
  ts: string,
  pins: RtdlPins,
  parent: string,
  payload: Record<string, unknown>,
): CanonicalEnvelope => ({
  event_id: eventId,
  event_type: eventType,
  schema_version: RTDL_SCHEMA_VERSION,
  ts_utc: ts,
  ...pins,
  producer: DECISION_FABRIC_PRODUCER,
  parent_event_id: parent,
  payload,
});

export function buildDecision(basis: DecisionBasis): BuiltDecision {
  const { event, decision, posture } = basis;
  const source = event.envelope;
  const pins = rtdlPinsOf(event);
  const originOffset = {
    topic: event.record.topic,
    partition: event.record.partition,
    offset: event.record.offset,
    offset_kind: event.record.offset_kind,
  };
  const id = decisionId({
    sourceEventId: source.event_id,
    platformRunId: pins.platform_run_id,
    bundleRef: basis.bundleRef,
    originOffset,
  });
  const actionKind = decision.action_kind;
  const response: DecisionResponsePayload = {
    decision_id: id,
    decision_kind: 'fraud_decision_v0',
    bundle_ref: basis.bundleRef,
    snapshot_hash: basis.snapshot?.snapshot_hash ?? null,
    graph_version: null,
    eb_offset_basis: basis.snapshot
      ? (basis.snapshot.eb_offset_basis as unknown as Record<string, unknown>)
      : null,
    degrade_posture: {
      mode: posture.mode,
      capabilities_mask: posture.capabilities_mask,
      policy_rev: { revision: posture.policy_rev ?? 'none' },
      posture_seq: posture.posture_seq ?? 0,
      decided_at_utc: posture.decided_at_utc ?? basis.decidedAt,
      reason: posture.reason ?? 'STORE',
    },
    pins,
    decided_at_utc: basis.decidedAt,
    policy_rev: basis.policyRev,
    run_config_digest: basis.runConfigDigest,
    source_event: {
      event_id: source.event_id,
      event_type: source.event_type,
      ts_utc: source.ts_utc,
      origin_offset: originOffset,
      eb_ref: { ...originOffset, published_at_utc: event.record.published_at_utc },
    },
    decision: {
      action_kind: actionKind,
      context_status: basis.contextStatus,
      registry_outcome: basis.registryOutcome,
      context_evidence_digest: basis.contextEvidenceDigest,
      score: basis.score,
    },
    reason_codes: decision.reason_codes,
  };
  const idempotencyKey = intentIdempotencyKey(source.event_id, actionKind, pins);
  const intent: ActionIntentPayload = {
    action_id: actionId(id, actionKind),
    decision_id: id,
    action_kind: actionKind,
    idempotency_key: idempotencyKey,
    pins,
    requested_at_utc: basis.decidedAt,
    actor_principal: DECISION_FABRIC_ACTOR,
    origin: 'DF',
    policy_rev: basis.policyRev,
    run_config_digest: basis.runConfigDigest,
    reason_ref: `decision://${id}`,
    action_payload: {
      source_event_id: source.event_id,
      source_event_type: source.event_type,
      action_posture: posture.capabilities_mask.action_posture,
    },
  };
  const decisionEnvelope = envelopeOf(
    decisionEventId(source.event_id, pins),
    DECISION_RESPONSE,
    basis.decidedAt,
    pins,
    source.event_id,
    response,
  );
  const intentEnvelope = envelopeOf(
    intentEventId(source.event_id, actionKind, pins),
    ACTION_INTENT,
    basis.decidedAt,
    pins,
    source.event_id,
    intent,
  );
  const payloadHash = sha256Hex(
    canonicalJson({
      decision_id: id,
      decision_event_id: decisionEnvelope.event_id,
      intent_event_id: intentEnvelope.event_id,
      idempotency_key: idempotencyKey,
      action_kind: actionKind,
      reason_codes: decision.reason_codes,
      context_status: basis.contextStatus,
      registry_outcome: basis.registryOutcome,
      bundle_ref: basis.bundleRef,
      source_event: response.source_event,
      pins,
    }),
  );
  return { decisionId: id, envelopes: [decisionEnvelope, intentEnvelope], payloadHash };
}
