import { actionId, type RtdlPins } from '../../../lib/contracts/decision-lane.ts';
import { DECISION_LOG_TOPIC, type DecisionLogBusRecord } from '../../../lib/contracts/decision-log.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';

/**
 * Decision-lane events as the decision fabric and the action layer publish them (payloads that parse as their
 * contracts), and the bus records the decision log reads: one decision_id's decision, intent and outcome, numbered
 * offsets on fp.bus.rtdl.v1. Shared by the unit and integration tests of the decision log.
 */

export const RUN = 'platform_20261207T100000Z';
export const OTHER_RUN = 'platform_20261207T090000Z';
export const SCENARIO_RUN = '2'.repeat(32);
export const RUN_CONFIG_DIGEST = 'c'.repeat(64);

export const pinsOf = (platformRunId = RUN, overrides: Partial<RtdlPins> = {}): RtdlPins => ({
  platform_run_id: platformRunId,
  scenario_run_id: SCENARIO_RUN,
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
  ...overrides,
});

const hex32 = (seed: string) => sha256Hex(seed).slice(0, 32);
const ts = (second: number) => `2026-12-07T10:00:${String(second).padStart(2, '0')}.000000Z`;

/** A decision id of a source event (any 32 hex will do for the decision log). */
export const decisionIdOf = (name: string) => hex32(`decision:${name}`);

export interface LaneEventOptions {
  pins?: RtdlPins;
  actionKind?: string;
  runConfigDigest?: string;
  /** Changes the payload (and so its hash) without changing any id. */
  variant?: string;
  second?: number;
  status?: 'EXECUTED' | 'DENIED' | 'FAILED';
}

const envelope = (
  eventId: string,
  eventType: string,
  second: number,
  pins: RtdlPins,
  payload: Record<string, unknown>,
) => ({
  event_id: eventId,
  event_type: eventType,
  schema_version: 'v1',
  ts_utc: ts(second),
  ...pins,
  producer: eventType === 'action_outcome' ? 'action_layer' : 'decision_fabric',
  payload,
});

export function decisionEnvelope(decisionId: string, o: LaneEventOptions = {}) {
  const pins = o.pins ?? pinsOf();
  const second = o.second ?? 1;
  return envelope(hex32(`decision-event:${decisionId}`), 'decision_response', second, pins, {
    decision_id: decisionId,
    decision_kind: 'fraud_decision_v0',
    bundle_ref: { bundle_id: 'd'.repeat(64), bundle_version: 'r1', registry_ref: 'registry://rules/r1' },
    snapshot_hash: 'e'.repeat(64),
    graph_version: null,
    eb_offset_basis: null,
    degrade_posture: {
      mode: 'NORMAL',
      capabilities_mask: { action_posture: 'NORMAL' },
      policy_rev: { revision: 'dl.policy.v0@r1' },
      posture_seq: 3,
      decided_at_utc: ts(0),
      reason: 'STORE',
    },
    pins,
    decided_at_utc: ts(second),
    policy_rev: { policy_id: 'df.policy', revision: 'r1' },
    run_config_digest: o.runConfigDigest ?? RUN_CONFIG_DIGEST,
    source_event: {
      event_id: `source-${decisionId}`,
      event_type: 's3_event_stream_with_fraud_6B',
      ts_utc: ts(0),
      origin_offset: {
        topic: 'fp.bus.traffic.fraud.v1',
        partition: 0,
        offset: '100',
        offset_kind: 'kinesis_sequence',
      },
      eb_ref: {
        topic: 'fp.bus.traffic.fraud.v1',
        partition: 0,
        offset: '100',
        offset_kind: 'kinesis_sequence',
      },
    },
    decision: {
      action_kind: o.actionKind ?? 'STEP_UP',
      context_status: 'CONTEXT_READY',
      registry_outcome: 'RESOLVED',
      context_evidence_digest: 'f'.repeat(64),
    },
    reason_codes: o.variant ? [`AMOUNT_HIGH:${o.variant}`] : ['AMOUNT_HIGH'],
  });
}

export function intentEnvelope(decisionId: string, o: LaneEventOptions = {}) {
  const pins = o.pins ?? pinsOf();
  const kind = o.actionKind ?? 'STEP_UP';
  return envelope(hex32(`intent-event:${decisionId}:${kind}`), 'action_intent', o.second ?? 2, pins, {
    action_id: actionId(decisionId, kind),
    decision_id: decisionId,
    action_kind: kind,
    idempotency_key: hex32(`idempotency:${decisionId}:${kind}`),
    pins,
    requested_at_utc: ts(o.second ?? 2),
    actor_principal: 'SYSTEM::decision_fabric',
    origin: 'DF',
    policy_rev: { policy_id: 'df.policy', revision: 'r1' },
    run_config_digest: o.runConfigDigest ?? RUN_CONFIG_DIGEST,
    reason_ref: o.variant ? `decision://${decisionId}#${o.variant}` : `decision://${decisionId}`,
    action_payload: {
      source_event_id: `source-${decisionId}`,
      source_event_type: 's3_event_stream_with_fraud_6B',
      action_posture: 'NORMAL',
    },
  });
}

export function outcomeEnvelope(decisionId: string, o: LaneEventOptions = {}) {
  const pins = o.pins ?? pinsOf();
  const kind = o.actionKind ?? 'STEP_UP';
  const outcomeId = hex32(`outcome:${decisionId}:${kind}`);
  const status = o.status ?? 'EXECUTED';
  const policyRev = { policy_id: 'al.authz', revision: 'r1', content_digest: '9'.repeat(64) };
  return envelope(outcomeId, 'action_outcome', o.second ?? 3, pins, {
    outcome_id: outcomeId,
    decision_id: decisionId,
    action_id: actionId(decisionId, kind),
    action_kind: kind,
    status,
    idempotency_key: hex32(`idempotency:${decisionId}:${kind}`),
    actor_principal: 'SYSTEM::decision_fabric',
    origin: 'DF',
    authz_policy_rev: policyRev,
    run_config_digest: o.runConfigDigest ?? RUN_CONFIG_DIGEST,
    pins,
    completed_at_utc: ts(o.second ?? 3),
    attempt_seq: 1,
    reason: o.variant ? `NOOP_COMMITTED:${o.variant}` : 'NOOP_COMMITTED',
    outcome_payload: {
      terminal_state: status,
      governance: {
        policy_rev: policyRev,
        execution_profile_ref: 'policy://al.authz@r1#mode=NORMAL',
        actor_principal: 'SYSTEM::decision_fabric',
        origin: 'DF',
      },
    },
  });
}

/** A bus record of fp.bus.rtdl.v1 at `offset` (partition 0 unless told). */
export const busRecord = (
  offset: number | string,
  envelopeValue: unknown,
  at: { topic?: string; partition?: number } = {},
): DecisionLogBusRecord => ({
  topic: at.topic ?? DECISION_LOG_TOPIC,
  partition: at.partition ?? 0,
  offset: String(offset),
  offset_kind: 'kinesis_sequence',
  published_at_utc: '2026-12-07T10:00:05.000Z',
  envelope: envelopeValue,
});
